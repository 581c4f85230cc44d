// sparse_categorical_crossentropy takes integer class labels.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<3, frost::softmax>>;

int main() {
  net m = net::init(1);
  frost::matrix<float, 4> x(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  frost::matrix<float, 1> labels(2);
#else
  frost::matrix<int, 1> labels(2);
#endif
  auto [loss, grads] = frost::value_and_grad(m, frost::sparse_categorical_crossentropy{}, x, labels);
  (void)grads;
  return loss >= 0.f ? 0 : 1;
}
