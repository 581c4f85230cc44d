// reduce_sum has no target: value_and_grad(model, reduce_sum{}, x).
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2>>;

int main() {
  net m = net::init(1);
  frost::matrix<float, 4> x(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  frost::matrix<float, 2> y(2);
  auto [loss, grads] = frost::value_and_grad(m, frost::reduce_sum{}, x, y);
#else
  auto [loss, grads] = frost::value_and_grad(m, frost::reduce_sum{}, x);
#endif
  (void)grads;
  return loss == 0.f ? 0 : 1;
}
