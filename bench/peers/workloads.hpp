// Shared by every peer benchmark (bench/peers/peer_*.cpp): the workload table, the benchmark
// names, the FLOP count, the deterministic data and weights, the thread setting and main().
// Keeping these in one place means the peers cannot drift apart in what they time or report.
//
// A workload is a dense MLP: relu hidden layers, a 10-unit softmax head, categorical
// cross-entropy on one-hot targets, Adam (Keras defaults, learning rate 0.001). Each workload is
// timed at its batch sizes in three configurations:
//   trainable  forward, loss, backward and Adam update with every layer trainable
//   frozen     the same step with the workload's leading layers frozen: they get no weight
//              gradient, no optimizer update, and no backward runs below the first trainable layer
//   inference  forward only (softmax probabilities)
// Benchmark names are "<workload>/b<batch>/<config>", e.g. "W1/b32/trainable". At batch 1 (W1
// only: the article's 100-64-32-10 network, one sample per step) there is no `frozen` case:
// "W1/b1/trainable" and "W1/b1/inference".
//
// Every peer times its cases through time_steps() (below): three untimed warm-up steps, then at
// least 20 timed steps, and for a training step the loss of the 20th timed step as the counter
// "loss", the cross-check of the report (scripts/bench_report.py).
//
// Two functional (DAG) models join them, registered by the peers that implement them (frost,
// OpenBLAS, libtorch) through register_graphs():
//   residual    784 -> dense 512 relu -> 2 × [dense 512 relu, added to its input] -> dense 10
//               softmax, batch 128 (W2's sizes with one more 512-unit layer); trainable, inference
//   two_branch  inputs a (784 features) and b (64): branch A = dense 512 relu -> dense 256 relu
//               on a, branch B = dense 128 relu on b, concatenated (256 + 128), dense 10 softmax,
//               batch 128; `frozen` freezes branch A, `trainable` trains everything; inference
// Their names are "residual/b128/trainable", "two_branch/b128/frozen", ...
//
// One convolutional workload, registered through register_cnn() by the peers that implement it:
//   cnn         batch 64, NHWC input 28×28×1: conv 32 3×3 (stride 1, valid, bias) -> batch norm
//               -> relu -> max pool 2×2 -> conv 64 3×3 -> batch norm -> relu -> max pool 2×2 ->
//               flatten (5·5·64 = 1600) -> dense 10 softmax; `frozen` freezes the convolutional
//               base (both convolutions and both batch norms, which then run in inference mode)
// Its names are "cnn/b64/trainable", "cnn/b64/frozen", "cnn/b64/inference".
//
// This header is C++17 so that every peer, including libtorch's, can include it.

#pragma once

#include <benchmark/benchmark.h>

#include <dlfcn.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost_peers {

// ---------------------------------------------------------------------------------------------
// Workloads.

inline constexpr std::size_t max_layers = 4;
inline constexpr std::size_t classes = 10;

struct workload {
  const char* name;
  std::size_t layer_count;                         // dense layers
  std::array<std::size_t, max_layers + 1> sizes;   // sizes[0]: inputs; sizes[i + 1]: units of layer i
  std::size_t frozen_prefix;                       // layers [0, frozen_prefix) are frozen in `frozen`
  std::array<std::size_t, 3> batches;              // the first batch_count entries are used
  std::size_t batch_count;

  constexpr std::size_t inputs() const { return sizes[0]; }
  constexpr std::size_t outputs() const { return sizes[layer_count]; }
  constexpr std::size_t in(std::size_t layer) const { return sizes[layer]; }       // K of layer
  constexpr std::size_t out(std::size_t layer) const { return sizes[layer + 1]; }  // N of layer
};

inline constexpr std::array<workload, 3> workloads{{
    {"W1", 3, {100, 64, 32, 10, 0}, 2, {1, 32, 256}, 3},
    {"W2", 3, {784, 512, 512, 10, 0}, 2, {128, 0, 0}, 1},
    {"W3", 4, {1024, 1024, 1024, 1024, 10}, 3, {256, 0, 0}, 1},
}};

enum class config { trainable, frozen, inference };
inline constexpr std::array<config, 3> configs{config::trainable, config::frozen, config::inference};

constexpr const char* config_name(config c) {
  return c == config::trainable ? "trainable" : c == config::frozen ? "frozen" : "inference";
}

// Whether a workload is timed at `batch` in configuration c: batch 1 is the article's
// one-sample step, trainable and inference only.
constexpr bool has_case(std::size_t batch, config c) { return batch != 1 || c != config::frozen; }

// Number of leading layers that are frozen under configuration c (inference trains nothing, but
// it also runs no backward, so the question does not arise there).
constexpr std::size_t frozen_layers(const workload& w, config c) {
  return c == config::frozen ? w.frozen_prefix : 0;
}

// ---------------------------------------------------------------------------------------------
// FLOPs: only the matrix products the configuration needs, 2·M·K·N each (M = batch): forward
// X·W for every layer; dW = Xᵀ·dZ for each trainable layer; dX = dZ·Wᵀ for each layer that has a
// trainable layer below it (closer to the input). Bias, activation, loss and optimizer work are
// not counted. The count comes from the layer sizes, not from what a peer executes, so a peer
// that does unneeded work shows a lower rate.

constexpr double flop_per_sample(const workload& w, config c) {
  double f = 0;
  for (std::size_t i = 0; i < w.layer_count; ++i) f += 2.0 * double(w.in(i)) * double(w.out(i));
  if (c == config::inference) return f;
  const std::size_t frozen = frozen_layers(w, c);
  bool trainable_below = false;
  for (std::size_t i = 0; i < w.layer_count; ++i) {
    const double gemm = 2.0 * double(w.in(i)) * double(w.out(i));
    const bool trains = i >= frozen;
    if (trains) f += gemm;           // dW
    if (trainable_below) f += gemm;  // dX
    trainable_below = trainable_below || trains;
  }
  return f;
}

// The per-sample counts of frost's own benchmark (bench/training_step.cpp) for W1.
static_assert(flop_per_sample(workloads[0], config::trainable) == 39808);
static_assert(flop_per_sample(workloads[0], config::frozen) == 18176);
static_assert(flop_per_sample(workloads[0], config::inference) == 17536);

struct bench_case {
  const workload* w;
  std::size_t batch;
  config c;

  std::string name() const {
    return std::string(w->name) + "/b" + std::to_string(batch) + "/" + config_name(c);
  }
  std::size_t frozen() const { return frozen_layers(*w, c); }
  bool training() const { return c != config::inference; }
  double flop_per_step() const { return flop_per_sample(*w, c) * double(batch); }
};

// ---------------------------------------------------------------------------------------------
// Functional (DAG) workloads.

enum class graph_model { residual, two_branch };

struct graph_workload {
  const char* name;
  graph_model model;
  std::size_t batch;
  std::array<config, 3> configs;  // the first config_count entries are used
  std::size_t config_count;
};

inline constexpr std::array<graph_workload, 2> graph_workloads{{
    {"residual", graph_model::residual, 128, {config::trainable, config::inference, config::inference}, 2},
    {"two_branch", graph_model::two_branch, 128, {config::trainable, config::frozen, config::inference}, 3},
}};

// The residual model: dense layers l = 0..3 of (in(l) × out(l)); layers 1 and 2 add their input
// to their output. Its matrix products are those of the 784-512-512-512-10 MLP (the additions
// are elementwise, and the gradient reaching a block's input is the sum of two terms, one of them
// a product), so this workload describes its products and its FLOP count.
inline constexpr workload residual_products{"residual", 4, {784, 512, 512, 512, 10}, 0, {128, 0, 0}, 1};
inline constexpr std::size_t residual_blocks = 2;

// The two-branch model's sizes.
struct two_branch_sizes {
  static constexpr std::size_t a_inputs = 784, b_inputs = 64;
  static constexpr std::size_t a1 = 512, a2 = 256, b1 = 128;
  static constexpr std::size_t joined = a2 + b1;  // the head's inputs
};

// FLOP per sample, counted as for the MLPs: every forward product; dW for each trainable layer;
// dX of a layer's input only where a trainable layer lies upstream of that input. For the head
// of two_branch under `frozen`, that is only the 128 columns of its input that come from branch
// B: dL/d(branch A's output) is needed by nothing.
constexpr double graph_flop_per_sample(const graph_workload& g, config c) {
  if (g.model == graph_model::residual) return flop_per_sample(residual_products, c);
  using s = two_branch_sizes;
  auto gemm = [](std::size_t k, std::size_t n) { return 2.0 * double(k) * double(n); };
  const double forward =
      gemm(s::a_inputs, s::a1) + gemm(s::a1, s::a2) + gemm(s::b_inputs, s::b1) + gemm(s::joined, classes);
  if (c == config::inference) return forward;
  const double branch_b = gemm(s::joined, classes)                       // dW head
                          + gemm(classes, s::b1)                         // dX head, branch B's columns
                          + gemm(s::b_inputs, s::b1);                    // dW B (b is an input: no dX)
  if (c == config::frozen) return forward + branch_b;
  return forward + branch_b + gemm(classes, s::a2)                       // dX head, branch A's columns
         + gemm(s::a1, s::a2) + gemm(s::a1, s::a2)                       // dW A2, dX A2
         + gemm(s::a_inputs, s::a1);                                     // dW A1 (a is an input)
}

static_assert(graph_flop_per_sample(graph_workloads[0], config::inference) ==
              2.0 * (784 * 512 + 2 * 512 * 512 + 512 * 10));
static_assert(graph_flop_per_sample(graph_workloads[0], config::trainable) ==
              2.0 * (3 * (784 * 512 + 2 * 512 * 512 + 512 * 10) - 784 * 512));
static_assert(graph_flop_per_sample(graph_workloads[1], config::inference) == 1089024);
static_assert(graph_flop_per_sample(graph_workloads[1], config::frozen) == 1089024 + 2.0 * (3840 + 1280 + 8192));
static_assert(graph_flop_per_sample(graph_workloads[1], config::trainable) ==
              3 * 1089024 - 2.0 * (784 * 512 + 64 * 128));

struct graph_case {
  const graph_workload* g;
  std::size_t batch;
  config c;

  std::string name() const {
    return std::string(g->name) + "/b" + std::to_string(batch) + "/" + config_name(c);
  }
  bool training() const { return c != config::inference; }
  bool frozen() const { return c == config::frozen; }
  double flop_per_step() const { return graph_flop_per_sample(*g, c) * double(batch); }
};

// ---------------------------------------------------------------------------------------------
// The convolutional workload.
//
// Layout NHWC (channels last), as Keras: a sample is 28·28·1 values in (h, w, c) order, and the
// flatten before the head takes the 5×5×64 tensor in (h, w, c) order, so that the head's weight
// row r = (h·5 + w)·64 + c. A convolution kernel is (kh, kw, cin, filters) row-major (HWIO,
// Keras's layout). A peer with another layout (NCHW: libtorch, dlib) permutes these values.
// Batch normalization as Keras's BatchNormalization(momentum 0.99, epsilon 1e-3), per channel:
// gamma 1, beta 0, moving mean 0, moving variance 1 at the start; in training mode it normalizes
// with the batch's statistics and updates the moving ones (moving = 0.99·moving + 0.01·batch), in
// inference mode it uses the moving statistics. The input is fill_inputs(x, 64, 784) with the
// default seed (sample r's values in (h, w, c) order), the labels those of the MLPs.

struct cnn_sizes {
  static constexpr std::size_t batch = 64;
  static constexpr std::size_t height = 28, width = 28, channels = 1;
  static constexpr std::size_t inputs = height * width * channels;  // values per sample (784)
  static constexpr std::size_t kernel = 3, pool = 2;                // 3×3 valid convolutions, 2×2 pools
  static constexpr std::size_t filters1 = 32, filters2 = 64;
  static constexpr std::size_t conv1 = height - kernel + 1;          // 26: conv1's output is 26×26×32
  static constexpr std::size_t pool1 = conv1 / pool;                 // 13
  static constexpr std::size_t conv2 = pool1 - kernel + 1;           // 11
  static constexpr std::size_t pool2 = conv2 / pool;                 // 5 (the last row and column are dropped)
  static constexpr std::size_t flat = pool2 * pool2 * filters2;      // 1600: the head's inputs
  static constexpr std::size_t patch1 = kernel * kernel * channels;  // 9: conv1's K in im2col form
  static constexpr std::size_t patch2 = kernel * kernel * filters1;  // 288: conv2's K
  static constexpr float bn_momentum = 0.99f;                        // Keras's; PyTorch's is 1 - 0.99
  static constexpr float bn_epsilon = 1e-3f;
};
static_assert(cnn_sizes::conv1 == 26 && cnn_sizes::pool1 == 13 && cnn_sizes::conv2 == 11 &&
              cnn_sizes::pool2 == 5 && cnn_sizes::flat == 1600);

// Weight seeds, as for the dense workloads, 42 + the layer's index among the layers with weights:
// conv1's kernel, conv2's kernel, the head's (1600 × 10) weights. Every bias starts at zero.
inline constexpr std::uint32_t cnn_seed_conv1 = 42, cnn_seed_conv2 = 43, cnn_seed_dense = 44;

// FLOP per sample, counted as for the MLPs over the products of the convolutions in im2col form
// (per sample, conv1 is (26·26 × 9)·(9 × 32), conv2 (11·11 × 288)·(288 × 64)) and of the head
// ((1 × 1600)·(1600 × 10)): every forward product; under `trainable`, the weight gradient of all
// three and the input gradient of conv2 and of the head (conv1's input is the data); under
// `frozen`, the head's weight gradient only. Batch norm, relu, pooling, softmax, loss, Adam and
// the im2col rearrangements are not counted.
constexpr double cnn_flop_per_sample(config c) {
  using s = cnn_sizes;
  const double conv1 = 2.0 * double(s::conv1 * s::conv1) * double(s::patch1) * double(s::filters1);
  const double conv2 = 2.0 * double(s::conv2 * s::conv2) * double(s::patch2) * double(s::filters2);
  const double head = 2.0 * double(s::flat) * double(classes);
  const double forward = conv1 + conv2 + head;
  if (c == config::inference) return forward;
  if (c == config::frozen) return forward + head;             // dW of the head
  return forward + (conv1 + conv2 + head) + (conv2 + head);  // dW of all three, dX of conv2 and head
}

static_assert(cnn_flop_per_sample(config::inference) == 389376 + 4460544 + 32000);
static_assert(cnn_flop_per_sample(config::frozen) == 4913920);
static_assert(cnn_flop_per_sample(config::trainable) == 14256384);

struct cnn_case {
  std::size_t batch;
  config c;

  std::string name() const { return "cnn/b" + std::to_string(batch) + "/" + config_name(c); }
  bool training() const { return c != config::inference; }
  bool frozen() const { return c == config::frozen; }  // the convolutional base is frozen
  double flop_per_step() const { return cnn_flop_per_sample(c) * double(batch); }
};

// ---------------------------------------------------------------------------------------------
// Hyperparameters: Keras's Adam defaults, learning rate 0.001. Keras's update is
//   alpha = lr·sqrt(1 - beta_2^t) / (1 - beta_1^t);  w -= alpha·m / (sqrt(v) + epsilon)
// (epsilon added after the bias correction, the "epsilon hat" of the Adam paper).

struct adam_hyper {
  static constexpr float learning_rate = 0.001f;
  static constexpr float beta_1 = 0.9f;
  static constexpr float beta_2 = 0.999f;
  static constexpr float epsilon = 1e-7f;
};

// ---------------------------------------------------------------------------------------------
// Deterministic data, the same generator as bench/training_step.cpp: inputs in [-0.5, 0.5),
// row r labelled (7r + 3) mod 10.

// The generator's seed for every input, and for the second input of two_branch.
inline constexpr std::uint32_t default_input_seed = 0x9e3779b9u;
inline constexpr std::uint32_t second_input_seed = 0x85ebca6bu;

template <class T>
void fill_inputs(T* x, std::size_t rows, std::size_t cols,  // row-major rows × cols
                 std::uint32_t seed = default_input_seed) {
  std::uint32_t state = seed;
  for (std::size_t i = 0; i < rows * cols; ++i) {
    state = state * 1664525u + 1013904223u;  // LCG, upper 24 bits as the fraction
    x[i] = T(float(state >> 8) / float(1u << 24) - 0.5f);
  }
}

constexpr std::size_t label(std::size_t row) { return (row * 7 + 3) % classes; }

template <class T>
void fill_one_hot(T* y, std::size_t rows) {  // row-major rows × classes
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < classes; ++j) y[r * classes + j] = T(j == label(r) ? 1 : 0);
}

// Glorot-uniform weights (Keras's default initializer), `count` = fan_in·fan_out values.
template <class T>
void glorot_uniform(T* w, std::size_t fan_in, std::size_t fan_out, std::uint32_t seed) {
  const float limit = float(std::sqrt(6.0 / double(fan_in + fan_out)));
  std::uint32_t state = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < fan_in * fan_out; ++i) {
    state = state * 1664525u + 1013904223u;
    w[i] = T((float(state >> 8) / float(1u << 24) * 2.f - 1.f) * limit);
  }
}

// Glorot-uniform convolution kernel (Keras's default), (kh, kw, cin, filters) row-major (HWIO):
// kh·kw·cin·filters values with fan_in = kh·kw·cin and fan_out = kh·kw·filters, drawn by the same
// generator as glorot_uniform.
template <class T>
void glorot_uniform_conv(T* k, std::size_t kh, std::size_t kw, std::size_t cin, std::size_t filters,
                         std::uint32_t seed) {
  const std::size_t fan_in = kh * kw * cin, fan_out = kh * kw * filters;
  const float limit = float(std::sqrt(6.0 / double(fan_in + fan_out)));
  std::uint32_t state = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < kh * kw * cin * filters; ++i) {
    state = state * 1664525u + 1013904223u;
    k[i] = T((float(state >> 8) / float(1u << 24) * 2.f - 1.f) * limit);
  }
}

// The cnn workload's initial weights, in the layouts above: conv1's kernel (3, 3, 1, 32), conv2's
// (3, 3, 32, 64), the head's (1600 × 10) with rows in (h, w, c) order. Biases are zero.
struct cnn_weights {
  std::vector<float> conv1, conv2, dense;

  cnn_weights() {
    using s = cnn_sizes;
    conv1.resize(s::patch1 * s::filters1);
    conv2.resize(s::patch2 * s::filters2);
    dense.resize(s::flat * classes);
    glorot_uniform_conv(conv1.data(), s::kernel, s::kernel, s::channels, s::filters1, cnn_seed_conv1);
    glorot_uniform_conv(conv2.data(), s::kernel, s::kernel, s::filters1, s::filters2, cnn_seed_conv2);
    glorot_uniform(dense.data(), s::flat, classes, cnn_seed_dense);
  }
};

// ---------------------------------------------------------------------------------------------
// Threads: FROST_BENCH_THREADS (default 1).

inline int threads() {
  static const int n = [] {
    const char* s = std::getenv("FROST_BENCH_THREADS");
    if (s == nullptr || *s == '\0') return 1;
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (*end != '\0' || v < 1 || v > 1024) {
      std::fprintf(stderr, "FROST_BENCH_THREADS=\"%s\" is not a thread count (1 to 1024)\n", s);
      std::exit(2);
    }
    return int(v);
  }();
  return n;
}

// Sets OpenBLAS's thread count if OpenBLAS is loaded in this process (libdlib and libtorch call
// it for their matrix products on Debian). Returns whether it was.
inline bool set_openblas_threads_if_loaded(int n) {
  using setter = void (*)(int);
  void* sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (sym == nullptr) return false;
  reinterpret_cast<setter>(sym)(n);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The timed loop, the same for every peer.
//
// Warm-up: warmup_steps untimed steps (or inference calls) before the timed loop, on the same
// model, optimizer and data. libtorch and dlib allocate gradients and optimizer state lazily in
// their first step, and every library touches its buffers for the first time there; none of that
// belongs in the time of a step.
//
// Floor: the timed loop runs in batches of min_timed_steps (Google Benchmark's KeepRunningBatch),
// so every run of a case, Google Benchmark's first one-iteration probe included, times at least
// 20 steps; the minimum time (default_min_time) decides how many batches beyond the first. W3's
// and the CNN's steps take 10-150 ms: at 0.2 s alone they would be timed over 2 to 6 steps.
//
// Loss: a training step returns its loss (float or double). The loss of the last step of the
// first batch, the 20th timed step (step number loss_step = 23 counting the warm-up; computed
// on the weights after 22 updates), becomes the counter "loss": every peer reports it after
// the same number of steps from the same weights and data, whatever number of steps Google
// Benchmark then times. An inference call returns nothing and reports no loss.

inline constexpr int warmup_steps = 3;
inline constexpr benchmark::IterationCount min_timed_steps = 20;
inline constexpr int loss_step = warmup_steps + int(min_timed_steps);

// Times step(): warm-up, then the timed loop; for a training step (one returning its loss) sets
// the counters "loss" and "loss_step". Fails the case loudly if fewer than min_timed_steps steps
// were timed.
template <class Step>
void time_steps(benchmark::State& state, Step&& step) {
  using result = decltype(step());
  constexpr bool training = !std::is_void_v<result>;
  for (int i = 0; i < warmup_steps; ++i) {
    if constexpr (training) {
      result loss = step();
      benchmark::DoNotOptimize(loss);
    } else {
      step();
    }
  }
  [[maybe_unused]] double reported_loss = 0;
  [[maybe_unused]] bool first_batch = true;
  while (state.KeepRunningBatch(min_timed_steps)) {
    if constexpr (training) {
      result loss{};
      for (benchmark::IterationCount i = 0; i < min_timed_steps; ++i) {
        loss = step();
        benchmark::DoNotOptimize(loss);
      }
      if (first_batch) reported_loss = double(loss);
      first_batch = false;
    } else {
      for (benchmark::IterationCount i = 0; i < min_timed_steps; ++i) step();
    }
  }
  if (state.iterations() < min_timed_steps) {
    state.SkipWithError(("only " + std::to_string(state.iterations()) + " timed steps, fewer than " +
                         std::to_string(min_timed_steps))
                            .c_str());
    return;
  }
  if constexpr (training) {
    state.counters["loss"] = reported_loss;
    state.counters["loss_step"] = loss_step;
  }
}

// ---------------------------------------------------------------------------------------------
// Registration and main().

inline constexpr double default_min_time = 0.2;  // seconds per benchmark, as frost's own

template <class Case>
void set_counters(benchmark::State& state, const Case& bc) {
  state.counters["samples"] = benchmark::Counter(double(bc.batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP"] = benchmark::Counter(bc.flop_per_step(), benchmark::Counter::kIsIterationInvariantRate);
}

// Registers fn(state, bench_case) under every name "<W>/b<batch>/<config>". With more than one
// thread, timing and rates use wall-clock time (Google Benchmark then appends "/real_time" to
// the names): the default per-thread CPU time would miss the library's worker threads.
template <class Fn>
void register_all(Fn fn) {
  for (const workload& w : workloads) {
    for (std::size_t b = 0; b < w.batch_count; ++b) {
      for (config c : configs) {
        if (!has_case(w.batches[b], c)) continue;
        const bench_case bc{&w, w.batches[b], c};
        auto* bm = benchmark::RegisterBenchmark(bc.name().c_str(), [fn, bc](benchmark::State& state) {
          fn(state, bc);
          if (!state.error_occurred()) set_counters(state, bc);
        });
        bm->Unit(benchmark::kMicrosecond);
        if (threads() > 1) bm->UseRealTime();
      }
    }
  }
}

// Registers fn(state, graph_case) under every name of graph_workloads, as register_all does.
template <class Fn>
void register_graphs(Fn fn) {
  for (const graph_workload& g : graph_workloads) {
    for (std::size_t k = 0; k < g.config_count; ++k) {
      const graph_case gc{&g, g.batch, g.configs[k]};
      auto* bm = benchmark::RegisterBenchmark(gc.name().c_str(), [fn, gc](benchmark::State& state) {
        fn(state, gc);
        if (!state.error_occurred()) set_counters(state, gc);
      });
      bm->Unit(benchmark::kMicrosecond);
      if (threads() > 1) bm->UseRealTime();
    }
  }
}

// Registers fn(state, cnn_case) under "cnn/b64/<config>" for the three configs, as register_all
// does.
template <class Fn>
void register_cnn(Fn fn) {
  for (config c : configs) {
    const cnn_case cc{cnn_sizes::batch, c};
    auto* bm = benchmark::RegisterBenchmark(cc.name().c_str(), [fn, cc](benchmark::State& state) {
      fn(state, cc);
      if (!state.error_occurred()) set_counters(state, cc);
    });
    bm->Unit(benchmark::kMicrosecond);
    if (threads() > 1) bm->UseRealTime();
  }
}

// Runs the registered benchmarks. The minimum time defaults to default_min_time through the
// --benchmark_min_time flag, so that names carry no "/min_time:" suffix and a later
// --benchmark_min_time on the command line overrides it.
//
// `initial_state` names the weights and data the peer starts from; the report compares the losses
// of two peers only when it is the same (shared_initial_state: every peer so far).
inline constexpr const char* shared_initial_state =
    "workloads.hpp: glorot_uniform(seed 42 + layer) weights, zero biases, fill_inputs data, label(r) targets";

inline int run(int argc, char** argv, const char* peer, const std::string& library,
               const std::string& initial_state = shared_initial_state) {
  benchmark::AddCustomContext("peer", peer);
  benchmark::AddCustomContext("library", library);
  benchmark::AddCustomContext("threads", std::to_string(threads()));
  benchmark::AddCustomContext("initial_state", initial_state);
  benchmark::AddCustomContext("warmup_steps", std::to_string(warmup_steps));
  benchmark::AddCustomContext("min_timed_steps", std::to_string(min_timed_steps));
  benchmark::AddCustomContext("loss_step", std::to_string(loss_step));
  benchmark::AddCustomContext("flop_counting",
                              "2*M*K*N per needed GEMM: forward all layers, dW trainable layers, "
                              "dX layers with a trainable layer below");

  static char min_time_flag[64];
  std::snprintf(min_time_flag, sizeof min_time_flag, "--benchmark_min_time=%g", default_min_time);
  std::vector<char*> args;
  args.push_back(argv[0]);
  args.push_back(min_time_flag);
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  int n = argc + 1;

  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace frost_peers
