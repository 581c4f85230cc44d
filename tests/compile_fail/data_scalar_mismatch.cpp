// A float model takes float targets.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2>>;

int main() {
  net m = net::init(1);
  frost::matrix<float, 4> x(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  frost::matrix<double, 2> y(2);
#else
  frost::matrix<float, 2> y(2);
#endif
  auto [loss, grads] = frost::value_and_grad(m, frost::mean_squared_error{}, x, y);
  (void)grads;
  return loss >= 0.f ? 0 : 1;
}
