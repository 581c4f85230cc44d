// Crossentropy losses take probabilities: the last layer must end in softmax or sigmoid.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<4>, frost::dense<10, frost::relu>>;
#else
using net = frost::sequential<frost::input<4>, frost::dense<10, frost::softmax>>;
#endif

int main() {
  net m = net::init(1);
  frost::matrix<float, 4> x(2);
  frost::matrix<float, 10> y(2);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 2);
  return tr.step(x, y) >= 0.f ? 0 : 1;
}
