// floor has no derivative: a gradient cannot flow through it.
#include <frost/frost.hpp>

using namespace frost;

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = sequential<input<4>, dense<3, floor(_x)>, dense<2, softmax>>;
#else
using net = sequential<input<4>, dense<3, _x>, dense<2, softmax>>;
#endif

int main() {
  net m = net::init(1);
  matrix<float, 4> x(2);
  matrix<float, 2> y(2);
  auto tr = make_trainer(m, categorical_crossentropy{}, sgd{}, 2);
  return tr.step(x, y) >= 0.f ? 0 : 1;
}
