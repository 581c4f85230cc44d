// Calling a model on data whose feature shape is not the model's input shape.
#include <frost/frost.hpp>

int main() {
  using net = frost::sequential<frost::input<100>, frost::dense<10, frost::softmax>>;
  const net m = net::init(0);
#ifdef FROST_EXPECT_COMPILE_ERROR
  frost::matrix<float, 99> x(2);
#else
  frost::matrix<float, 100> x(2);
#endif
  return m(x).rows() == 2 ? 0 : 1;
}
