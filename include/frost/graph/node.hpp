#pragma once
/// \file
/// `layer_node<Layer, Parents...>` and `graph<Nodes...>`: a model's graph as a type. Node i reads the
/// outputs of nodes `Parents...` (indices into the same graph, all smaller than i); a node
/// without parents is a model input (`input<...>`).

#include <frost/graph/frozen.hpp>
#include <frost/layers/input.hpp>

#include <array>
#include <cstddef>
#include <type_traits>

namespace frost {

/// One node of a model graph: `Layer` (a layer spec, maybe `frozen<>` or `named<>`, or an
/// `input<...>`) applied to the outputs of nodes `Parents...`.
template <class Layer, std::size_t... Parents>
struct layer_node {
  using layer_type = Layer;
  static constexpr std::size_t arity = sizeof...(Parents);
  static constexpr std::array<std::size_t, arity> parents{Parents...};
};

/// A model graph: nodes in topological order (Keras's `model.layers` order for a model).
template <class... Nodes>
struct graph {
  static constexpr std::size_t size = sizeof...(Nodes);
};

/// Is `L` (under `named<>`) a model input?
template <class L>
inline constexpr bool is_input_layer_v = is_input_v<spec_t<L>>;

namespace detail {

template <class... Ts>
struct type_list {};

/// Index of `X` in `Ts...` (npos when absent), as one fold.
template <class X, class... Ts>
constexpr std::size_t index_in() {
  constexpr bool same[] = {std::is_same_v<X, Ts>..., false};
  for (std::size_t i = 0; i < sizeof...(Ts); ++i)
    if (same[i]) return i;
  return static_cast<std::size_t>(-1);
}

}  // namespace detail

}  // namespace frost
