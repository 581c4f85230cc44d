// Data-parallel training across processes (frost::distributed), run under mpirun by
// scripts/bench-distributed with 1 and with 2 processes:
//   distributed/step/<model>         one step on a global batch of 256 (each rank its shard),
//                                    the gradients summed once after backward
//   distributed/buckets/<model>      a step of each of three forms in turn: one sum, buckets of
//                                    at least 8 KB and a sum per layer (buckets started as
//                                    backward finishes them); each form's mean as counters
//   distributed/allreduce/<floats>   one in-place sum of that many floats over the ranks
//   local/step/<model>/<rows>        (1 process only) one step of a plain trainer on `rows`
//                                    rows: the compute of a rank's shard at 2 to 64 ranks
// Models: the article's MLP 100-64-32-10, all trainable (8,874 parameters travel) and with its
// first layer frozen (2,410); and a small CNN on 16 × 16 × 3 images (conv 32 3 × 3, pool, conv
// 64 3 × 3, pool, dense 10), whose step has far more compute per parameter. Every benchmark has fixed iterations, so that the ranks run them
// in lockstep; rank 0 reports, the others write nothing.
#include <frost/distributed/trainer.hpp>
#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using all_trainable = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                        frost::dense<10, frost::softmax>>;
using frozen_first = frost::frozen_model_t<all_trainable, 0>;
using cnn = frost::sequential<frost::input<16, 16, 3>, frost::conv2d<32, 3, 3, frost::relu>, frost::max_pooling2d<2, 2>,
                              frost::conv2d<64, 3, 3, frost::relu>, frost::max_pooling2d<2, 2>, frost::flatten,
                              frost::dense<10, frost::softmax>>;
constexpr std::size_t global_batch = 256;

// The first `rows` samples of a batch, as a view of the same sample shape.
template <class T, std::size_t... D>
frost::matrix_view<const T, D...> first_rows(const frost::matrix<T, D...>& m, std::size_t rows) {
  return frost::matrix_view<const T, D...>(m.data(), rows);
}

// A global batch of random inputs of the model's shape and one-hot targets.
template <class Model>
struct data {
  typename Model::input_matrix x{global_batch};
  frost::matrix<float, 10> y{global_batch};
  data() {
    frost::random_stream rng(7);
    for (float& v : x.values()) v = static_cast<float>(rng.uniform(-1, 1));
    for (std::size_t i = 0; i < global_batch; ++i) y(i, i % 10) = 1.f;
  }
};

// The global batch every benchmark of a model trains on.
template <class Model>
const data<Model> batch;

// A model and its trainer, living as long as the program: the benchmarks run them later.
template <class Model>
struct state {
  Model model = Model::init(1);
  frost::trainer<Model, frost::categorical_crossentropy, frost::adam, true> tr =
      frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.001f}, global_batch,
                          frost::keep_gradients);
};
template <class Model>
using distributed_t = frost::distributed<decltype(state<Model>::tr)>;

// One step of each of three forms in turn: the gradients summed once after backward, in buckets
// of at least 8 KB, and a sum per layer (buckets start as backward finishes them and run while
// earlier layers compute), so that the machine's drift falls on the three alike. Each form's
// mean step (µs) and sums a step are counters.
template <class Model>
void register_bucket_forms(const char* name, const std::shared_ptr<state<Model>>& st, frost::mpi::communicator comm) {
  struct form {
    std::string label;
    std::shared_ptr<distributed_t<Model>> dist;
  };
  auto forms = std::make_shared<std::vector<form>>();
  for (const auto& [label, bytes] : {std::pair{"one_sum", frost::bucket_bytes::one_sum},
                                     std::pair{"by_8k", std::size_t(8192)}, std::pair{"by_layer", std::size_t(0)}})
    forms->push_back({label, std::make_shared<distributed_t<Model>>(st->tr, comm, frost::bucket_bytes{bytes})});
  benchmark::RegisterBenchmark((std::string("distributed/buckets/") + name).c_str(),
                               [st, forms](benchmark::State& s) {
                                 using clock = std::chrono::steady_clock;
                                 std::vector<clock::duration> spent(forms->size());
                                 std::vector<std::uint64_t> sums;
                                 for (const form& f : *forms) sums.push_back(f.dist->gradient_sums());
                                 for (auto _ : s)
                                   for (std::size_t f = 0; f < forms->size(); ++f) {
                                     const auto t0 = clock::now();
                                     benchmark::DoNotOptimize((*forms)[f].dist->step(batch<Model>.x, batch<Model>.y));
                                     spent[f] += clock::now() - t0;
                                   }
                                 const double n = double(s.iterations());
                                 for (std::size_t f = 0; f < forms->size(); ++f) {
                                   const form& fm = (*forms)[f];
                                   s.counters[fm.label + "_us"] = std::chrono::duration<double, std::micro>(spent[f]).count() / n;
                                   s.counters[fm.label + "_sums"] = double(fm.dist->gradient_sums() - sums[f]) / n;
                                 }
                               })
      ->Iterations(300)
      ->Unit(benchmark::kMicrosecond);
}

template <class Model>
void register_steps(const char* name, frost::mpi::communicator comm) {
  auto st = std::make_shared<state<Model>>();
  auto dist = std::make_shared<distributed_t<Model>>(st->tr, comm);
  benchmark::RegisterBenchmark((std::string("distributed/step/") + name).c_str(),
                               [st, dist](benchmark::State& s) {
                                 for (auto _ : s) benchmark::DoNotOptimize(dist->step(batch<Model>.x, batch<Model>.y));
                                 s.counters["ranks"] = double(dist->size());
                                 s.counters["gradient_bytes"] = double(Model::trainable_param_count * sizeof(float));
                               })
      ->Iterations(300)
      ->Unit(benchmark::kMicrosecond);
  if (comm.size() > 1) {
    register_bucket_forms<Model>(name, st, comm);
    return;
  }
  for (std::size_t rows = global_batch; rows >= 4; rows /= 2) {
    benchmark::RegisterBenchmark((std::string("local/step/") + name + "/" + std::to_string(rows)).c_str(),
                                 [st, rows](benchmark::State& s) {
                                   const auto x = first_rows(batch<Model>.x, rows);
                                   const auto y = first_rows(batch<Model>.y, rows);
                                   for (auto _ : s) benchmark::DoNotOptimize(st->tr.step(x, y));
                                 })
        ->Iterations(300)
        ->Unit(benchmark::kMicrosecond);
  }
}

// Reports nothing: the ranks other than 0.
struct silent : benchmark::BenchmarkReporter {
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  frost::mpi::environment mpi(argc, argv);
  const auto comm = frost::mpi::communicator::world();
  frost::flush_denormals_on_this_thread();
  register_steps<all_trainable>("all_trainable", comm);
  register_steps<frozen_first>("first_layer_frozen", comm);
  register_steps<cnn>("cnn", comm);
  for (std::size_t floats : {std::size_t(256), std::size_t(4096), std::size_t(65536), std::size_t(1) << 20}) {
    auto buffer = std::make_shared<std::vector<float>>(floats, 1.f);
    benchmark::RegisterBenchmark(("distributed/allreduce/" + std::to_string(floats)).c_str(),
                                 [buffer, comm](benchmark::State& s) {
                                   for (auto _ : s) comm.sum(buffer->data(), buffer->size(), "bench");
                                   s.counters["bytes"] = double(buffer->size() * sizeof(float));
                                 })
        ->Iterations(floats >= 65536 ? 200 : 2000)
        ->Unit(benchmark::kMicrosecond);
  }
  // Only rank 0 writes --benchmark_out: the others drop the flag (and their reports).
  std::vector<char*> args(argv, argv + argc);
  if (comm.rank() != 0)
    std::erase_if(args, [](const char* a) { return std::string(a).rfind("--benchmark_out", 0) == 0; });
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (comm.rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    // Same benchmarks, same iterations, nothing written (no --benchmark_out for these ranks).
    silent quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
}
