// frost itself under the peers' protocol (workloads.hpp): the same workloads, names, data,
// initial weights and counters, so that a runner can put frost and its peers side by side.
// Frozen configurations are frost model types with the leading layers frozen.

#include "workloads.hpp"

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace {

using namespace frost_peers;

using w1 = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                             frost::dense<10, frost::softmax>>;
using w2 = frost::sequential<frost::input<784>, frost::dense<512, frost::relu>, frost::dense<512, frost::relu>,
                             frost::dense<10, frost::softmax>>;
using w3 = frost::sequential<frost::input<1024>, frost::dense<1024, frost::relu>, frost::dense<1024, frost::relu>,
                             frost::dense<1024, frost::relu>, frost::dense<10, frost::softmax>>;

// The peers' initial weights: glorot_uniform(seed 42 + layer), zero biases.
template <class Model>
void load_peer_weights(Model& m) {
  [&]<std::size_t... L>(std::index_sequence<L...>) {
    ((glorot_uniform(m.template layer<L>().kernel().data(), Model::template layer_input_shape<L>::size,
                     Model::template layer_output_shape<L>::size, 42u + std::uint32_t(L)),
      std::memset(m.template layer<L>().bias().data(), 0, m.template layer<L>().bias().size_bytes())),
     ...);
  }(std::make_index_sequence<Model::layer_count>{});
}

template <class Model>
void time_model(benchmark::State& state, const bench_case& bc, Model& model) {
  typename Model::input_matrix x(bc.batch);
  frost::matrix<float, classes> y(bc.batch);
  fill_inputs(x.data(), bc.batch, Model::input_shape::size);
  fill_one_hot(y.data(), bc.batch);
  auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, bc.batch,
                                frost::threads{static_cast<std::size_t>(threads())});
  if (bc.training()) {
    for (auto _ : state) {
      float loss = tr.step(x, y);
      benchmark::DoNotOptimize(loss);
    }
  } else {
    for (auto _ : state) {
      auto p = tr.predict(x);  // the trainer's workspace and threads; allocates its result
      benchmark::DoNotOptimize(p.data());
      benchmark::ClobberMemory();
    }
  }
}

template <class Model, std::size_t... Frozen>
void run(benchmark::State& state, const bench_case& bc) {
  Model model = Model::init(0);
  load_peer_weights(model);
  if (bc.c == config::frozen) {
    auto frozen = frost::freeze<Frozen...>(std::move(model));
    time_model(state, bc, frozen);
  } else {
    time_model(state, bc, model);
  }
}

void run_case(benchmark::State& state, const bench_case& bc) {
  const std::string name = bc.w->name;
  if (name == "W1") run<w1, 0, 1>(state, bc);
  else if (name == "W2") run<w2, 0, 1>(state, bc);
  else if (name == "W3") run<w3, 0, 1, 2>(state, bc);
  else state.SkipWithError("frost: unknown workload");
}

}  // namespace

int main(int argc, char** argv) {
  register_all(run_case);
  return run(argc, argv, "frost", "frost (this tree)");
}
