#pragma once
/// \file
/// Symbolic tensors and `connect`: how `dense<64, relu>{}(in)` and `add{}(a, b)` build a model's
/// graph as a type, for `make_model` (graph/functional.hpp).
///
/// A symbolic tensor is `symbolic<Nodes...>`: the graph of everything it depends on, in the
/// order the calls made it; its value is the last node's output. Calling a layer appends a node.
/// A call with several inputs merges their graphs first: a node that two graphs share (the same
/// layer on the same inputs, e.g. the `h` of `add{}(h, dense<8>{}(h))`) appears once.
///
/// Node identity is structural: the same layer type on the same inputs is the same node. Two
/// distinct layers of one type on one input need distinct names (`named<"a", dense<8>>`).

#include <frost/graph/frozen.hpp>
#include <frost/graph/named.hpp>
#include <frost/graph/node.hpp>
#include <frost/layers/input.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace frost {

/// A symbolic tensor: the output of the last of `Nodes...`, which are everything it depends on.
/// Layers are called on symbolic tensors; `make_model` turns one into a model.
template <class... Nodes>
struct symbolic {
  using graph_type = graph<Nodes...>;
  /// The node whose output this tensor is: the last.
  using node_type = typename decltype((std::type_identity<Nodes>{}, ...))::type;
  static constexpr std::size_t index = sizeof...(Nodes) - 1;
};

/// Compile-error predicate: merge layer `Layer` got node `Node` twice (`Distinct` false). Write
/// `named<"a", …>` and `named<"b", …>` to make two layers of one type distinct.
template <class Layer, class Node, bool Distinct>
inline constexpr bool merge_inputs_distinct = Distinct;

namespace detail {

template <class X>
struct as_symbolic {
  using type = void;
};
template <class... N>
struct as_symbolic<symbolic<N...>> {
  using type = symbolic<N...>;
};
template <std::size_t... D>
struct as_symbolic<input<D...>> {
  using type = symbolic<layer_node<input<D...>>>;
};
template <fixed_string Name, std::size_t... D>
struct as_symbolic<named<Name, input<D...>>> {
  using type = symbolic<layer_node<named<Name, input<D...>>>>;
};
template <class X>
using as_symbolic_t = typename as_symbolic<X>::type;

template <std::size_t I, class... Ts>
struct type_at_or_void_ {
  using type = void;
};
template <std::size_t I, class... Ts>
  requires(I < sizeof...(Ts))
struct type_at_or_void_<I, Ts...> {
  using type = std::tuple_element_t<I, std::tuple<Ts...>>;
};
template <std::size_t I, class... Ts>
using type_at_or_void = typename type_at_or_void_<I, Ts...>::type;

template <class X>
inline constexpr bool is_symbolic_v = !std::is_void_v<as_symbolic_t<X>>;

// Merging graphs, one node at a time, as a left fold: the accumulator holds the merged node
// list and, for the graph being merged, where each of its nodes went.
template <class List, class Map>
struct merge_acc {};
template <class N>
struct node_tag {};

/// Element P of M... (as a function: a class cannot read its own static array in its members).
template <std::size_t P, std::size_t... M>
constexpr std::size_t element() {
  constexpr std::size_t values[] = {M..., 0};
  return values[P];
}

template <class Acc, class N>
struct merge_step;
template <class... R, std::size_t... M, class L, std::size_t... P>
struct merge_step<merge_acc<type_list<R...>, std::index_sequence<M...>>, layer_node<L, P...>> {
  using remapped = layer_node<L, element<P, M...>()...>;
  static constexpr std::size_t found = index_in<remapped, R...>();
  using type = std::conditional_t<found != static_cast<std::size_t>(-1),
                                  merge_acc<type_list<R...>, std::index_sequence<M..., found>>,
                                  merge_acc<type_list<R..., remapped>, std::index_sequence<M..., sizeof...(R)>>>;
};
template <class Acc, class N>
auto operator|(Acc, node_tag<N>) -> typename merge_step<Acc, N>::type;

// Merging whole graphs: the node list so far and the output index of each merged graph.
template <class List, class Outs>
struct graphs_acc {};
template <class G>
struct graph_tag {};

template <class Acc, class G>
struct graph_step;
template <class... R, std::size_t... O, class... N>
struct graph_step<graphs_acc<type_list<R...>, std::index_sequence<O...>>, symbolic<N...>> {
  using merged = decltype((merge_acc<type_list<R...>, std::index_sequence<>>{} | ... | node_tag<N>{}));
  template <class A>
  struct parts;
  template <class... R2, std::size_t... M>
  struct parts<merge_acc<type_list<R2...>, std::index_sequence<M...>>> {
    using type = graphs_acc<type_list<R2...>, std::index_sequence<O..., element<sizeof...(M) - 1, M...>()>>;
  };
  using type = typename parts<merged>::type;
};
template <class Acc, class G>
auto operator|(Acc, graph_tag<G>) -> typename graph_step<Acc, G>::type;

template <class Layer, class Acc>
struct appended;
template <class Layer, class... R, std::size_t... O>
struct appended<Layer, graphs_acc<type_list<R...>, std::index_sequence<O...>>> {
  static constexpr std::array<std::size_t, sizeof...(O)> outs{O...};
  // The first input that repeats an earlier one (sizeof...(O): none).
  static constexpr std::size_t repeated = [] {
    for (std::size_t i = 0; i < outs.size(); ++i)
      for (std::size_t j = i + 1; j < outs.size(); ++j)
        if (outs[i] == outs[j]) return outs[j];
    return sizeof...(R);
  }();
  static constexpr bool distinct = repeated == sizeof...(R);
  using repeated_node = type_at_or_void<repeated, R...>;
  using type = symbolic<R..., layer_node<Layer, O...>>;
};

}  // namespace detail

/// `Layer{}(x...)`: a symbolic tensor with one more node, `Layer` reading `x...` (symbolic
/// tensors or inputs). Found by argument-dependent lookup from `layer_call`.
template <class Layer, class... X>
  requires(sizeof...(X) >= 1 && (detail::is_symbolic_v<X> && ...))
constexpr auto connect(const Layer&, const X&...) {
  if constexpr (sizeof...(X) == 1) {
    return [] <class... N>(symbolic<N...>*) {
      return symbolic<N..., layer_node<Layer, sizeof...(N) - 1>>{};
    }(static_cast<detail::as_symbolic_t<X>*>(nullptr)...);
  } else {
    using acc = decltype((detail::graphs_acc<detail::type_list<>, std::index_sequence<>>{} | ... |
                          detail::graph_tag<detail::as_symbolic_t<X>>{}));
    using result = detail::appended<Layer, acc>;
    // Two inputs of a merge layer are one node: with structural identity that usually means
    // two layers of the same type on the same input, which are one layer unless named apart.
    static_assert(merge_inputs_distinct<Layer, typename result::repeated_node, result::distinct>,
                  "frost::connect: a merge layer got the same node twice; name layers of the same type on the same "
                  "input apart (named<\"a\", ...>) to make them distinct layers");
    return typename result::type{};
  }
}

}  // namespace frost
