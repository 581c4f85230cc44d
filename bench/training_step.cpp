// Training-step and inference timings for the reference network
//   sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>
// with categorical cross-entropy and Adam, all layers trainable or layers 0 and 1 frozen.
//
// Counters (rates over the timed loop):
//   samples  samples per second (batch rows per step)
//   FLOP     floating-point operations per second, counting only the GEMM work the
//            configuration needs (2·M·K·N per product), not what the code happens to do.
// The ideal FLOPs per sample of each configuration, and their frozen/trainable ratio, are
// written to the benchmark context (console header and JSON "context").
//
// Then, at batch 128 with the peers' weights and data (bench/peers/workloads.hpp), the graph
// cases "graph/<model>/<config>":
//   W2_sequential  the peers' W2, sequential<input<784>, dense<512, relu>, dense<512, relu>, dense<10, softmax>>
//   W2_functional  the same layers as a functional chain, make_model(in, dense{}(dense{}(dense{}(in))))
//   residual       784 -> dense 512 relu -> 2 × [dense 512 relu, add its input] -> dense 10 softmax
//   two_branch     inputs of 784 and 64 features; frozen dense 512 -> 256 on the first, dense 128
//                  on the second, concatenate, dense 10 softmax (`trainable`: nothing frozen)
// with `trainable`, `frozen` (W2: layers 0, 1; two_branch: branch A) and `inference` (the
// trainer's predict) steps. FLOP counts are the peers'.
//
// Then "update/<workload>/b<batch>/<path>": a fully trainable step of the peers' W1 (batch 32),
// W2 (128), W3 (256) and CNN (32) networks with Adam, `fused` (the default trainer: the update
// inside the weight-gradient products, no gradient stored) against `kept` (a trainer made with
// keep_gradients: gradient arena, then the update). Counter `bytes`: the trainer's
// allocated_bytes(). Run them interleaved (--benchmark_enable_random_interleaving=true) and
// compare within one run.
//
// Then "batch1/...": the reference network at batch 1, a step with Adam and with SGD, and Adam's
// update alone over 8,874 parameters (frost's pass, and the equations as a plain loop).
//
// Then "threads/784-300-100-10/b50/<config>/<n>": a 784-300-100-10 network (relu, softmax) at
// batch 50, its first layer frozen or all trainable, on a trainer made with threads{n}, n = 1, 2:
// a step that threads must never make slower.

#include "peers/frost_models.hpp"
#include "peers/workloads.hpp"

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost_bench {
void adam_plain_loop(float* w, const float* g, float* m, float* v, std::size_t n, float alpha, float one_b1,
                     float one_b2, float eps) noexcept;  // adam_plain_loop.cpp
}

namespace {

using net = frost::sequential<frost::input<100>,
                              frost::dense<64, frost::relu>,
                              frost::dense<32, frost::relu>,
                              frost::dense<10, frost::softmax>>;
using frozen_net = decltype(frost::freeze<0, 1>(std::declval<net>()));

// ---------------------------------------------------------------------------------------------
// Ideal FLOPs, from the layer sizes alone.

struct dense_dims {
  std::size_t inputs;  // K
  std::size_t units;   // N
};
constexpr std::array<dense_dims, 3> layers{{{100, 64}, {64, 32}, {32, 10}}};
constexpr std::array<bool, 3> all_trainable{true, true, true};
constexpr std::array<bool, 3> first_two_frozen{false, false, true};

// One GEMM of an M×K by K×N product, per sample (M = 1): 2·K·N.
constexpr double gemm_flops_per_row(const dense_dims& d) { return 2.0 * double(d.inputs) * double(d.units); }

constexpr double forward_flops_per_sample() {
  double f = 0;
  for (const auto& d : layers) f += gemm_flops_per_row(d);
  return f;
}

// Forward for every layer; dW = Xᵀ·dZ for each trainable layer; dX = dZ·Wᵀ for each layer with
// a trainable layer somewhere below it (closer to the input). Bias and activation work is not
// counted: it is O(M·N), small next to the products.
constexpr double training_flops_per_sample(const std::array<bool, 3>& trainable) {
  double f = forward_flops_per_sample();
  bool trainable_below = false;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (trainable[i]) f += gemm_flops_per_row(layers[i]);  // dW
    if (trainable_below) f += gemm_flops_per_row(layers[i]);  // dX
    trainable_below = trainable_below || trainable[i];
  }
  return f;
}

constexpr double flops_trainable = training_flops_per_sample(all_trainable);
constexpr double flops_frozen = training_flops_per_sample(first_two_frozen);
constexpr double flops_inference = forward_flops_per_sample();
static_assert(flops_inference == 2.0 * (100 * 64 + 64 * 32 + 32 * 10));
static_assert(flops_trainable == 2.0 * (3 * 8768 - 100 * 64));  // 3×forward minus dX of layer 0
static_assert(flops_frozen == 2.0 * (8768 + 32 * 10));           // forward plus dW of the head

// ---------------------------------------------------------------------------------------------
// Deterministic data: inputs in [-0.5, 0.5), one-hot targets.

void fill_batch(frost::matrix<float, 100>& x, frost::matrix<float, 10>& y) {
  std::uint32_t state = 0x9e3779b9u;
  for (std::size_t i = 0; i < x.rows(); ++i) {
    for (std::size_t j = 0; j < 100; ++j) {
      state = state * 1664525u + 1013904223u;  // LCG, upper 24 bits as the fraction
      x(i, j) = float(state >> 8) / float(1u << 24) - 0.5f;
    }
    for (std::size_t j = 0; j < 10; ++j) y(i, j) = 0.f;
    y(i, (i * 7 + 3) % 10) = 1.f;
  }
}

void set_counters(benchmark::State& state, std::size_t batch, double flops_per_sample) {
  state.counters["samples"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP"] =
      benchmark::Counter(flops_per_sample * double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

// ---------------------------------------------------------------------------------------------

// The same initial weights for both configurations (seed 42), frozen or not.
template <class Model>
Model make_model() {
  if constexpr (std::is_same_v<Model, net>) return net::init(42);
  else return frost::freeze<0, 1>(net::init(42));
}

template <class Model>
void train_step(benchmark::State& state, double flops_per_sample) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  Model model = make_model<Model>();
  frost::matrix<float, 100> x(batch);
  frost::matrix<float, 10> y(batch);
  fill_batch(x, y);
  auto trainer = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.001f}, batch);

  for (auto _ : state) {
    float loss = trainer.step(x, y);
    benchmark::DoNotOptimize(loss);
  }
  set_counters(state, batch, flops_per_sample);
}

void inference(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const net model = net::init(42);
  frost::matrix<float, 100> x(batch);
  frost::matrix<float, 10> y(batch);
  fill_batch(x, y);

  for (auto _ : state) {
    auto p = model(x);
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, batch, flops_inference);
}

// ---------------------------------------------------------------------------------------------
// Batch 1 (online learning): where a step's time goes. The whole step with Adam and with plain
// SGD (no moments, no division or square root), then Adam's update alone over as many
// parameters as the network has (8,874): frost's optimizer pass over a gradient arena, and the
// same equations as a plain loop the compiler vectorizes. Each update reads and writes w, m
// and v (106 KB here: more than L1, so they stream from L2) and runs one correctly rounded
// division and square root per parameter, as Keras's equations ask; any exact Adam step pays it.

constexpr std::size_t net_parameters = 100 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10;

template <class Optimizer>
void batch1_step(benchmark::State& state, Optimizer opt) {
  net model = net::init(42);
  frost::matrix<float, 100> x(1);
  frost::matrix<float, 10> y(1);
  fill_batch(x, y);
  auto trainer = frost::make_trainer(model, frost::categorical_crossentropy{}, opt, 1);
  for (int i = 0; i < 3; ++i) trainer.step(x, y);
  for (auto _ : state) {
    float loss = trainer.step(x, y);
    benchmark::DoNotOptimize(loss);
  }
}

struct adam_arrays {
  std::vector<float> w, g, m, v;
  adam_arrays() : w(net_parameters), g(net_parameters), m(2 * net_parameters, 0.f), v(net_parameters, 0.f) {
    std::uint32_t r = 99;
    for (std::size_t i = 0; i < net_parameters; ++i) {
      r = r * 1664525u + 1013904223u;
      w[i] = float(r >> 8) / float(1u << 24) - 0.5f;
      g[i] = 1e-3f * (float(r >> 16) / 65536.f - 0.5f);
    }
  }
};

void adam_update_frost(benchmark::State& state) {
  adam_arrays a;  // m: the state arena, m then v (stride net_parameters)
  const frost::adam opt{};
  std::uint64_t t = 0;
  for (auto _ : state) {
    opt.update(a.w.data(), a.g.data(), a.m.data(), net_parameters, net_parameters, ++t);
    benchmark::DoNotOptimize(a.w.data());
    benchmark::ClobberMemory();
  }
}

void adam_update_loop(benchmark::State& state) {
  adam_arrays a;
  const frost::adam opt{};
  const float b1 = opt.beta_1, b2 = opt.beta_2;
  std::uint64_t t = 0;
  for (auto _ : state) {
    ++t;
    const float alpha = float(double(opt.learning_rate) * std::sqrt(1.0 - std::pow(double(b2), double(t))) /
                              (1.0 - std::pow(double(b1), double(t))));
    frost_bench::adam_plain_loop(a.w.data(), a.g.data(), a.m.data(), a.v.data(), net_parameters, alpha,
                                 1.f - b1, 1.f - b2, opt.epsilon);
    benchmark::DoNotOptimize(a.w.data());
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------------------------------------
// Graph cases, batch 128: one training step (or prediction) of `model` on `x` per iteration.

constexpr std::size_t graph_batch = 128;

template <class Model, class X>
void graph_steps(benchmark::State& state, Model& model, const X& x, frost_peers::config c, double flop_per_sample) {
  frost::matrix<float, frost_peers::classes> y(graph_batch);
  frost_peers::fill_one_hot(y.data(), graph_batch);
  auto trainer = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, graph_batch);
  if (c != frost_peers::config::inference) {
    for (auto _ : state) {
      float loss = trainer.step(x, y);
      benchmark::DoNotOptimize(loss);
    }
  } else {
    for (auto _ : state) {
      auto p = trainer.predict(x);
      benchmark::DoNotOptimize(p.data());
      benchmark::ClobberMemory();
    }
  }
  set_counters(state, graph_batch, flop_per_sample);
}

// W2 as `Model` (sequential, First = 0, or a functional chain, First = 1); `frozen`: layers 0, 1.
template <class Model, std::size_t First>
void w2_case(benchmark::State& state, frost_peers::config c) {
  const frost_peers::workload& w = frost_peers::workloads[1];
  Model model = Model::init(0);
  frost_peers::load_peer_weights<First>(model, w);
  typename Model::input_matrix x(graph_batch);
  frost_peers::fill_inputs(x.data(), graph_batch, w.inputs());
  const double flops = frost_peers::flop_per_sample(w, c);
  if (c == frost_peers::config::frozen) {
    auto frozen = frost::freeze<First, First + 1>(std::move(model));
    graph_steps(state, frozen, x, c, flops);
  } else {
    graph_steps(state, model, x, c, flops);
  }
}

void residual_case(benchmark::State& state, frost_peers::config c) {
  auto model = frost_peers::make_residual();
  frost_peers::residual::input_matrix x(graph_batch);
  frost_peers::fill_inputs(x.data(), graph_batch, frost_peers::residual_products.inputs());
  graph_steps(state, model, x, c, frost_peers::graph_flop_per_sample(frost_peers::graph_workloads[0], c));
}

template <bool FrozenA>
void two_branch_case(benchmark::State& state, frost_peers::config c) {
  using s = frost_peers::two_branch_sizes;
  auto model = frost_peers::make_two_branch<FrozenA>();
  frost::matrix<float, s::a_inputs> a(graph_batch);
  frost::matrix<float, s::b_inputs> b(graph_batch);
  frost_peers::fill_inputs(a.data(), graph_batch, s::a_inputs);
  frost_peers::fill_inputs(b.data(), graph_batch, s::b_inputs, frost_peers::second_input_seed);
  graph_steps(state, model, std::tie(a, b), c, frost_peers::graph_flop_per_sample(frost_peers::graph_workloads[1], c));
}

// A trainable step on the fused or the gradient-arena path; three warm-up steps first.
template <class Model, bool Keep>
void update_path(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  Model model = Model::init(42);
  typename Model::input_matrix x(batch);
  frost::matrix<float, Model::output_shape::size> y(batch);
  std::uint32_t r = 12345;
  for (float& v : x.values()) {
    r = r * 1664525u + 1013904223u;
    v = float(r >> 8) / float(1u << 24) - 0.5f;
  }
  for (std::size_t i = 0; i < batch; ++i) y(i, (i * 7) % Model::output_shape::size) = 1.f;
  auto trainer = [&] {
    const frost::adam spec{.learning_rate = 0.001f};
    if constexpr (Keep) return frost::make_trainer(model, frost::categorical_crossentropy{}, spec, batch, frost::keep_gradients);
    else return frost::make_trainer(model, frost::categorical_crossentropy{}, spec, batch);
  }();
  for (int i = 0; i < 3; ++i) trainer.step(x, y);
  for (auto _ : state) {
    float loss = trainer.step(x, y);
    benchmark::DoNotOptimize(loss);
  }
  state.counters["bytes"] = double(trainer.allocated_bytes());
}

using mlp_784_300 = frost::sequential<frost::input<784>, frost::dense<300, frost::relu>, frost::dense<100, frost::relu>,
                                      frost::dense<10, frost::softmax>>;

template <bool FirstFrozen, std::size_t Threads>
void threads_case(benchmark::State& state) {
  constexpr std::size_t batch = 50;
  auto model = [] {
    if constexpr (FirstFrozen) return frost::freeze<0>(mlp_784_300::init(42));
    else return mlp_784_300::init(42);
  }();
  frost::matrix<float, 784> x(batch);
  frost::matrix<float, 10> y(batch);
  std::uint32_t r = 777;
  for (float& v : x.values()) {
    r = r * 1664525u + 1013904223u;
    v = float(r >> 8) / float(1u << 24);
  }
  for (std::size_t i = 0; i < batch; ++i) y(i, i % 10) = 1.f;
  auto trainer = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.001f},
                                     batch, frost::threads{Threads});
  for (int i = 0; i < 3; ++i) trainer.step(x, y);
  for (auto _ : state) {
    float loss = trainer.step(x, y);
    benchmark::DoNotOptimize(loss);
  }
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr double min_time = 0.2;  // seconds per run: the whole suite stays short
  for (long batch : {32L, 256L}) {
    benchmark::RegisterBenchmark("train_step/trainable", train_step<net>, flops_trainable)
        ->Arg(batch)->ArgName("batch")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
    benchmark::RegisterBenchmark("train_step/frozen_0_1", train_step<frozen_net>, flops_frozen)
        ->Arg(batch)->ArgName("batch")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
    benchmark::RegisterBenchmark("inference", inference)
        ->Arg(batch)->ArgName("batch")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
  }

  auto batch1 = [&](const char* name, auto fn) {
    benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMicrosecond)->MinTime(min_time);
  };
  batch1("batch1/step/adam", [](benchmark::State& st) { batch1_step(st, frost::adam{}); });
  batch1("batch1/step/sgd", [](benchmark::State& st) { batch1_step(st, frost::sgd{}); });
  batch1("batch1/adam_update/frost", adam_update_frost);
  batch1("batch1/adam_update/plain_loop", adam_update_loop);

  using frost_peers::config;
  auto graph_case = [&](const char* name, auto fn, config c) {
    benchmark::RegisterBenchmark(name, fn, c)
        ->Arg(long(graph_batch))->ArgName("batch")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
  };
  using w2_functional = frost_peers::functional_chain_t<frost_peers::w2>;
  graph_case("graph/W2_sequential/trainable", w2_case<frost_peers::w2, 0>, config::trainable);
  graph_case("graph/W2_functional/trainable", w2_case<w2_functional, 1>, config::trainable);
  graph_case("graph/W2_sequential/frozen", w2_case<frost_peers::w2, 0>, config::frozen);
  graph_case("graph/W2_functional/frozen", w2_case<w2_functional, 1>, config::frozen);
  graph_case("graph/W2_sequential/inference", w2_case<frost_peers::w2, 0>, config::inference);
  graph_case("graph/W2_functional/inference", w2_case<w2_functional, 1>, config::inference);
  graph_case("graph/residual/trainable", residual_case, config::trainable);
  graph_case("graph/residual/inference", residual_case, config::inference);
  graph_case("graph/two_branch/trainable", two_branch_case<false>, config::trainable);
  graph_case("graph/two_branch/frozen", two_branch_case<true>, config::frozen);
  graph_case("graph/two_branch/inference", two_branch_case<false>, config::inference);

  auto update_case = [&](const std::string& name, long batch, auto fused, auto kept) {
    benchmark::RegisterBenchmark((name + "/fused").c_str(), fused)
        ->Arg(batch)->ArgName("b")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
    benchmark::RegisterBenchmark((name + "/kept").c_str(), kept)
        ->Arg(batch)->ArgName("b")->Unit(benchmark::kMicrosecond)->MinTime(min_time);
  };
  update_case("update/W1", 32, update_path<frost_peers::w1, false>, update_path<frost_peers::w1, true>);
  update_case("update/W2", 128, update_path<frost_peers::w2, false>, update_path<frost_peers::w2, true>);
  update_case("update/W3", 256, update_path<frost_peers::w3, false>, update_path<frost_peers::w3, true>);
  update_case("update/CNN", 32, update_path<frost_peers::cnn, false>, update_path<frost_peers::cnn, true>);

  auto threads_reg = [&](const char* name, auto fn) {
    benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMicrosecond)->MinTime(min_time)->UseRealTime();
  };
  threads_reg("threads/784-300-100-10/b50/first_frozen/1", threads_case<true, 1>);
  threads_reg("threads/784-300-100-10/b50/first_frozen/2", threads_case<true, 2>);
  threads_reg("threads/784-300-100-10/b50/trainable/1", threads_case<false, 1>);
  threads_reg("threads/784-300-100-10/b50/trainable/2", threads_case<false, 2>);

  benchmark::AddCustomContext("network", "input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>");
  benchmark::AddCustomContext("flop_per_sample_train_trainable", number(flops_trainable));
  benchmark::AddCustomContext("flop_per_sample_train_frozen_0_1", number(flops_frozen));
  benchmark::AddCustomContext("flop_per_sample_inference", number(flops_inference));
  benchmark::AddCustomContext("ideal_flop_ratio_frozen_over_trainable", number(flops_frozen / flops_trainable));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
