// round has no derivative: a loss built on it cannot be trained.
#include <frost/frost.hpp>

using namespace frost;
using net = sequential<input<4>, dense<2>>;

int main() {
  net m = net::init(1);
  matrix<float, 4> x(2);
  matrix<float, 2> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  constexpr auto loss = abs(round(_y_pred) - _y_true);
#else
  constexpr auto loss = abs(_y_pred - _y_true);
#endif
  return value_and_grad(m, loss, x, y).loss >= 0.f ? 0 : 1;
}
