// Data-parallel training on the UCI handwritten digits (data/digits.csv.gz, CC BY 4.0), one
// process per rank under MPI:
//   mpirun -np 2 build/gcc/examples/distributed_digits build/gcc/examples/digits.csv --quick
//  1. Train the 64-64-32-10 MLP with every layer trainable: each step sums every parameter's
//     gradient over the ranks.
//  2. Freeze the two feature layers, put a fresh head on, fine-tune only the head: each step now
//     sums the head's gradients only, because frozen parameters have none.
// Every rank reads the same data and takes its shard of each global batch; rank 0 prints.
//
// usage: distributed_digits <digits.csv> [--quick]
#include "digits.hpp"

#include <frost/distributed/trainer.hpp>
#include <frost/frost.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <utility>
#include <vector>

namespace {

using namespace frost;
using Net = sequential<input<64>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
constexpr std::size_t global_batch = 64;

// Rows `ids` of (x, y), in that order, into the batch (xb, yb).
void gather_rows(const matrix<float, 64>& x, const matrix<int, 1>& y, const std::vector<std::size_t>& ids,
                 matrix<float, 64>& xb, matrix<int, 1>& yb) {
  if (xb.rows() != ids.size()) xb = matrix<float, 64>(ids.size()), yb = matrix<int, 1>(ids.size());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::ranges::copy(x.row(ids[r]), xb.row(r).begin());
    yb(r, 0) = y(ids[r], 0);
  }
}

// Epochs of steps over the training set, in an order every rank draws alike from `seed`.
template <class Dist>
void train(Dist& dist, const matrix<float, 64>& x, const matrix<int, 1>& y, std::size_t epochs, std::uint64_t seed) {
  random_stream rng(seed);
  std::vector<std::size_t> ids(x.rows());
  std::iota(ids.begin(), ids.end(), std::size_t(0));
  matrix<float, 64> xb;
  matrix<int, 1> yb;
  for (std::size_t e = 0; e < epochs; ++e) {
    digits_demo::shuffle(ids, rng);
    double loss = 0;
    std::size_t steps = 0;
    for (std::size_t first = 0; first + global_batch <= ids.size(); first += global_batch, ++steps) {
      const std::vector<std::size_t> batch(ids.begin() + std::ptrdiff_t(first),
                                           ids.begin() + std::ptrdiff_t(first + global_batch));
      gather_rows(x, y, batch, xb, yb);
      loss += dist.step(xb, yb);  // the global batch; this rank trains on its shard of it
    }
    if (dist.rank() == 0 && (e == 0 || e + 1 == epochs))
      std::printf("  epoch %zu: loss %.4f (mean over %zu global batches of %zu)\n", e + 1, loss / double(steps),
                  steps, global_batch);
  }
}

template <class Trainer>
double accuracy_on(Trainer& tr, const matrix<float, 64>& x, const matrix<int, 1>& y) {
  return evaluate(tr, x, y, {}, accuracy{})["accuracy"];
}

}  // namespace

int main(int argc, char** argv) {
  mpi::environment mpi_env(argc, argv);
  const auto world = mpi::communicator::world();
  auto s = digits_demo::start("distributed_digits", argc, argv);
  if (!s) return 2;
  auto& [samples, x_train, x_test, y_train, y_test, epochs] = *s;
  const bool root = world.rank() == 0;
  if (root)
    std::printf("UCI digits: %zu samples, %zu for training, on %zu processes: global batch %zu, %zu rows a rank\n\n",
                samples, x_train.rows(), world.size(), global_batch, global_batch / world.size());

  // 1. Every layer trainable. Each rank makes its own model; the distributed trainer starts them
  // all from rank 0's weights.
  Net net = Net::init(1 + world.rank());
  auto full = make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, global_batch,
                           keep_gradients);
  distributed dist_full(full, world);
  if (root) std::printf("all trainable (%zu parameters):\n", Net::trainable_param_count);
  train(dist_full, x_train, y_train, epochs, 1);
  const double full_acc = accuracy_on(full, x_test, y_test);

  // 2. Freeze the features, fresh head, fine-tune the head across the ranks.
  auto tuned = freeze<0, 1>(std::move(net));
  const Net fresh = Net::init(99);
  std::ranges::copy(fresh.layer<2>().kernel(), tuned.layer<2>().kernel().begin());
  std::ranges::fill(tuned.layer<2>().bias(), 0.f);
  auto head = make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, global_batch,
                           keep_gradients);
  distributed dist_head(head, world);
  if (root) std::printf("layers 0, 1 frozen (%zu trainable parameters):\n", decltype(tuned)::trainable_param_count);
  train(dist_head, x_train, y_train, epochs, 2);
  const double head_acc = accuracy_on(head, x_test, y_test);

  if (root) {
    std::printf("\ntest accuracy: %.2f %% all trainable, %.2f %% after fine-tuning the head\n", 100 * full_acc,
                100 * head_acc);
    // What each rank sent into the gradient sums per step: the trainable parameters' bytes.
    const auto per_step = [](const auto& d, std::size_t steps) { return d.gradient_bytes_sent() / steps; };
    const std::size_t steps = epochs * (x_train.rows() / global_batch);
    std::printf("gradient bytes a rank sends per step: %zu all trainable, %zu with the frozen base\n",
                std::size_t(per_step(dist_full, steps)), std::size_t(per_step(dist_head, steps)));
  }
  return head_acc > 0.8 ? 0 : 1;
}
