// frost's models of the peer workloads (workloads.hpp), shared by peer_frost.cpp and
// bench/training_step.cpp: the MLPs as sequential models, the same MLPs as functional chains,
// the functional workloads (residual, two_branch), the convolutional workload (cnn), and
// loading the peers' initial weights.

#pragma once

#include "workloads.hpp"

#include <frost/frost.hpp>

#include <boost/hana/tuple.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost_peers {

using w1 = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                             frost::dense<10, frost::softmax>>;
using w2 = frost::sequential<frost::input<784>, frost::dense<512, frost::relu>, frost::dense<512, frost::relu>,
                             frost::dense<10, frost::softmax>>;
using w3 = frost::sequential<frost::input<1024>, frost::dense<1024, frost::relu>, frost::dense<1024, frost::relu>,
                             frost::dense<1024, frost::relu>, frost::dense<10, frost::softmax>>;

// ---------------------------------------------------------------------------------------------
// A sequential model's layers as a functional chain: make_model(in, Ln{}(...L1{}(in))). Its
// layer I + 1 is the sequential model's layer I (a functional model counts its input layer).

template <class... L>
struct apply_chain;
template <>
struct apply_chain<> {
  template <class X>
  static auto on(X x) { return x; }
};
template <class L, class... Rest>
struct apply_chain<L, Rest...> {
  template <class X>
  static auto on(X x) { return apply_chain<Rest...>::on(L{}(x)); }
};

template <class In, class... L>
inline auto functional_chain(frost::sequential<In, L...>*) {
  auto in = In{};
  return frost::make_model(in, apply_chain<L...>::on(in));
}
template <class Seq>
using functional_chain_t = decltype(functional_chain(static_cast<Seq*>(nullptr)));

// ---------------------------------------------------------------------------------------------
// The functional workloads (workloads.hpp), layers named for loading the peers' weights.

inline auto residual_graph() {
  static_assert(residual_blocks == 2);
  auto in = frost::input<784>{};
  auto h = frost::named<"d0", frost::dense<512, frost::relu>>{}(in);
  auto r1 = frost::add{}(h, frost::named<"d1", frost::dense<512, frost::relu>>{}(h));
  auto r2 = frost::add{}(r1, frost::named<"d2", frost::dense<512, frost::relu>>{}(r1));
  return frost::make_model(in, frost::named<"d3", frost::dense<10, frost::softmax>>{}(r2));
}
using residual = decltype(residual_graph());

// Branch A frozen (`frozen`) or trainable (`trainable`, `inference`).
template <bool FrozenA>
auto two_branch_graph() {
  using s = two_branch_sizes;
  using a1 = frost::named<"a1", frost::dense<s::a1, frost::relu>>;
  using a2 = frost::named<"a2", frost::dense<s::a2, frost::relu>>;
  using maybe_frozen_a1 = std::conditional_t<FrozenA, frost::frozen<a1>, a1>;
  using maybe_frozen_a2 = std::conditional_t<FrozenA, frost::frozen<a2>, a2>;
  auto a = frost::input<s::a_inputs>{};
  auto b = frost::input<s::b_inputs>{};
  auto branch_a = maybe_frozen_a2{}(maybe_frozen_a1{}(a));
  auto branch_b = frost::named<"b1", frost::dense<s::b1, frost::relu>>{}(b);
  auto out = frost::named<"head", frost::dense<classes, frost::softmax>>{}(frost::concatenate{}(branch_a, branch_b));
  return frost::make_model(boost::hana::make_tuple(a, b), out);
}
template <bool FrozenA>
using two_branch = decltype(two_branch_graph<FrozenA>());

// ---------------------------------------------------------------------------------------------
// The peers' initial weights: glorot_uniform(seed 42 + layer), zero biases.

template <class View>
void load_dense(View v, std::size_t inputs, std::size_t units, std::uint32_t seed) {
  if (v.kernel().size() != inputs * units)
    throw std::logic_error("frost_models: a kernel does not have the workload's size");
  glorot_uniform(v.kernel().data(), inputs, units, seed);
  std::fill(v.bias().begin(), v.bias().end(), 0.f);
}

// Dense layer l of workload w is the model's layer l + First (First = 1 for a functional chain).
template <std::size_t First, class Model>
void load_peer_weights(Model& m, const workload& w) {
  [&]<std::size_t... L>(std::index_sequence<L...>) {
    (load_dense(m.template layer<L + First>(), w.in(L), w.out(L), 42u + std::uint32_t(L)), ...);
  }(std::make_index_sequence<Model::layer_count - First>{});
}

// The functional workloads with the peers' weights: dense layer l (in the order of workloads.hpp)
// draws seed 42 + l.
inline residual make_residual() {
  residual m = residual::init(0);
  const workload& p = residual_products;
  load_dense(m.layer<"d0">(), p.in(0), p.out(0), 42);
  load_dense(m.layer<"d1">(), p.in(1), p.out(1), 43);
  load_dense(m.layer<"d2">(), p.in(2), p.out(2), 44);
  load_dense(m.layer<"d3">(), p.in(3), p.out(3), 45);
  return m;
}

template <bool FrozenA>
two_branch<FrozenA> make_two_branch() {
  using s = two_branch_sizes;
  auto m = two_branch<FrozenA>::init(0);
  load_dense(m.template layer<"a1">(), s::a_inputs, s::a1, 42);
  load_dense(m.template layer<"a2">(), s::a1, s::a2, 43);
  load_dense(m.template layer<"b1">(), s::b_inputs, s::b1, 44);
  load_dense(m.template layer<"head">(), s::joined, classes, 45);
  return m;
}

// ---------------------------------------------------------------------------------------------
// The convolutional workload (workloads.hpp): NHWC, as frost's images are.

using cnn = frost::sequential<
    frost::input<cnn_sizes::height, cnn_sizes::width, cnn_sizes::channels>,
    frost::conv2d<cnn_sizes::filters1, cnn_sizes::kernel, cnn_sizes::kernel>,  // 0
    frost::batch_normalization<cnn_sizes::bn_momentum, cnn_sizes::bn_epsilon>,  // 1
    frost::activation<frost::relu>,                                             // 2
    frost::max_pooling2d<cnn_sizes::pool, cnn_sizes::pool>,                     // 3
    frost::conv2d<cnn_sizes::filters2, cnn_sizes::kernel, cnn_sizes::kernel>,  // 4
    frost::batch_normalization<cnn_sizes::bn_momentum, cnn_sizes::bn_epsilon>,  // 5
    frost::activation<frost::relu>,                                             // 6
    frost::max_pooling2d<cnn_sizes::pool, cnn_sizes::pool>,                     // 7
    frost::flatten,                                                             // 8
    frost::dense<classes, frost::softmax>>;                                     // 9
// `frozen`: the convolutional base (both convolutions, both batch normalizations, which then run
// in inference mode) frozen; only the head trains.
template <class Model>
auto freeze_cnn_base(Model&& m) {
  return frost::freeze<0, 1, 4, 5>(std::forward<Model>(m));
}
using cnn_frozen = decltype(freeze_cnn_base(std::declval<cnn>()));
static_assert(cnn_frozen::trainable_param_count == cnn_sizes::flat * classes + classes);

template <class Span>
void load_span(Span dst, const std::vector<float>& src) {
  static_assert(Span::extent != std::dynamic_extent);
  if (src.size() != Span::extent) throw std::logic_error("frost_models: a cnn kernel does not have the workload's size");
  std::copy(src.begin(), src.end(), dst.begin());
}

template <class View>
void load_batch_normalization(View v) {  // Keras's initial values
  std::fill(v.gamma().begin(), v.gamma().end(), 1.f);
  std::fill(v.beta().begin(), v.beta().end(), 0.f);
  std::fill(v.moving_mean().begin(), v.moving_mean().end(), 0.f);
  std::fill(v.moving_variance().begin(), v.moving_variance().end(), 1.f);
}

// The cnn model with the peers' weights (cnn_weights): the kernels are HWIO as frost's, and the
// head's rows are in (h, w, c) order, which is frost's flatten of an NHWC tensor.
inline cnn make_cnn() {
  cnn m = cnn::init(0);
  const cnn_weights w;
  load_span(m.layer<0>().kernel(), w.conv1);
  std::fill(m.layer<0>().bias().begin(), m.layer<0>().bias().end(), 0.f);
  load_batch_normalization(m.layer<1>());
  load_span(m.layer<4>().kernel(), w.conv2);
  std::fill(m.layer<4>().bias().begin(), m.layer<4>().bias().end(), 0.f);
  load_batch_normalization(m.layer<5>());
  load_span(m.layer<9>().kernel(), w.dense);
  std::fill(m.layer<9>().bias().begin(), m.layer<9>().bias().end(), 0.f);
  return m;
}

}  // namespace frost_peers
