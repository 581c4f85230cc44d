// What `fit` costs over the loop it replaces, on the article's network W1
//   sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>
// at batch 32 with categorical cross-entropy and Adam, over 3,200 samples (100 steps an epoch).
// One iteration is one epoch; the counter `step_us` is the time per step.
//
//   fit_overhead/bare_loop           trainer::step over the batches in order (views, no copy)
//   fit_overhead/fit                 fit(..., {.shuffle = false, .verbose = 0})
//   fit_overhead/fit_accuracy        the same with the accuracy metric
//   fit_overhead/bare_loop_shuffled  a Fisher–Yates shuffle, then each batch gathered into a matrix and stepped
//   fit_overhead/fit_shuffled        fit(..., {.shuffle = true, .verbose = 0})
//
// Run with --benchmark_enable_random_interleaving=true and repetitions: the ratios of the
// medians are the overhead (docs/performance.md, "fit").

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstring>
#include <numeric>
#include <vector>

namespace {

using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                              frost::dense<10, frost::softmax>>;
constexpr std::size_t samples = 3200;
constexpr std::size_t batch = 32;
constexpr std::size_t steps = samples / batch;

struct data {
  frost::matrix<float, 100> x{samples};
  frost::matrix<float, 10> y{samples};
  data() {
    frost::random_stream r(5);
    for (std::size_t i = 0; i < samples; ++i) {
      y(i, i % 10) = 1.f;
      for (std::size_t j = 0; j < 100; ++j) x(i, j) = static_cast<float>(r.uniform(0, 1));
    }
  }
};

const data& the_data() {
  static const data d;
  return d;
}

template <class Body>
void epochs(benchmark::State& state, Body&& body) {
  net model = net::init(1);
  // Learning rate 0: every step does all of Adam's work, but the model stays where it started, so
  // every epoch (and every case) times the same arithmetic. Trained on, the outputs saturate and
  // subnormal numbers slow the steps down as training goes, which would favour whichever case
  // ran first.
  auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.f}, batch);
  body(tr);  // warm-up: one epoch
  for (auto _ : state) body(tr);
  state.counters["step_us"] = benchmark::Counter(static_cast<double>(steps) * 1e-6,
                                                 benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void bare_loop(benchmark::State& state) {
  const auto& d = the_data();
  epochs(state, [&](auto& tr) {
    float sum = 0;
    for (std::size_t first = 0; first < samples; first += batch) {
      frost::matrix_view<const float, 100> xb(d.x.data() + first * 100, batch);
      frost::matrix_view<const float, 10> yb(d.y.data() + first * 10, batch);
      sum += tr.step(xb, yb);
    }
    benchmark::DoNotOptimize(sum);
  });
}

void bare_loop_shuffled(benchmark::State& state) {
  const auto& d = the_data();
  std::vector<std::size_t> order(samples);
  std::iota(order.begin(), order.end(), std::size_t{0});
  frost::random_stream rng(1);
  frost::matrix<float, 100> xb(batch);
  frost::matrix<float, 10> yb(batch);
  epochs(state, [&](auto& tr) {
    for (std::size_t i = samples; i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
    float sum = 0;
    for (std::size_t first = 0; first < samples; first += batch) {
      for (std::size_t r = 0; r < batch; ++r) {
        std::memcpy(xb.data() + r * 100, d.x.data() + order[first + r] * 100, 100 * sizeof(float));
        std::memcpy(yb.data() + r * 10, d.y.data() + order[first + r] * 10, 10 * sizeof(float));
      }
      sum += tr.step(xb, yb);
    }
    benchmark::DoNotOptimize(sum);
  });
}

template <bool Shuffle, bool Accuracy>
void fit_epoch(benchmark::State& state) {
  const auto& d = the_data();
  epochs(state, [&](auto& tr) {
    const frost::fit_options o{.epochs = 1, .batch_size = batch, .shuffle = Shuffle, .seed = 1, .verbose = 0};
    if constexpr (Accuracy) benchmark::DoNotOptimize(frost::fit(tr, d.x, d.y, o, frost::accuracy{}));
    else benchmark::DoNotOptimize(frost::fit(tr, d.x, d.y, o));
  });
}

[[maybe_unused]] const bool registered = [] {
  benchmark::RegisterBenchmark("fit_overhead/bare_loop", bare_loop);
  benchmark::RegisterBenchmark("fit_overhead/fit", fit_epoch<false, false>);
  benchmark::RegisterBenchmark("fit_overhead/fit_accuracy", fit_epoch<false, true>);
  benchmark::RegisterBenchmark("fit_overhead/bare_loop_shuffled", bare_loop_shuffled);
  benchmark::RegisterBenchmark("fit_overhead/fit_shuffled", fit_epoch<true, false>);
  return true;
}();

}  // namespace
