// Activation forward + backward over one layer's worth of values (256 rows × 512 units):
//   - activation<swish> (an expression, derivative generated) against a hand-written loop for
//     the same formula;
//   - relu, sigmoid and tanh written as expressions against frost's hand-specialized built-ins.
// One iteration runs y = f(z) and then g ← g·f'(z or y), as a training step does.

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <vector>

namespace {

constexpr std::size_t rows = 256;
constexpr std::size_t units = 512;

struct buffers {
  std::vector<float> z, y, g;
  buffers() : z(rows * units), y(rows * units), g(rows * units) {
    frost::random_stream rng(7);
    for (float& v : z) v = static_cast<float>(rng.uniform(-4, 4));
    for (float& v : g) v = static_cast<float>(rng.uniform(-1, 1));
  }
};

// frost's path: the activation as dense<units, F> and activation<F> run it.
template <class A>
void run_frost(benchmark::State& state) {
  using traits = frost::activation_traits<A>;
  buffers b;
  for (auto _ : state) {
    traits::template forward<units>(b.z.data(), b.y.data(), rows);
    traits::template backward<units>(b.z.data(), b.y.data(), b.g.data(), rows);
    benchmark::DoNotOptimize(b.g.data());
    benchmark::ClobberMemory();
  }
  state.counters["values"] = benchmark::Counter(double(rows * units), benchmark::Counter::kIsIterationInvariantRate);
}

// swish by hand: y = z·σ(z); g ← g·(σ(z) + z·σ(z)·(1 − σ(z))), the same formula frost derives.
void swish_hand_written(benchmark::State& state) {
  buffers b;
  const std::size_t n = rows * units;
  for (auto _ : state) {
    float* y = b.y.data();
    float* g = b.g.data();
    const float* z = b.z.data();
    for (std::size_t i = 0; i < n; ++i) y[i] = z[i] * (1.f / (1.f + std::exp(-z[i])));
    for (std::size_t i = 0; i < n; ++i) {
      const float s = 1.f / (1.f + std::exp(-z[i]));
      g[i] *= s + z[i] * (s * (1.f - s));
    }
    benchmark::DoNotOptimize(b.g.data());
    benchmark::ClobberMemory();
  }
  state.counters["values"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}

using swish_t = std::remove_const_t<decltype(frost::swish)>;
using relu_expr = decltype(frost::relu(frost::_x));
using sigmoid_expr = decltype(frost::sigmoid(frost::_x));
using tanh_expr = decltype(frost::tanh(frost::_x));

}  // namespace

BENCHMARK(run_frost<swish_t>)->Name("activation/swish/expression")->MinTime(0.2);
BENCHMARK(swish_hand_written)->Name("activation/swish/hand_written")->MinTime(0.2);
BENCHMARK(run_frost<frost::activations::relu>)->Name("activation/relu/builtin")->MinTime(0.2);
BENCHMARK(run_frost<relu_expr>)->Name("activation/relu/expression")->MinTime(0.2);
BENCHMARK(run_frost<frost::activations::sigmoid>)->Name("activation/sigmoid/builtin")->MinTime(0.2);
BENCHMARK(run_frost<sigmoid_expr>)->Name("activation/sigmoid/expression")->MinTime(0.2);
BENCHMARK(run_frost<frost::activations::tanh>)->Name("activation/tanh/builtin")->MinTime(0.2);
BENCHMARK(run_frost<tanh_expr>)->Name("activation/tanh/expression")->MinTime(0.2);
