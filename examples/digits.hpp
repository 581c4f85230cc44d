// The data side of the transfer-learning demos transfer_digits.cpp (a dense network) and
// transfer_digits_cnn.cpp (a small CNN): both read, split, batch, train on and score the UCI
// handwritten digits (data/digits.csv.gz, CC BY 4.0) with the code here, and keep only their
// model, their story and their printing.
//
// The CSV has one sample a line: 64 pixels, each 0..16, then the label 0..9 — 65 comma-separated
// values. The 64 pixels are the 8×8 image row by row, so a batch `x` of `matrix<float, 64>` is
// fed to a dense network as `x.view<64>()` and to a CNN as `x.view<8, 8, 1>()` (8×8×1 images,
// Keras channels_last), without a copy. The functions that feed the model take those input
// dimensions as template arguments: `accuracy<8, 8, 1>(model, ...)`, `train<64>(trainer, ...)`.
#pragma once

#include <frost/frost.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace digits_demo {

struct digits {
  std::vector<float> pixels;  // n × 64 (8 rows of 8 pixels), scaled to [0, 1]
  std::vector<int> labels;
  std::size_t size() const { return labels.size(); }
};

// Reads the CSV at `path`; the errors (frost::io_error, frost::format_error) name `program`.
inline digits read_digits(const char* program, const char* path) {
  std::ifstream in(path);
  if (!in) throw frost::io_error(std::string(program) + ": \"" + path + "\": cannot open");
  digits d;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    std::vector<float> values;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) values.push_back(std::stof(cell));
    if (values.size() != 65)
      throw frost::format_error(std::string(program) + ": \"" + path + "\": line " + std::to_string(line_no) +
                                ": expected 65 values (64 pixels and a label), got " + std::to_string(values.size()));
    for (std::size_t j = 0; j < 64; ++j) d.pixels.push_back(values[j] / 16.f);
    d.labels.push_back(static_cast<int>(values[64]));
  }
  return d;
}

// Fisher–Yates, drawing from `rng`.
inline void shuffle(std::vector<std::size_t>& ids, frost::random_stream& rng) {
  for (std::size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng.next() % (i + 1)]);
}

// Fills (x, y) with samples order[first .. first + x.rows()).
inline void gather(const digits& d, const std::vector<std::size_t>& order, std::size_t first,
                   frost::matrix<float, 64>& x, frost::matrix<int, 1>& y) {
  for (std::size_t r = 0; r < x.rows(); ++r) {
    const std::size_t i = order[first + r];
    std::memcpy(&x(r, 0), &d.pixels[i * 64], 64 * sizeof(float));
    y(r, 0) = d.labels[i];
  }
}

// The share of samples `ids` that `m`, fed `x.view<D...>()`, classifies right. `m(x)` is
// inference: batch normalization uses its moving statistics, dropout passes values unchanged.
template <std::size_t... D, class Model>
double accuracy(const Model& m, const digits& d, const std::vector<std::size_t>& ids) {
  frost::matrix<float, 64> x(ids.size());
  frost::matrix<int, 1> y(ids.size());
  gather(d, ids, 0, x, y);
  const auto p = m(x.template view<D...>());
  std::size_t right = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto row = p.row(i);
    right += static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin()) ==
             static_cast<std::size_t>(y(i, 0));
  }
  return double(right) / double(ids.size());
}

// The time each training step took, in microseconds, in order.
struct step_times {
  std::vector<double> us;

  double mean() const {
    double sum = 0;
    for (const double t : us) sum += t;
    return sum / double(us.size());
  }
  // The median over the steps after the first `warm_up`.
  double median(std::size_t warm_up) const {
    std::vector<double> kept(us.begin() + std::ptrdiff_t(warm_up), us.end());
    std::nth_element(kept.begin(), kept.begin() + std::ptrdiff_t(kept.size() / 2), kept.end());
    return kept[kept.size() / 2];
  }
};

// Trains `tr` for `epochs` over `train_ids` in batches of `batch`, feeding `x.view<D...>()`,
// reshuffling each epoch with `rng`; times each step.
template <std::size_t... D, class Trainer>
step_times train(Trainer& tr, const digits& d, std::vector<std::size_t> train_ids, int epochs, std::size_t batch,
                 frost::random_stream& rng) {
  frost::matrix<float, 64> x(batch);
  frost::matrix<int, 1> y(batch);
  step_times times;
  times.us.reserve(std::size_t(epochs) * (train_ids.size() / batch));
  for (int e = 0; e < epochs; ++e) {
    shuffle(train_ids, rng);
    for (std::size_t first = 0; first + batch <= train_ids.size(); first += batch) {
      gather(d, train_ids, first, x, y);
      const auto t0 = std::chrono::steady_clock::now();
      tr.step(x.template view<D...>(), y);
      const auto t1 = std::chrono::steady_clock::now();
      times.us.push_back(1e6 * std::chrono::duration<double>(t1 - t0).count());
    }
  }
  return times;
}

// What both demos start from: the samples, split the same way (a fifth held out for testing),
// the epochs to train each phase for, and the random stream that shuffled the split and goes on
// shuffling the training samples.
struct session {
  digits data;
  std::vector<std::size_t> train_ids, test_ids;
  int epochs;  // 15 with --quick, else 40
  frost::random_stream rng;
};

// Reads the command line `<program> <digits.csv> [--quick]` and the CSV (errors name `program`);
// prints the usage and returns nothing when the CSV is not named.
inline std::optional<session> start(const char* program, int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <digits.csv> [--quick]\n", argv[0]);
    return std::nullopt;
  }
  const bool quick = argc > 2 && std::string(argv[2]) == "--quick";
  session s{read_digits(program, argv[1]), {}, {}, quick ? 15 : 40, frost::random_stream(2024)};
  std::vector<std::size_t> ids(s.data.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  shuffle(ids, s.rng);
  const auto n_test = std::ptrdiff_t(ids.size() / 5);
  s.test_ids.assign(ids.begin(), ids.begin() + n_test);
  s.train_ids.assign(ids.begin() + n_test, ids.end());
  return s;
}

}  // namespace digits_demo
