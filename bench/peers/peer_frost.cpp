// frost itself under the peers' protocol (workloads.hpp): the same workloads, names, data,
// initial weights and counters, so that a runner can put frost and its peers side by side.
// Frozen configurations are frost model types with the leading layers (for cnn, the
// convolutional base) frozen.
//
// Built twice:
//   peer_frost             the MLP workloads as sequential<...> models, the functional
//                          workloads (residual, two_branch) as make_model(...) graphs, and the
//                          convolutional workload (cnn) as a sequential model of conv2d,
//                          batch_normalization, max_pooling2d, flatten and dense
//   peer_frost_functional  (FROST_BENCH_FUNCTIONAL_CHAIN) the MLP workloads only, each written as
//                          a functional chain of the same layers: make_model(in, dense{}(...(in)));
//                          beside peer_frost it measures what the functional API costs

#include "frost_models.hpp"
#include "workloads.hpp"

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

namespace {

using namespace frost_peers;

// Times steps (or predictions) of `model` on input(s) `x`: a matrix, or std::tie(a, b), through
// time_steps (warm-up, at least 20 timed steps, the loss counter).
template <class Model, class Case, class X>
void time_model(benchmark::State& state, const Case& bc, Model& model, const X& x) {
  frost::matrix<float, classes> y(bc.batch);
  fill_one_hot(y.data(), bc.batch);
  auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, bc.batch,
                                frost::threads{static_cast<std::size_t>(threads())});
  if (bc.training()) {
    time_steps(state, [&] { return tr.step(x, y); });
  } else {
    // Inference as users run it repeatedly: a make_inference object (its own workspace and
    // threads) writing into the caller's buffer; nothing is allocated per call.
    auto run = frost::make_inference(model, bc.batch, frost::threads{static_cast<std::size_t>(threads())});
    typename Model::output_matrix p(bc.batch);
    time_steps(state, [&] {
      run(x, p);
      benchmark::DoNotOptimize(p.data());
      benchmark::ClobberMemory();
    });
  }
}

#ifndef FROST_BENCH_FUNCTIONAL_CHAIN
inline constexpr std::size_t first_dense = 0;
template <class Seq>
using model_for = Seq;
#else
inline constexpr std::size_t first_dense = 1;
template <class Seq>
using model_for = functional_chain_t<Seq>;
#endif

template <class Seq, std::size_t... Frozen>
void run(benchmark::State& state, const bench_case& bc) {
  using Model = model_for<Seq>;
  Model model = Model::init(0);
  load_peer_weights<first_dense>(model, *bc.w);
  typename Model::input_matrix x(bc.batch);
  fill_inputs(x.data(), bc.batch, bc.w->inputs());
  if (bc.c == config::frozen) {
    auto frozen = frost::freeze<(Frozen + first_dense)...>(std::move(model));
    time_model(state, bc, frozen, x);
  } else {
    time_model(state, bc, model, x);
  }
}

void run_case(benchmark::State& state, const bench_case& bc) {
  const std::string name = bc.w->name;
  if (name == "W1") run<w1, 0, 1>(state, bc);
  else if (name == "W2") run<w2, 0, 1>(state, bc);
  else if (name == "W3") run<w3, 0, 1, 2>(state, bc);
  else state.SkipWithError("frost: unknown workload");
}

#ifndef FROST_BENCH_FUNCTIONAL_CHAIN
void run_residual(benchmark::State& state, const graph_case& gc) {
  residual model = make_residual();
  residual::input_matrix x(gc.batch);
  fill_inputs(x.data(), gc.batch, residual_products.inputs());
  time_model(state, gc, model, x);
}

template <bool FrozenA>
void run_two_branch(benchmark::State& state, const graph_case& gc) {
  using Model = two_branch<FrozenA>;
  using s = two_branch_sizes;
  Model model = make_two_branch<FrozenA>();
  typename Model::template input_matrix_at<0> a(gc.batch);
  typename Model::template input_matrix_at<1> b(gc.batch);
  fill_inputs(a.data(), gc.batch, s::a_inputs);
  fill_inputs(b.data(), gc.batch, s::b_inputs, second_input_seed);
  time_model(state, gc, model, std::tie(a, b));
}

void run_graph(benchmark::State& state, const graph_case& gc) {
  if (gc.g->model == graph_model::residual) run_residual(state, gc);
  else if (gc.frozen()) run_two_branch<true>(state, gc);
  else run_two_branch<false>(state, gc);
}

// cnn: `frozen` freezes layers 0, 1, 4, 5 (the convolutions and batch normalizations).
void run_cnn(benchmark::State& state, const cnn_case& cc) {
  cnn model = make_cnn();
  cnn::input_matrix x(cc.batch);
  fill_inputs(x.data(), cc.batch, cnn_sizes::inputs);
  if (cc.frozen()) {
    cnn_frozen frozen = freeze_cnn_base(std::move(model));
    time_model(state, cc, frozen, x);
  } else {
    time_model(state, cc, model, x);
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  register_all(run_case);
#ifndef FROST_BENCH_FUNCTIONAL_CHAIN
  register_graphs(run_graph);
  register_cnn(run_cnn);
  return run(argc, argv, "frost", "frost (this tree)");
#else
  return run(argc, argv, "frost_functional", "frost (this tree), the MLPs as functional chains");
#endif
}
