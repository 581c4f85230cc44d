#pragma once
/// \file
/// `layer_node<Layer, Back...>` and `graph<Nodes...>`: a model's graph as a type. Node i reads the
/// outputs of nodes i - Back... (each Back counts back from the node: 1 is the node just before),
/// so a chain is `layer_node<L, 1>` all along and a residual block `layer_node<add, 2, 1>`; a node
/// without parents is a model input (`input<...>`). Counting back keeps the type's spelling, and
/// the symbol names of everything instantiated on it, short: repeated nodes read the same.

#include <frost/graph/frozen.hpp>
#include <frost/layers/input.hpp>

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace frost {

/// One node of a model graph: `Layer` (a layer spec, maybe `frozen<>` or `named<>`, or an
/// `input<...>`) applied to the outputs of the nodes `Back...` places before it.
template <class Layer, std::size_t... Back>
struct layer_node {
  using layer_type = Layer;
  static constexpr std::size_t arity = sizeof...(Back);
  /// How far back each input is: node i reads nodes i - back[k].
  static constexpr std::array<std::size_t, arity> back{Back...};
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

// Type I of a pack in one step: the pack becomes the bases of one class, and overload
// resolution finds base I. (std::tuple_element recurses through the pack, which for every
// node of a model of N nodes is quadratic in N.) clang has a builtin for it.
template <std::size_t I, class T>
struct indexed {
  using type = T;
};
template <class Seq, class... Ts>
struct indexer;
template <std::size_t... I, class... Ts>
struct indexer<std::index_sequence<I...>, Ts...> : indexed<I, Ts>... {};
template <std::size_t I, class T>
indexed<I, T> pick(const indexed<I, T>&);

#if defined(__clang__) && __has_builtin(__type_pack_element)
template <std::size_t I, class... Ts>
using type_at = __type_pack_element<I, Ts...>;
#else
// A class, so that each lookup is resolved once and remembered (an alias would resolve anew at
// every use).
template <std::size_t I, class... Ts>
struct type_at_ {
  using type = typename decltype(pick<I>(std::declval<const indexer<std::index_sequence_for<Ts...>, Ts...>&>()))::type;
};
template <std::size_t I, class... Ts>
using type_at = typename type_at_<I, Ts...>::type;
#endif

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
