// An unfreeze_at stage re-types the trainer; a distributed trainer cannot be re-typed in the
// middle of fit, so each stage is its own fit with its own distributed trainer.
#include <frost/frost.hpp>
#include <frost/distributed/trainer.hpp>

#include <utility>

using net = frost::sequential<frost::input<4>, frost::dense<3, frost::relu>, frost::dense<2, frost::softmax>>;

int main(int argc, char** argv) {
  frost::mpi::environment mpi(argc, argv);
  auto m = frost::freeze<0>(net::init(1));
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 2, frost::keep_gradients);
  frost::distributed dist(tr, frost::mpi::communicator::world());
  frost::matrix<float, 4> x(2);
  frost::matrix<int, 1> y(2);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto r = frost::fit(std::move(dist), x, y, {.epochs = 2, .batch_size = 2, .verbose = 0}, frost::unfreeze_at<0>{.epoch = 1});
  return r.history.size() == 2 ? 0 : 1;
#else
  auto h = frost::fit(dist, x, y, {.epochs = 2, .batch_size = 2, .verbose = 0});
  return h.size() == 2 ? 0 : 1;
#endif
}
