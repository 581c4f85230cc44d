// Data-parallel training across processes (frost::distributed), run under mpirun by
// scripts/bench-distributed with 1 and with 2 processes:
//   distributed/step/<model>         one step on a global batch of 256 (each rank its shard),
//                                    the gradients summed once after backward
//   distributed/step_by_8k/<model>   the same, the gradients summed in buckets of at least 8 KB,
//                                    each started as backward finishes it
//   distributed/step_by_layer/<model> the same, one sum per layer
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

template <class Model>
void register_steps(const char* name, frost::mpi::communicator comm) {
  static const data<Model> d;
  // The model and trainer live as long as the program: the benchmark runs them later.
  struct state {
    Model model = Model::init(1);
    frost::trainer<Model, frost::categorical_crossentropy, frost::adam, true> tr =
        frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.001f},
                            global_batch, frost::keep_gradients);
  };
  auto st = std::make_shared<state>();
  // The gradients summed once after backward, in buckets of at least 8 KB, and by layer: buckets
  // start as backward finishes them, running while earlier layers compute.
  for (const auto& [form, bytes] : {std::pair{"step", frost::bucket_bytes::one_sum}, std::pair{"step_by_8k", std::size_t(8192)},
                                    std::pair{"step_by_layer", std::size_t(0)}}) {
    auto dist = std::make_shared<frost::distributed<decltype(st->tr)>>(st->tr, comm, frost::bucket_bytes{bytes});
    benchmark::RegisterBenchmark((std::string("distributed/") + form + "/" + name).c_str(),
                                 [st, dist](benchmark::State& s) {
                                   const std::uint64_t sums = dist->gradient_sums();
                                   for (auto _ : s) benchmark::DoNotOptimize(dist->step(d.x, d.y));
                                   s.counters["ranks"] = double(dist->size());
                                   s.counters["gradient_bytes"] = double(Model::trainable_param_count * sizeof(float));
                                   s.counters["sums_a_step"] = double(dist->gradient_sums() - sums) / double(s.iterations());
                                 })
        ->Iterations(300)
        ->Unit(benchmark::kMicrosecond);
  }
  if (comm.size() != 1) return;
  for (std::size_t rows = global_batch; rows >= 4; rows /= 2) {
    benchmark::RegisterBenchmark((std::string("local/step/") + name + "/" + std::to_string(rows)).c_str(),
                                 [st, rows](benchmark::State& s) {
                                   const auto x = first_rows(d.x, rows);
                                   const auto y = first_rows(d.y, rows);
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
