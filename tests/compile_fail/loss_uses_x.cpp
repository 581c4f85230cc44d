// A loss expression is a function of _y_true and _y_pred.
#include <frost/frost.hpp>

using namespace frost;
using net = sequential<input<4>, dense<2>>;

int main() {
  net m = net::init(1);
  matrix<float, 4> x(2);
  matrix<float, 2> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  constexpr auto loss = (_y_pred - _x) * (_y_pred - _y_true);
#else
  constexpr auto loss = (_y_pred - _y_true) * (_y_pred - _y_true);
#endif
  return value_and_grad(m, loss, x, y).loss == 0.f ? 0 : 1;
}
