// An unfreeze_at stage re-types the model and the trainer, which fit then returns: it takes the
// trainer by std::move.
#include <frost/frost.hpp>

#include <utility>

using net = frost::sequential<frost::input<4>, frost::dense<3, frost::relu>, frost::dense<2, frost::softmax>>;

int main() {
  auto m = frost::freeze<0>(net::init(1));
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 2);
  frost::matrix<float, 4> x(2);
  frost::matrix<int, 1> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto r = frost::fit(tr, x, y, {.epochs = 2, .batch_size = 2, .verbose = 0}, frost::unfreeze_at<0>{.epoch = 1});
#else
  auto r = frost::fit(std::move(tr), x, y, {.epochs = 2, .batch_size = 2, .verbose = 0}, frost::unfreeze_at<0>{.epoch = 1});
#endif
  return r.history.size() == 2 ? 0 : 1;
}
