// The demo: transfer learning on the UCI handwritten digits (data/digits.csv.gz, CC BY 4.0).
//  1. Train a 64-64-32-10 MLP with fit, every layer trainable.
//  2. Keep its feature layers, freeze them, put a fresh head on top and fine-tune only the head.
// Prints fit's progress, both summaries, test accuracies, time per training step frozen vs fully
// trainable, and the bytes the frozen model does not need; writes both histories (CSV) and their
// curves side by side (digits_history.png, and a text plot here) when gnuplot is installed.
//
// usage: transfer_digits <digits.csv> [--quick]    (files are written in the working directory)
#include "digits.hpp"

#include <frost/frost.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace {

using namespace frost;
using namespace digits_demo;
using Net = sequential<input<64>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
constexpr std::size_t batch = 32;
constexpr std::size_t warm_up = 20;  // steps of each phase left out of its time per step

}  // namespace

int main(int argc, char** argv) {
  auto s = start("transfer_digits", argc, argv);
  if (!s) return 2;
  auto& [samples, x_train, x_test, y_train, y_test, epochs] = *s;
  std::printf("UCI digits: %zu samples, %zu for training (the last fifth of them validates), %zu for testing\n\n",
              samples, x_train.rows(), x_test.rows());
  // Keras's model.fit(x, y, epochs, batch_size=32, validation_split=0.2), with a progress bar on a terminal.
  const fit_options options{.epochs = epochs, .batch_size = batch, .validation_split = 0.2f, .seed = 1, .verbose = 1};

  // 1. Every layer trainable.
  Net net = Net::init(1);
  summary(net);
  auto full_trainer = make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, batch);
  step_timer full_time;
  const history h_full = fit(full_trainer, x_train, y_train, options, accuracy{}, full_time);
  const double full_acc = evaluate(full_trainer, x_test, y_test, {}, accuracy{})["accuracy"];
  const double full_us = full_time.median(warm_up);
  std::printf("all trainable: test accuracy %.2f %%, %.2f us per training step (batch %zu, median; epoch 1 %.2f, "
              "epoch %zu %.2f)\n\n",
              100 * full_acc, full_us, batch, h_full["step_us"].front(), h_full.size(), h_full["step_us"].back());
  const std::size_t full_bytes = full_trainer.allocated_bytes();

  // 2. Freeze the feature layers, put a fresh head on, fine-tune the head only.
  auto tuned = freeze<0, 1>(std::move(net));
  const Net fresh = Net::init(99);
  std::ranges::copy(fresh.layer<2>().kernel(), tuned.layer<2>().kernel().begin());
  std::ranges::fill(tuned.layer<2>().bias(), 0.f);
  auto head_trainer = make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, batch);
  std::printf("fresh head on frozen features: test accuracy %.2f %%\n",
              100 * evaluate(head_trainer, x_test, y_test, {}, accuracy{})["accuracy"]);
  summary(tuned);
  step_timer head_time;
  const history h_head = fit(head_trainer, x_train, y_train, options, accuracy{}, head_time);
  const double head_acc = evaluate(head_trainer, x_test, y_test, {}, accuracy{})["accuracy"];
  const double head_us = head_time.median(warm_up);
  std::printf("layers 0, 1 frozen: test accuracy %.2f %%, %.2f us per training step (batch %zu, median; epoch 1 "
              "%.2f, epoch %zu %.2f)\n\n",
              100 * head_acc, head_us, batch, h_head["step_us"].front(), h_head.size(), h_head["step_us"].back());

  const std::size_t head_bytes = head_trainer.allocated_bytes();
  std::printf("time per step, frozen / all trainable: %.2f (median over each phase's steps after the first %zu; a\n"
              "step here is what fit does for one batch: copy the shuffled rows, train, update the accuracy)\n",
              head_us / full_us, warm_up);
  // The update is fused into backward: a trainer stores no gradient, only Adam's state and its workspace.
  std::printf("trainer memory (adam state + workspace for batch %zu; no gradients, the update is fused): %zu bytes "
              "all trainable, %zu bytes frozen, %zu bytes saved\n\n",
              batch, full_bytes, head_bytes, full_bytes - head_bytes);

  // 3. Both histories: CSV files (Keras's CSVLogger) and, with gnuplot, the curves side by side.
  to_csv(h_full, "digits_history_all_trainable.csv");
  to_csv(h_head, "digits_history_frozen_base.csv");
  std::printf("histories: %s, %s\n", std::filesystem::absolute("digits_history_all_trainable.csv").c_str(),
              std::filesystem::absolute("digits_history_frozen_base.csv").c_str());
  if (gnuplot_available()) {
    plot_history("digits_history.png", {{"all trainable", &h_full}, {"frozen base", &h_head}}, {.metrics = {"loss", "accuracy"}});
    plot_history("-", {{"all trainable", &h_full}, {"frozen base", &h_head}}, {.metrics = {"loss", "accuracy"}});
    std::printf("training curves: %s\n", std::filesystem::absolute("digits_history.png").c_str());
  } else {
    std::printf("no plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
  }
  // Sanity for the ctest run: both phases must learn this easy data set.
  return full_acc >= 0.9 && head_acc >= 0.9 ? 0 : 1;
}
