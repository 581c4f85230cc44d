// The demo: transfer learning on the UCI handwritten digits (data/digits.csv.gz, CC BY 4.0).
//  1. Train a 64-64-32-10 MLP, every layer trainable.
//  2. Keep its feature layers, freeze them, put a fresh head on top and fine-tune only the head.
// Prints both summaries, test accuracies, time per training step frozen vs fully trainable, and
// the bytes the frozen model does not need.
//
// usage: transfer_digits <digits.csv> [--quick]
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
using Net = sequential<input<64>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
constexpr std::size_t batch = 32;

struct digits {
  std::vector<float> pixels;  // n × 64, scaled to [0, 1]
  std::vector<int> labels;
  std::size_t size() const { return labels.size(); }
};

digits read_digits(const char* path) {
  std::ifstream in(path);
  if (!in) throw io_error(std::string("transfer_digits: \"") + path + "\": cannot open");
  digits d;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    std::vector<float> values;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) values.push_back(std::stof(cell));
    if (values.size() != 65)
      throw format_error(std::string("transfer_digits: \"") + path + "\": line " + std::to_string(line_no) +
                         ": expected 65 values (64 pixels and a label), got " + std::to_string(values.size()));
    for (std::size_t j = 0; j < 64; ++j) d.pixels.push_back(values[j] / 16.f);
    d.labels.push_back(static_cast<int>(values[64]));
  }
  return d;
}

// Fills (x, y) with samples order[first .. first + x.rows()).
void gather(const digits& d, const std::vector<std::size_t>& order, std::size_t first, matrix<float, 64>& x,
            matrix<int, 1>& y) {
  for (std::size_t r = 0; r < x.rows(); ++r) {
    const std::size_t i = order[first + r];
    std::memcpy(&x(r, 0), &d.pixels[i * 64], 64 * sizeof(float));
    y(r, 0) = d.labels[i];
  }
}

template <class Model>
double accuracy(const Model& m, const digits& d, const std::vector<std::size_t>& ids) {
  matrix<float, 64> x(ids.size());
  matrix<int, 1> y(ids.size());
  gather(d, ids, 0, x, y);
  const auto p = m(x);
  std::size_t right = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto row = p.row(i);
    right += static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin()) ==
             static_cast<std::size_t>(y(i, 0));
  }
  return double(right) / double(ids.size());
}

// Trains for `epochs` over `train`, reshuffling each epoch; returns microseconds per step.
template <class Trainer>
double train(Trainer& tr, const digits& d, std::vector<std::size_t> train_ids, int epochs, random_stream& rng) {
  matrix<float, 64> x(batch);
  matrix<int, 1> y(batch);
  double seconds = 0;
  std::size_t steps = 0;
  for (int e = 0; e < epochs; ++e) {
    for (std::size_t i = train_ids.size() - 1; i > 0; --i) std::swap(train_ids[i], train_ids[rng.next() % (i + 1)]);
    for (std::size_t first = 0; first + batch <= train_ids.size(); first += batch) {
      gather(d, train_ids, first, x, y);
      const auto t0 = std::chrono::steady_clock::now();
      tr.step(x, y);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++steps;
    }
  }
  return 1e6 * seconds / double(steps);
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

  random_stream rng(2024);
  std::vector<std::size_t> ids(d.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  for (std::size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng.next() % (i + 1)]);
  const std::size_t n_test = d.size() / 5;
  const std::vector<std::size_t> test_ids(ids.begin(), ids.begin() + std::ptrdiff_t(n_test));
  const std::vector<std::size_t> train_ids(ids.begin() + std::ptrdiff_t(n_test), ids.end());
  std::printf("UCI digits: %zu samples, %zu for training, %zu for testing\n\n", d.size(), train_ids.size(), n_test);

  // 1. Every layer trainable.
  Net net = Net::init(1);
  summary(net);
  auto full_trainer = make_trainer(net, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, batch);
  const double full_us = train(full_trainer, d, train_ids, epochs, rng);
  const double full_acc = accuracy(net, d, test_ids);
  std::printf("all trainable: test accuracy %.2f %%, %.2f us per training step (batch %zu)\n\n", 100 * full_acc,
              full_us, batch);
  const std::size_t full_bytes = full_trainer.allocated_bytes();

  // 2. Freeze the feature layers, put a fresh head on, fine-tune the head only.
  auto tuned = freeze<0, 1>(std::move(net));
  const Net fresh = Net::init(99);
  std::copy(fresh.layer<2>().kernel().begin(), fresh.layer<2>().kernel().end(), tuned.layer<2>().kernel().begin());
  std::fill(tuned.layer<2>().bias().begin(), tuned.layer<2>().bias().end(), 0.f);
  std::printf("fresh head on frozen features: test accuracy %.2f %%\n", 100 * accuracy(tuned, d, test_ids));
  summary(tuned);
  auto head_trainer = make_trainer(tuned, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, batch);
  const double head_us = train(head_trainer, d, train_ids, epochs, rng);
  const double head_acc = accuracy(tuned, d, test_ids);
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
