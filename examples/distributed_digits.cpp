// Data-parallel training on the UCI handwritten digits (data/digits.csv.gz, CC BY 4.0), one
// process per rank under MPI:
//   mpirun -np 2 build/gcc/examples/distributed_digits build/gcc/examples/digits.csv --quick
//  1. Train the 64-64-32-10 MLP with every layer trainable: each step sums every parameter's
//     gradient over the ranks.
//  2. Freeze the two feature layers, put a fresh head on, fine-tune only the head: each step now
//     sums the head's gradients only, because frozen parameters have none.
// Every rank reads the same data and runs the same fit; each step trains on its shard of the
// global batch, the metrics are summed over the ranks, and rank 0 alone prints.
//
// usage: distributed_digits <digits.csv> [--quick]
#include "digits.hpp"

#include <frost/distributed/trainer.hpp>
#include <frost/frost.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace {

using namespace frost;
using Net = sequential<input<64>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
constexpr std::size_t global_batch = 64;

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
  // Keras's model.fit(x, y, epochs, batch_size=64), the same call as with one process.
  const fit_options options{.epochs = epochs, .batch_size = global_batch, .seed = 1, .verbose = 2};
  fit(dist_full, x_train, y_train, options, accuracy{});
  const double full_acc = evaluate(dist_full, x_test, y_test, {}, accuracy{})["accuracy"];

  // 2. Freeze the features, fresh head, fine-tune the head across the ranks.
  auto tuned = freeze<0, 1>(std::move(net));
  const Net fresh = Net::init(99);
  std::ranges::copy(fresh.layer<2>().kernel(), tuned.layer<2>().kernel().begin());
  std::ranges::fill(tuned.layer<2>().bias(), 0.f);
  auto head = make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, global_batch,
                           keep_gradients);
  distributed dist_head(head, world);
  if (root) std::printf("layers 0, 1 frozen (%zu trainable parameters):\n", decltype(tuned)::trainable_param_count);
  fit(dist_head, x_train, y_train, options, accuracy{});
  const double head_acc = evaluate(dist_head, x_test, y_test, {}, accuracy{})["accuracy"];

  if (root) {
    std::printf("\ntest accuracy: %.2f %% all trainable, %.2f %% after fine-tuning the head\n", 100 * full_acc,
                100 * head_acc);
    // What each rank sent into the gradient sums per step: the trainable parameters' bytes.
    const auto per_step = [](const auto& d, std::size_t steps) { return d.gradient_bytes_sent() / steps; };
    const std::size_t steps = epochs * ((x_train.rows() + global_batch - 1) / global_batch);
    std::printf("gradient bytes a rank sends per step: %zu all trainable, %zu with the frozen base\n",
                std::size_t(per_step(dist_full, steps)), std::size_t(per_step(dist_head, steps)));
  }
  return head_acc > 0.8 ? 0 : 1;
}
