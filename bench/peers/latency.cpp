// Latency at batch 1: the time of one call, as a real-time thread sees it, for frost, the
// hand-written Eigen MLP (eigen_mlp.hpp) and, when built with RTNEURAL_DIR, RTNeural's
// compile-time models (ModelT, Eigen backend). One process, so that a run with
// --benchmark_enable_random_interleaving compares them under the same machine state.
//
// Calls are timed with the time-stamp counter (lfence; rdtsc around them): the article's network
// one call at a time, the audio models per 64-sample buffer (64 calls, one per sample, as an audio
// callback makes them). The median cost of an empty timed region is subtracted, and each
// benchmark reports the median (p50_ns) and the 99th percentile (p99_ns) per call as counters. Inputs cycle through 256
// different samples. Before any timing, the libraries' outputs for those samples must agree
// within 1e-5 (the program exits with an error otherwise).
//
// Models, all with the weights of workloads.hpp (glorot_uniform, seed 42 + layer; zero biases):
//   article     100 → 64 relu → 32 relu → 10 softmax (the article's network)
//   audio_tanh  1 → 8 tanh → 8 tanh → 1 linear      (a typical real-time audio model)
//   audio_relu  4 → 16 relu → 16 relu → 4 linear
// Benchmarks: latency/<model>/<library> (inference), latency/<audio model>/frost_batch64 (a
// 64-sample buffer as one batch, per sample), and latency/article/<library>/step: one training
// step on one sample (Adam, categorical cross-entropy) for frost and Eigen.

#include "workloads.hpp"

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#if defined(FROST_BENCH_WITH_EIGEN)
#include "eigen_mlp.hpp"
#endif
#if defined(FROST_BENCH_WITH_RTNEURAL)
#include <RTNeural/RTNeural.h>
#endif

#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace frost_peers;

// ---- timing --------------------------------------------------------------------------------

inline std::uint64_t ticks() noexcept {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

double ns_per_tick = 0;        // from a calibration against steady_clock
double overhead_ticks = 0;     // median of an empty timed region

void calibrate() {
  const auto c0 = std::chrono::steady_clock::now();
  const std::uint64_t t0 = ticks();
  while (std::chrono::steady_clock::now() - c0 < std::chrono::milliseconds(200)) {
  }
  const auto c1 = std::chrono::steady_clock::now();
  const std::uint64_t t1 = ticks();
  ns_per_tick = double(std::chrono::duration_cast<std::chrono::nanoseconds>(c1 - c0).count()) / double(t1 - t0);
  std::vector<std::uint64_t> empty(100000);
  for (auto& e : empty) {
    const std::uint64_t a = ticks();
    const std::uint64_t b = ticks();
    e = b - a;
  }
  std::nth_element(empty.begin(), empty.begin() + empty.size() / 2, empty.end());
  overhead_ticks = double(empty[empty.size() / 2]);
}

constexpr std::size_t samples = 256;
constexpr benchmark::IterationCount calls_per_iteration = 1024;
constexpr benchmark::IterationCount iterations = 1000;  // 1,024,000 calls per repetition

// Times `call(k)` (k: the sample index) in regions of `block` consecutive calls; reports the
// median (p50_ns) and 99th percentile (p99_ns) of a region's time divided by `block`: the time
// per call of one call alone (block 1), or of a 64-sample audio buffer processed sample by sample
// (block 64; the counter's 10 ns steps on this machine would otherwise swamp a 30 ns call).
// With `rows` above 1, each call takes `rows` samples at once (a buffer as one batch), and the
// times are still per sample.
template <class Call>
void time_calls(benchmark::State& state, std::size_t block, Call&& call, std::size_t rows = 1) {
  for (std::size_t k = 0; k < 3 * samples; k += rows) call(k);  // warm-up
  std::vector<std::uint32_t> t;
  t.reserve(std::size_t(calls_per_iteration * iterations) / block + 1);
  std::size_t k = 0;
  for (auto _ : state) {
    for (benchmark::IterationCount i = 0; i < calls_per_iteration; i += benchmark::IterationCount(block)) {
      const std::uint64_t a = ticks();
      for (std::size_t j = 0; j < block; j += rows) {
        call(k);
        k = k + rows == samples ? 0 : k + rows;
      }
      const std::uint64_t b = ticks();
      t.push_back(std::uint32_t(std::min<std::uint64_t>(b - a, 0xffffffffu)));
    }
  }
  const auto at = [&](double q) {
    const auto n = std::size_t(q * double(t.size() - 1));
    std::nth_element(t.begin(), t.begin() + std::ptrdiff_t(n), t.end());
    return std::max(0.0, (double(t[n]) - overhead_ticks) * ns_per_tick / double(block));
  };
  state.counters["p50_ns"] = at(0.5);
  state.counters["p99_ns"] = at(0.99);
  state.counters["block"] = double(block);
  state.SetItemsProcessed(std::int64_t(t.size() * block));
}

// ---- models and data -----------------------------------------------------------------------

struct model_sizes {
  const char* name;
  std::array<std::size_t, 4> units;  // input, hidden, hidden, output
};
constexpr model_sizes article{"article", {100, 64, 32, 10}};
constexpr model_sizes audio_tanh{"audio_tanh", {1, 8, 8, 1}};
constexpr model_sizes audio_relu{"audio_relu", {4, 16, 16, 4}};

// Keras-layout kernels (in × out, row-major) and zero biases, as every peer starts from.
struct weights {
  std::array<std::vector<float>, 3> kernel;
  explicit weights(const model_sizes& m) {
    for (std::size_t l = 0; l < 3; ++l) {
      kernel[l].resize(m.units[l] * m.units[l + 1]);
      glorot_uniform(kernel[l].data(), m.units[l], m.units[l + 1], 42u + std::uint32_t(l));
    }
  }
};

// `samples` inputs, each at a 64-byte-aligned stride (RTNeural's Eigen maps want aligned rows).
struct inputs {
  std::size_t cols, stride;
  frost::aligned_buffer<float> data;
  explicit inputs(std::size_t n) : cols(n), stride((n + 15) / 16 * 16), data(samples * stride) {
    std::vector<float> flat(samples * n);
    fill_inputs(flat.data(), samples, n);
    for (std::size_t k = 0; k < samples; ++k) std::copy_n(flat.data() + k * n, n, data.data() + k * stride);
  }
  const float* at(std::size_t k) const noexcept { return data.data() + k * stride; }
};

template <class Model>
void load_frost(Model& m, const weights& w) {
  [&]<std::size_t... L>(std::index_sequence<L...>) {
    ((std::copy(w.kernel[L].begin(), w.kernel[L].end(), m.template layer<L>().kernel().begin()),
      std::fill(m.template layer<L>().bias().begin(), m.template layer<L>().bias().end(), 0.f)),
     ...);
  }(std::make_index_sequence<3>{});
}

using frost_article = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                        frost::dense<10, frost::softmax>, frost::storage::inline_>;
using frost_audio_tanh = frost::sequential<frost::input<1>, frost::dense<8, frost::tanh_activation>,
                                           frost::dense<8, frost::tanh_activation>, frost::dense<1, frost::linear>,
                                           frost::storage::inline_>;
using frost_audio_relu = frost::sequential<frost::input<4>, frost::dense<16, frost::relu>, frost::dense<16, frost::relu>,
                                           frost::dense<4, frost::linear>, frost::storage::inline_>;

// frost: the model and an inference object with its workspace inside (make_inference<1>).
template <class Model>
struct frost_runner {
  static constexpr std::size_t in = Model::input_shape::size, out = Model::output_shape::size;
  std::unique_ptr<Model> model = std::make_unique<Model>(typename Model::uninitialized_tag{});
  frost::inference<Model, 1> run = frost::make_inference<1>(*model);
  std::array<float, out> y{};
  explicit frost_runner(const weights& w) { load_frost(*model, w); }
  const float* operator()(const float* x) noexcept {
    run(frost::matrix_view<const float, in>(x, 1), frost::matrix_view<float, out>(y.data(), 1));
    return y.data();
  }
};

// frost with a whole 64-sample buffer as one batch (make_inference<64>): what a stateless model
// in an audio callback can do instead of 64 calls. Inputs contiguous, 64 rows a call.
template <class Model>
struct frost_buffer_runner {
  static constexpr std::size_t in = Model::input_shape::size, out = Model::output_shape::size, rows = 64;
  const Model* model;
  frost::inference<Model, rows> run;
  std::vector<float> x = std::vector<float>(samples * in);
  std::array<float, rows * out> y{};
  frost_buffer_runner(const Model& m, const inputs& xs) : model(&m), run(frost::make_inference<rows>(m)) {
    for (std::size_t k = 0; k < samples; ++k) std::copy_n(xs.at(k), in, x.data() + k * in);
  }
  const float* operator()(std::size_t first) noexcept {
    run(frost::matrix_view<const float, in>(x.data() + first * in, rows), frost::matrix_view<float, out>(y.data(), rows));
    return y.data();
  }
};

#if defined(FROST_BENCH_WITH_RTNEURAL)
using rt_article = RTNeural::ModelT<float, 100, 10, RTNeural::DenseT<float, 100, 64>, RTNeural::ReLuActivationT<float, 64>,
                                    RTNeural::DenseT<float, 64, 32>, RTNeural::ReLuActivationT<float, 32>,
                                    RTNeural::DenseT<float, 32, 10>, RTNeural::SoftmaxActivationT<float, 10>>;
using rt_audio_tanh = RTNeural::ModelT<float, 1, 1, RTNeural::DenseT<float, 1, 8>, RTNeural::TanhActivationT<float, 8>,
                                       RTNeural::DenseT<float, 8, 8>, RTNeural::TanhActivationT<float, 8>,
                                       RTNeural::DenseT<float, 8, 1>>;
using rt_audio_relu = RTNeural::ModelT<float, 4, 4, RTNeural::DenseT<float, 4, 16>, RTNeural::ReLuActivationT<float, 16>,
                                       RTNeural::DenseT<float, 16, 16>, RTNeural::ReLuActivationT<float, 16>,
                                       RTNeural::DenseT<float, 16, 4>>;

// RTNeural: weights[out][in] from the Keras kernel, zero biases; dense layers at 0, 2, 4.
template <class Model>
struct rtneural_runner {
  std::unique_ptr<Model> model = std::make_unique<Model>();
  explicit rtneural_runner(const weights& w, const model_sizes& m) {
    [&]<std::size_t... L>(std::index_sequence<L...>) {
      (set_layer(model->template get<int(2 * L)>(), w.kernel[L], m.units[L], m.units[L + 1]), ...);
    }(std::make_index_sequence<3>{});
  }
  template <class Dense>
  static void set_layer(Dense& d, const std::vector<float>& k, std::size_t in, std::size_t out) {
    std::vector<std::vector<float>> rows(out, std::vector<float>(in));
    for (std::size_t o = 0; o < out; ++o)
      for (std::size_t i = 0; i < in; ++i) rows[o][i] = k[i * out + o];
    d.setWeights(rows);
    const std::vector<float> zero(out, 0.f);
    d.setBias(zero.data());
  }
  const float* operator()(const float* x) noexcept {
    model->forward(x);
    return model->getOutputs();
  }
};
#endif

#if defined(FROST_BENCH_WITH_EIGEN)
// The hand-written Eigen MLP of the peer report at batch 1 (the article's network only).
struct eigen_runner {
  eigen_peer::mlp<float> net{workloads[0], 1, 0};
  eigen_peer::mlp<float>::matrix x{100, 1};
  const float* operator()(const float* in) noexcept {
    std::copy_n(in, 100, x.data());
    return net.predict(x).data();
  }
};
#endif

// The largest |a - b| over every sample's outputs.
template <class A, class B>
float largest_difference(A& a, B& b, const inputs& xs, std::size_t outputs) {
  float worst = 0;
  for (std::size_t k = 0; k < samples; ++k) {
    std::vector<float> ya(a(xs.at(k)), a(xs.at(k)) + outputs);
    const float* yb = b(xs.at(k));
    for (std::size_t j = 0; j < outputs; ++j) worst = std::max(worst, std::abs(ya[j] - yb[j]));
  }
  return worst;
}

void require_close(const char* what, float worst) {
  std::fprintf(stderr, "outputs %s: largest difference %.3g\n", what, double(worst));
  if (!(worst <= 1e-5f)) {
    std::fprintf(stderr, "latency: outputs %s differ by %.3g > 1e-5; not timing\n", what, double(worst));
    std::exit(1);
  }
}

template <class Runner>
void register_inference(const std::string& name, std::size_t block, std::shared_ptr<Runner> r,
                        std::shared_ptr<inputs> xs) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [r, xs, block](benchmark::State& s) {
                                 time_calls(s, block, [&](std::size_t k) {
                                   const float* y = (*r)(xs->at(k));
                                   benchmark::DoNotOptimize(y);
                                   benchmark::ClobberMemory();
                                 });
                               })
      ->Iterations(iterations)
      ->Unit(benchmark::kNanosecond);
}

// A training step on one sample of the article's network: frost's trainer (make_trainer<1>) and
// the Eigen MLP, both Adam with Keras's defaults and learning rate 0.001, one-hot targets.
void register_steps(const weights& w, std::shared_ptr<inputs> xs) {
  auto targets = std::make_shared<std::vector<float>>(samples * classes);
  fill_one_hot(targets->data(), samples);
  {
    struct state {
      frost_article model{frost_article::uninitialized_tag{}};
      frost::trainer<frost_article, frost::categorical_crossentropy, frost::adam, false, 1> tr =
          frost::make_trainer<1>(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.001f});
    };
    auto st = std::make_shared<state>();
    load_frost(st->model, w);
    benchmark::RegisterBenchmark("latency/article/frost/step",
                                 [st, xs, targets](benchmark::State& s) {
                                   time_calls(s, 1, [&](std::size_t k) {
                                     const float loss = st->tr.step(
                                         frost::matrix_view<const float, 100>(xs->at(k), 1),
                                         frost::matrix_view<const float, 10>(targets->data() + k * classes, 1));
                                     benchmark::DoNotOptimize(loss);
                                   });
                                 })
        ->Iterations(iterations / 10)
        ->Unit(benchmark::kNanosecond);
  }
#if defined(FROST_BENCH_WITH_EIGEN)
  {
    struct state {
      eigen_peer::mlp<float> net{workloads[0], 1, 0};
      eigen_peer::mlp<float>::matrix x{100, 1}, y{10, 1};
    };
    auto st = std::make_shared<state>();
    benchmark::RegisterBenchmark("latency/article/eigen/step",
                                 [st, xs, targets](benchmark::State& s) {
                                   time_calls(s, 1, [&](std::size_t k) {
                                     std::copy_n(xs->at(k), 100, st->x.data());
                                     std::copy_n(targets->data() + k * classes, classes, st->y.data());
                                     const float loss = st->net.step(st->x, st->y);
                                     benchmark::DoNotOptimize(loss);
                                   });
                                 })
        ->Iterations(iterations / 10)
        ->Unit(benchmark::kNanosecond);
  }
#endif
}

template <class FrostModel, class RtModel>
void register_model(const model_sizes& m) {
  const weights w(m);
  auto xs = std::make_shared<inputs>(m.units[0]);
  auto f = std::make_shared<frost_runner<FrostModel>>(w);
  const std::string base = std::string("latency/") + m.name + "/";
  const std::size_t block = m.units == article.units ? 1 : 64;  // audio models: a 64-sample buffer
  register_inference(base + "frost", block, f, xs);
  if (block == 64) {
    auto fb = std::make_shared<frost_buffer_runner<FrostModel>>(*f->model, *xs);
    // The batch's rows against the calls one by one (tiles and single rows add in other orders).
    float worst = 0;
    for (std::size_t first = 0; first < samples; first += 64) {
      const float* yb = (*fb)(first);
      for (std::size_t k = 0; k < 64; ++k)
        for (std::size_t j = 0; j < m.units[3]; ++j)
          worst = std::max(worst, std::abs(yb[k * m.units[3] + j] - (*f)(xs->at(first + k))[j]));
    }
    require_close((std::string(m.name) + " frost, one batch of 64 vs 64 calls").c_str(), worst);
    benchmark::RegisterBenchmark((base + "frost_batch64").c_str(),
                                 [fb](benchmark::State& s) {
                                   time_calls(
                                       s, 64,
                                       [&](std::size_t k) {
                                         const float* y = (*fb)(k);
                                         benchmark::DoNotOptimize(y);
                                         benchmark::ClobberMemory();
                                       },
                                       64);
                                 })
        ->Iterations(iterations)
        ->Unit(benchmark::kNanosecond);
  }
#if defined(FROST_BENCH_WITH_RTNEURAL)
  auto rt = std::make_shared<rtneural_runner<RtModel>>(w, m);
  require_close((std::string(m.name) + " frost vs RTNeural").c_str(), largest_difference(*f, *rt, *xs, m.units[3]));
  register_inference(base + "rtneural", block, rt, xs);
#endif
#if defined(FROST_BENCH_WITH_EIGEN)
  if (m.units == article.units) {
    auto e = std::make_shared<eigen_runner>();
    require_close("article frost vs Eigen", largest_difference(*f, *e, *xs, m.units[3]));
    register_inference(base + "eigen", block, e, xs);
  }
#endif
  if (m.units == article.units) register_steps(w, xs);
}

}  // namespace

int main(int argc, char** argv) {
  // This thread flushes subnormals to zero, as audio threads do, for every library alike; frost
  // is told so and leaves the floating-point mode alone in its calls.
  frost::flush_denormals_on_this_thread();
  calibrate();
  benchmark::AddCustomContext("ns_per_tick", std::to_string(ns_per_tick));
  benchmark::AddCustomContext("timer_overhead_ns", std::to_string(overhead_ticks * ns_per_tick));
#if defined(FROST_BENCH_WITH_RTNEURAL)
  benchmark::AddCustomContext("rtneural", "ModelT, Eigen backend, RTNEURAL_DEFAULT_ALIGNMENT=" +
                                              std::to_string(RTNEURAL_DEFAULT_ALIGNMENT) + ", source " FROST_RTNEURAL_REVISION);
  register_model<frost_article, rt_article>(article);
  register_model<frost_audio_tanh, rt_audio_tanh>(audio_tanh);
  register_model<frost_audio_relu, rt_audio_relu>(audio_relu);
#else
  register_model<frost_article, void>(article);
  register_model<frost_audio_tanh, void>(audio_tanh);
  register_model<frost_audio_relu, void>(audio_relu);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
