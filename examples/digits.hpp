// The data side of the transfer-learning demos transfer_digits.cpp (a dense network) and
// transfer_digits_cnn.cpp (a small CNN): both read and split the UCI handwritten digits
// (data/digits.csv.gz, CC BY 4.0) and time fit's training steps with the code here, and keep
// only their model, their story and their printing.
//
// The CSV has one sample a line: 64 pixels, each 0..16, then the label 0..9 — 65 comma-separated
// values. The 64 pixels are the 8×8 image row by row, so the samples, a `matrix<float, 64>`, are
// fed to a dense network as they are and to a CNN as `x.view<8, 8, 1>()` (8×8×1 images, Keras
// channels_last), without a copy.
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

// Samples `ids` of `d`, in that order, as a batch and its labels.
inline void gather(const digits& d, const std::vector<std::size_t>& ids, frost::matrix<float, 64>& x,
                   frost::matrix<int, 1>& y) {
  x = frost::matrix<float, 64>(ids.size());
  y = frost::matrix<int, 1>(ids.size());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::memcpy(&x(r, 0), &d.pixels[ids[r] * 64], 64 * sizeof(float));
    y(r, 0) = d.labels[ids[r]];
  }
}

// What both demos start from: the samples in random order, split the same way (a fifth held
// out for testing; fit's validation_split then validates on the last fifth of the rest), and
// the epochs to train each phase for.
struct session {
  std::size_t samples;
  frost::matrix<float, 64> x_train, x_test;  // pixels scaled to [0, 1]
  frost::matrix<int, 1> y_train, y_test;     // labels 0..9
  std::size_t epochs;                        // 15 with --quick, else 40
};

// Reads the command line `<program> <digits.csv> [--quick]` and the CSV (errors name `program`);
// prints the usage and returns nothing when the CSV is not named.
inline std::optional<session> start(const char* program, int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <digits.csv> [--quick]\n", argv[0]);
    return std::nullopt;
  }
  const bool quick = argc > 2 && std::string(argv[2]) == "--quick";
  const digits d = read_digits(program, argv[1]);
  frost::random_stream rng(2024);
  std::vector<std::size_t> ids(d.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  shuffle(ids, rng);
  const auto n_test = std::ptrdiff_t(ids.size() / 5);
  session s{d.size(), {}, {}, {}, {}, quick ? std::size_t{15} : std::size_t{40}};
  gather(d, {ids.begin(), ids.begin() + n_test}, s.x_test, s.y_test);
  gather(d, {ids.begin() + n_test, ids.end()}, s.x_train, s.y_train);
  return s;
}

// A fit callback that times every training step from on_batch_begin to on_batch_end: the
// trainer's step plus what fit does around it (copying the shuffled batch, updating the
// accuracy). It logs each epoch's median in microseconds as "step_us", so the progress line and
// the history show it, and keeps every step's time. It allocates when training begins and at
// the end of each epoch, never during a step.
struct step_timer {
  std::vector<double> us;  // every step's time, in order
  std::size_t epoch_first = 0;
  std::chrono::steady_clock::time_point started{};

  template <class Ctx>
  void on_train_begin(Ctx& ctx) {
    us.reserve(us.size() + ctx.epochs() * ctx.steps());
  }
  template <class Ctx>
  void on_epoch_begin(Ctx&) {
    epoch_first = us.size();
  }
  template <class Ctx>
  void on_batch_begin(Ctx&) {
    started = std::chrono::steady_clock::now();
  }
  template <class Ctx>
  void on_batch_end(Ctx&) {
    us.push_back(1e6 * std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    ctx.logs().set("step_us", median_of(epoch_first));
  }

  // The median over the steps after the first `warm_up` (over all of them if there are no more).
  double median(std::size_t warm_up) const { return median_of(warm_up < us.size() ? warm_up : 0); }

 private:
  double median_of(std::size_t first) const {
    if (first >= us.size()) return 0;
    std::vector<double> kept(us.begin() + std::ptrdiff_t(first), us.end());
    std::nth_element(kept.begin(), kept.begin() + std::ptrdiff_t(kept.size() / 2), kept.end());
    return kept[kept.size() / 2];
  }
};

}  // namespace digits_demo
