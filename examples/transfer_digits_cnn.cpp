// The convolutional demo: transfer learning on the UCI handwritten digits (data/digits.csv.gz,
// CC BY 4.0), each sample an 8×8×1 image.
//  1. Train a small CNN (two 3×3 convolutions with batch normalization, max pooling, dropout and
//     a softmax head), every layer trainable.
//  2. Keep its convolutional base, freeze it (the convolutions and batch normalizations), put a
//     fresh head on top and fine-tune only the head.
// Prints both summaries, test accuracies, time per training step frozen vs fully trainable, the
// bytes the frozen model does not need, and checks that the frozen batch normalizations' moving
// statistics do not move while the head trains (Keras's frozen semantics: inference mode).
//
// usage: transfer_digits_cnn <digits.csv> [--quick]
#include <frost/frost.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace frost;
// Layers count from 0 without the input: 0 conv2d, 1 batch_normalization, 2 relu, 3 conv2d,
// 4 batch_normalization, 5 relu, 6 max_pooling2d, 7 flatten, 8 dropout, 9 dense (the head).
using Net = sequential<input<8, 8, 1>, conv2d<16, 3, 3>, batch_normalization<>, activation<relu>, conv2d<32, 3, 3>,
                       batch_normalization<>, activation<relu>, max_pooling2d<2, 2>, flatten, dropout<0.25f>,
                       dense<10, softmax>>;
constexpr std::size_t head = 9;
constexpr std::size_t batch = 32;
constexpr std::size_t warm_up = 20;  // steps of each phase left out of its time per step

struct digits {
  std::vector<float> pixels;  // n × 64 (8 rows of 8 pixels), scaled to [0, 1]
  std::vector<int> labels;
  std::size_t size() const { return labels.size(); }
};

digits read_digits(const char* path) {
  std::ifstream in(path);
  if (!in) throw io_error(std::string("transfer_digits_cnn: \"") + path + "\": cannot open");
  digits d;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    std::vector<float> values;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) values.push_back(std::stof(cell));
    if (values.size() != 65)
      throw format_error(std::string("transfer_digits_cnn: \"") + path + "\": line " + std::to_string(line_no) +
                         ": expected 65 values (64 pixels and a label), got " + std::to_string(values.size()));
    for (std::size_t j = 0; j < 64; ++j) d.pixels.push_back(values[j] / 16.f);
    d.labels.push_back(static_cast<int>(values[64]));
  }
  return d;
}

// Fills (x, y) with samples order[first .. first + x.rows()). The 64 features of a row are the
// image row by row, so `x.view<8, 8, 1>()` is the batch as 8×8×1 images, without a copy.
void gather(const digits& d, const std::vector<std::size_t>& order, std::size_t first, matrix<float, 64>& x,
            matrix<int, 1>& y) {
  for (std::size_t r = 0; r < x.rows(); ++r) {
    const std::size_t i = order[first + r];
    std::memcpy(&x(r, 0), &d.pixels[i * 64], 64 * sizeof(float));
    y(r, 0) = d.labels[i];
  }
}

// Inference: batch normalization uses its moving statistics, dropout passes values unchanged.
template <class Model>
double accuracy(const Model& m, const digits& d, const std::vector<std::size_t>& ids) {
  matrix<float, 64> x(ids.size());
  matrix<int, 1> y(ids.size());
  gather(d, ids, 0, x, y);
  const auto p = m(x.view<8, 8, 1>());
  std::size_t right = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto row = p.row(i);
    right += static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin()) ==
             static_cast<std::size_t>(y(i, 0));
  }
  return double(right) / double(ids.size());
}

// Trains for `epochs` over `train`, reshuffling each epoch; returns the median microseconds per
// step over the steps after the first `warm_up`.
template <class Trainer>
double train(Trainer& tr, const digits& d, std::vector<std::size_t> train_ids, int epochs, random_stream& rng) {
  matrix<float, 64> x(batch);
  matrix<int, 1> y(batch);
  std::vector<double> us;
  std::size_t steps = 0;
  for (int e = 0; e < epochs; ++e) {
    for (std::size_t i = train_ids.size() - 1; i > 0; --i) std::swap(train_ids[i], train_ids[rng.next() % (i + 1)]);
    for (std::size_t first = 0; first + batch <= train_ids.size(); first += batch) {
      gather(d, train_ids, first, x, y);
      const auto t0 = std::chrono::steady_clock::now();
      tr.step(x.view<8, 8, 1>(), y);
      const auto t1 = std::chrono::steady_clock::now();
      if (steps++ >= warm_up) us.push_back(1e6 * std::chrono::duration<double>(t1 - t0).count());
    }
  }
  std::nth_element(us.begin(), us.begin() + std::ptrdiff_t(us.size() / 2), us.end());
  return us[us.size() / 2];
}

template <class Span>
std::vector<float> copy_of(const Span& s) {
  return std::vector<float>(s.begin(), s.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <digits.csv> [--quick]\n", argv[0]);
    return 2;
  }
  const bool quick = argc > 2 && std::string(argv[2]) == "--quick";
  const int epochs = quick ? 15 : 40;
  const digits d = read_digits(argv[1]);

  // The same split as transfer_digits: a fifth of the samples held out for testing.
  random_stream rng(2024);
  std::vector<std::size_t> ids(d.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  for (std::size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng.next() % (i + 1)]);
  const std::size_t n_test = d.size() / 5;
  const std::vector<std::size_t> test_ids(ids.begin(), ids.begin() + std::ptrdiff_t(n_test));
  const std::vector<std::size_t> train_ids(ids.begin() + std::ptrdiff_t(n_test), ids.end());
  std::printf("UCI digits as 8x8x1 images: %zu samples, %zu for training, %zu for testing\n\n", d.size(),
              train_ids.size(), n_test);

  // 1. Every layer trainable.
  Net net = Net::init(1);
  summary(net);
  auto full_trainer =
      make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, batch, threads{1}, seed{1});
  const double full_us = train(full_trainer, d, train_ids, epochs, rng);
  const double full_acc = accuracy(net, d, test_ids);
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
              100 * accuracy(tuned, d, test_ids));
  summary(tuned);
  const std::vector<float> mean1 = copy_of(tuned.layer<1>().moving_mean()),
                           var1 = copy_of(tuned.layer<1>().moving_variance()),
                           mean4 = copy_of(tuned.layer<4>().moving_mean()),
                           var4 = copy_of(tuned.layer<4>().moving_variance()),
                           kernel3 = copy_of(tuned.layer<3>().kernel());
  auto head_trainer =
      make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, batch, threads{1}, seed{2});
  const double head_us = train(head_trainer, d, train_ids, epochs, rng);
  const double head_acc = accuracy(tuned, d, test_ids);
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
  constexpr std::size_t full_state =
      (gradients<full_model>::size + optimizer<full_model, adam>::state_size) * sizeof(float);
  constexpr std::size_t head_state =
      (gradients<tuned_model>::size + optimizer<tuned_model, adam>::state_size) * sizeof(float);
  std::printf("time per step, frozen / all trainable: %.2f\n", head_us / full_us);
  std::printf("gradients + adam state: %zu bytes all trainable, %zu bytes frozen, %zu bytes saved\n", full_state,
              head_state, full_state - head_state);
  std::printf("trainer memory (gradients + adam state + workspace for batch %zu): %zu bytes all trainable, "
              "%zu bytes frozen, %zu bytes saved\n",
              batch, full_bytes, head_bytes, full_bytes - head_bytes);
  // Sanity for the ctest run: both phases must learn this easy data set, and frozen must mean frozen.
  return full_acc >= 0.9 && head_acc >= 0.9 && unchanged && kernel_unchanged ? 0 : 1;
}
