// fit's extra arguments are metrics, callbacks, validation_data or unfreeze_at stages: anything
// else is named, with its position, in the error.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2, frost::softmax>>;

int main() {
  net m = net::init(1);
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 2);
  frost::matrix<float, 4> x(2);
  frost::matrix<int, 1> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto h = frost::fit(tr, x, y, {.batch_size = 2, .verbose = 0}, frost::accuracy{}, 42);
#else
  auto h = frost::fit(tr, x, y, {.batch_size = 2, .verbose = 0}, frost::accuracy{}, [](auto&) {});
#endif
  return h.size() == 1 ? 0 : 1;
}
