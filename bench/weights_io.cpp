// Weight files: saving and loading a 784-1024-1024-10 model (1.86 M parameters, 7.5 MB of
// float32) in each format, against the floors of the same work without a format: writing the
// bytes through the same atomic path (temporary file, fsync, rename) and reading them from a
// mapped file into the model's arena. Counters: bytes of weights per second.
//   - load_safetensors: map, check the header, convert into staging, commit;
//   - load_keras_weights: HDF5 lists the file in a child process (fork, pipe), then the same;
//   - load_checkpoint: the weights plus Adam's two slots (3× the bytes).

#include <frost/frost.hpp>
#include <frost/io/weight_files.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using net = frost::sequential<frost::input<784>, frost::dense<1024, frost::relu>, frost::dense<1024, frost::relu>,
                              frost::dense<10, frost::softmax>>;
constexpr std::size_t weight_bytes = net::param_count * sizeof(float);

std::string scratch(const std::string& name) {
  static const auto dir = [] {
    auto d = std::filesystem::temp_directory_path() / "frost-bench-weights";
    std::filesystem::create_directories(d);
    return d;
  }();
  return (dir / name).string();
}

net& model() {
  static net m = net::init(1);
  return m;
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * weight_bytes));
}

void save_floor(benchmark::State& state) {
  const auto p = model().trainable_parameters();
  for (auto _ : state) {
    frost::atomic_file out(scratch("floor.bin"), "bench");
    out.write(std::as_bytes(std::span<const float>(p.data(), p.size())));
    out.commit();
  }
  set_bytes(state);
}
void load_floor(benchmark::State& state) {
  auto& m = model();
  for (auto _ : state) {
    const frost::mapped_file f(scratch("floor.bin"), "bench");
    std::memcpy(m.trainable_parameters().data(), f.bytes().data(), f.bytes().size());
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}
void save_safetensors(benchmark::State& state) {
  for (auto _ : state) frost::save_safetensors(model(), scratch("m.safetensors"));
  set_bytes(state);
}
void load_safetensors(benchmark::State& state) {
  frost::save_safetensors(model(), scratch("m.safetensors"));
  auto m = net::init(2);
  for (auto _ : state) frost::load_safetensors(m, scratch("m.safetensors"));
  set_bytes(state);
}
void save_keras_weights(benchmark::State& state) {
  for (auto _ : state) frost::save_keras_weights(model(), scratch("m.weights.h5"));
  set_bytes(state);
}
void load_keras_weights(benchmark::State& state) {
  frost::save_keras_weights(model(), scratch("m.weights.h5"));
  auto m = net::init(2);
  for (auto _ : state) frost::load_keras_weights(m, scratch("m.weights.h5"));
  set_bytes(state);
}
void load_checkpoint(benchmark::State& state) {
  auto m = net::init(2);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 1);
  frost::save_checkpoint(tr, scratch("m.ckpt"));
  for (auto _ : state) frost::load_checkpoint(tr, scratch("m.ckpt"));
  set_bytes(state);
}

}  // namespace

BENCHMARK(save_floor)->Name("weights_io/save/floor")->Unit(benchmark::kMillisecond);
BENCHMARK(save_safetensors)->Name("weights_io/save/safetensors")->Unit(benchmark::kMillisecond);
BENCHMARK(save_keras_weights)->Name("weights_io/save/keras_h5")->Unit(benchmark::kMillisecond);
BENCHMARK(load_floor)->Name("weights_io/load/floor")->Unit(benchmark::kMillisecond);
BENCHMARK(load_safetensors)->Name("weights_io/load/safetensors")->Unit(benchmark::kMillisecond);
BENCHMARK(load_keras_weights)->Name("weights_io/load/keras_h5")->Unit(benchmark::kMillisecond);
BENCHMARK(load_checkpoint)->Name("weights_io/load/checkpoint_adam")->Unit(benchmark::kMillisecond);
