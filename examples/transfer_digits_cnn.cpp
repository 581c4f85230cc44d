// The convolutional demo: transfer learning on the UCI handwritten digits (data/digits.csv.gz,
// CC BY 4.0), each sample an 8×8×1 image.
//  1. Train a small CNN (two 3×3 convolutions with batch normalization, max pooling, dropout and
//     a softmax head), every layer trainable.
//  2. Keep its convolutional base, freeze it (the convolutions and batch normalizations), put a
//     fresh head on top and fine-tune only the head.
// Both phases train with fit. Prints fit's progress, both summaries, test accuracies, time per
// training step frozen vs fully trainable, the bytes the frozen model does not need, and checks
// that the frozen batch normalizations' moving statistics do not move while the head trains
// (Keras's frozen semantics: inference mode). Writes both histories (CSV) and, when gnuplot is
// installed, their curves side by side (digits_cnn_history.png).
//
// usage: transfer_digits_cnn <digits.csv> [--quick]    (files are written in the working directory)
#include "digits.hpp"

#include <frost/frost.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

namespace {

using namespace frost;
using namespace digits_demo;
// Layers count from 0 without the input: 0 conv2d, 1 batch_normalization, 2 relu, 3 conv2d,
// 4 batch_normalization, 5 relu, 6 max_pooling2d, 7 flatten, 8 dropout, 9 dense (the head).
using Net = sequential<input<8, 8, 1>, conv2d<16, 3, 3>, batch_normalization<>, activation<relu>, conv2d<32, 3, 3>,
                       batch_normalization<>, activation<relu>, max_pooling2d<2, 2>, flatten, dropout<0.25f>,
                       dense<10, softmax>>;
constexpr std::size_t head = 9;
constexpr std::size_t batch = 32;
constexpr std::size_t warm_up = 20;  // steps of each phase left out of its time per step

template <class Span>
std::vector<float> copy_of(const Span& s) {
  return std::vector<float>(s.begin(), s.end());
}

}  // namespace

int main(int argc, char** argv) {
  // The same split as transfer_digits (digits.hpp): a fifth of the samples held out for testing.
  auto s = start("transfer_digits_cnn", argc, argv);
  if (!s) return 2;
  auto& [samples, x_train, x_test, y_train, y_test, epochs] = *s;
  std::printf("UCI digits as 8x8x1 images: %zu samples, %zu for training (the last fifth of them validates), "
              "%zu for testing\n\n",
              samples, x_train.rows(), x_test.rows());
  const auto images = x_train.view<8, 8, 1>();  // the same samples as 8×8×1 images, no copy
  const auto test_images = x_test.view<8, 8, 1>();
  const fit_options options{.epochs = epochs, .batch_size = batch, .validation_split = 0.2f, .seed = 1, .verbose = 1};

  // 1. Every layer trainable.
  Net net = Net::init(1);
  summary(net);
  auto full_trainer =
      make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, batch, threads{1}, seed{1});
  step_timer full_time;
  const history h_full = fit(full_trainer, images, y_train, options, accuracy{}, full_time);
  const double full_us = full_time.median(warm_up);
  const double full_acc = evaluate(full_trainer, test_images, y_test, {}, accuracy{})["accuracy"];
  std::printf("all trainable: test accuracy %.2f %%, %.1f us per training step (batch %zu, median)\n\n",
              100 * full_acc, full_us, batch);
  const std::size_t full_bytes = full_trainer.allocated_bytes();
  using full_model = decltype(net);

  // 2. Freeze the convolutional base (conv2d and batch_normalization: layers 0, 1, 3, 4), put a
  //    fresh head on, fine-tune the head only.
  auto tuned = freeze<0, 1, 3, 4>(std::move(net));
  using tuned_model = decltype(tuned);
  const Net fresh = Net::init(99);
  std::copy(fresh.layer<head>().kernel().begin(), fresh.layer<head>().kernel().end(),
            tuned.layer<head>().kernel().begin());
  std::fill(tuned.layer<head>().bias().begin(), tuned.layer<head>().bias().end(), 0.f);
  std::printf("fresh head on the frozen convolutional base: test accuracy %.2f %%\n",
              100 * evaluate(tuned, sparse_categorical_crossentropy{}, test_images, y_test, {}, accuracy{})["accuracy"]);
  summary(tuned);
  const std::vector<float> mean1 = copy_of(tuned.layer<1>().moving_mean()),
                           var1 = copy_of(tuned.layer<1>().moving_variance()),
                           mean4 = copy_of(tuned.layer<4>().moving_mean()),
                           var4 = copy_of(tuned.layer<4>().moving_variance()),
                           kernel3 = copy_of(tuned.layer<3>().kernel());
  auto head_trainer =
      make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, batch, threads{1}, seed{2});
  step_timer head_time;
  const history h_head = fit(head_trainer, images, y_train, options, accuracy{}, head_time);
  const double head_us = head_time.median(warm_up);
  const double head_acc = evaluate(head_trainer, test_images, y_test, {}, accuracy{})["accuracy"];
  std::printf("layers 0, 1, 3, 4 frozen: test accuracy %.2f %%, %.1f us per training step (batch %zu, median)\n",
              100 * head_acc, head_us, batch);

  // Keras's frozen batch normalization runs in inference mode: its moving statistics stay put.
  const bool unchanged = mean1 == copy_of(tuned.layer<1>().moving_mean()) &&
                         var1 == copy_of(tuned.layer<1>().moving_variance()) &&
                         mean4 == copy_of(tuned.layer<4>().moving_mean()) &&
                         var4 == copy_of(tuned.layer<4>().moving_variance());
  const bool kernel_unchanged = kernel3 == copy_of(tuned.layer<3>().kernel());
  std::printf("frozen batch normalizations' moving mean and variance after fine-tuning: %s\n",
              unchanged ? "unchanged" : "CHANGED");
  std::printf("frozen conv2d kernels after fine-tuning: %s\n\n", kernel_unchanged ? "unchanged" : "CHANGED");

  const std::size_t head_bytes = head_trainer.allocated_bytes();
  // Adam's state exists for trainable parameters only; the trainers store no gradient at all
  // (the update is fused into backward).
  constexpr std::size_t full_state = optimizer<full_model, adam>::state_size * sizeof(float);
  constexpr std::size_t head_state = optimizer<tuned_model, adam>::state_size * sizeof(float);
  static_assert(decltype(full_trainer)::gradient_bytes == 0 && decltype(head_trainer)::gradient_bytes == 0);
  std::printf("time per step, frozen / all trainable: %.2f (a step here is what fit does for one batch: copy the\n"
              "shuffled rows, train, update the accuracy)\n",
              head_us / full_us);
  std::printf("adam state: %zu bytes all trainable, %zu bytes frozen, %zu bytes saved\n", full_state,
              head_state, full_state - head_state);
  std::printf("trainer memory (adam state, workspace for batch %zu and update scratch; no gradients, the update "
              "is fused): %zu bytes all trainable, %zu bytes frozen, %zu bytes saved\n",
              batch, full_bytes, head_bytes, full_bytes - head_bytes);

  to_csv(h_full, "digits_cnn_history_all_trainable.csv");
  to_csv(h_head, "digits_cnn_history_frozen_base.csv");
  std::printf("\nhistories: %s, %s\n", std::filesystem::absolute("digits_cnn_history_all_trainable.csv").c_str(),
              std::filesystem::absolute("digits_cnn_history_frozen_base.csv").c_str());
  if (gnuplot_available()) {
    plot_history("digits_cnn_history.png", {{"all trainable", &h_full}, {"frozen base", &h_head}},
                 {.metrics = {"loss", "accuracy"}});
    std::printf("training curves: %s\n", std::filesystem::absolute("digits_cnn_history.png").c_str());
  }
  // Sanity for the ctest run: both phases must learn this easy data set, and frozen must mean frozen.
  return full_acc >= 0.9 && head_acc >= 0.9 && unchanged && kernel_unchanged ? 0 : 1;
}
