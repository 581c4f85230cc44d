// The targets must have the model output's width.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<10, frost::softmax>>;

int main() {
  net m = net::init(1);
  frost::matrix<float, 4> x(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  frost::matrix<float, 5> y(2);
#else
  frost::matrix<float, 10> y(2);
#endif
  auto [loss, grads] = frost::value_and_grad(m, frost::categorical_crossentropy{}, x, y);
  (void)grads;
  return loss >= 0.f ? 0 : 1;
}
