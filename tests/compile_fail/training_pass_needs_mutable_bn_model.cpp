// A training-mode pass updates batch normalization's moving statistics: the model cannot be const.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4, 4, 1>, frost::conv2d<2, 3, 3>, frost::batch_normalization<>, frost::flatten,
                              frost::dense<2, frost::softmax>>;

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  const net m = net::init(0);
#else
  net m = net::init(0);
#endif
  frost::matrix<float, 4, 4, 1> x(2);
  frost::matrix<float, 2> y(2);
  return frost::value_and_grad(m, frost::categorical_crossentropy{}, x, y).loss >= 0 ? 0 : 1;
}
