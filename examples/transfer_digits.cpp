// The demo: transfer learning on the UCI handwritten digits (data/digits.csv.gz, CC BY 4.0).
//  1. Train a 64-64-32-10 MLP, every layer trainable.
//  2. Keep its feature layers, freeze them, put a fresh head on top and fine-tune only the head.
// Prints both summaries, test accuracies, time per training step frozen vs fully trainable, and
// the bytes the frozen model does not need.
//
// usage: transfer_digits <digits.csv> [--quick]
#include "digits.hpp"

#include <frost/frost.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace {

using namespace frost;
using namespace digits_demo;
using Net = sequential<input<64>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
constexpr std::size_t batch = 32;

}  // namespace

int main(int argc, char** argv) {
  auto s = start("transfer_digits", argc, argv);
  if (!s) return 2;
  auto& [d, train_ids, test_ids, epochs, rng] = *s;
  std::printf("UCI digits: %zu samples, %zu for training, %zu for testing\n\n", d.size(), train_ids.size(),
              test_ids.size());

  // 1. Every layer trainable.
  Net net = Net::init(1);
  summary(net);
  auto full_trainer = make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, batch);
  const double full_us = train<64>(full_trainer, d, train_ids, epochs, batch, rng).mean();
  const double full_acc = accuracy<64>(net, d, test_ids);
  std::printf("all trainable: test accuracy %.2f %%, %.2f us per training step (batch %zu)\n\n", 100 * full_acc,
              full_us, batch);
  const std::size_t full_bytes = full_trainer.allocated_bytes();

  // 2. Freeze the feature layers, put a fresh head on, fine-tune the head only.
  auto tuned = freeze<0, 1>(std::move(net));
  const Net fresh = Net::init(99);
  std::copy(fresh.layer<2>().kernel().begin(), fresh.layer<2>().kernel().end(), tuned.layer<2>().kernel().begin());
  std::fill(tuned.layer<2>().bias().begin(), tuned.layer<2>().bias().end(), 0.f);
  std::printf("fresh head on frozen features: test accuracy %.2f %%\n", 100 * accuracy<64>(tuned, d, test_ids));
  summary(tuned);
  auto head_trainer = make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, batch);
  const double head_us = train<64>(head_trainer, d, train_ids, epochs, batch, rng).mean();
  const double head_acc = accuracy<64>(tuned, d, test_ids);
  std::printf("layers 0, 1 frozen: test accuracy %.2f %%, %.2f us per training step (batch %zu)\n\n", 100 * head_acc,
              head_us, batch);

  const std::size_t head_bytes = head_trainer.allocated_bytes();
  std::printf("time per step, frozen / all trainable: %.2f\n", head_us / full_us);
  std::printf("trainer memory (gradients + adam state + workspace for batch %zu): %zu bytes all trainable, "
              "%zu bytes frozen, %zu bytes saved\n",
              batch, full_bytes, head_bytes, full_bytes - head_bytes);
  // Sanity for the ctest run: both phases must learn this easy data set.
  return full_acc >= 0.9 && head_acc >= 0.9 ? 0 : 1;
}
