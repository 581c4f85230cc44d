// categorical_accuracy compares each output with a one-hot target: integer labels do not fit it.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<3, frost::softmax>>;

int main() {
  net m = net::init(1);
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 2);
  frost::matrix<float, 4> x(2);
  frost::matrix<int, 1> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto h = frost::fit(tr, x, y, {.batch_size = 2, .verbose = 0}, frost::categorical_accuracy{});
#else
  auto h = frost::fit(tr, x, y, {.batch_size = 2, .verbose = 0}, frost::sparse_categorical_accuracy{});
#endif
  return h.size() == 1 ? 0 : 1;
}
