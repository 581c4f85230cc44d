#pragma once
/// \file
/// Symbolic tensors and `connect`: how `dense<64, relu>{}(in)` and `add{}(a, b)` build a model's
/// graph as a type, for `make_model` (graph/functional.hpp).
///
/// A symbolic tensor is `symbolic<Nodes...>`: every node it depends on, parents before children;
/// its value is the last node's output. A node is `tensor_node<Layer, ParentIds...>`, where each
/// parent is named by its `id`, a 64-bit hash of its structure (its layer type and its parents'
/// ids): the same layer type on the same inputs is the same node, wherever it sits in a list.
/// Calling a layer appends a node. A call with several inputs first merges their lists: one
/// input's list, then the other nodes of the next ones in their order. Merging compares ids as
/// values (one constant evaluation) and, in the common case where one list extends the other (a
/// residual `add{}(h, f(h))`), takes the longer list as it is, so building a graph costs about
/// the same per layer however deep it is. `make_model` turns the list into `graph<layer_node<...>>`
/// with parents named by index.
///
/// Node identity is structural: two distinct layers of one type on one input need distinct
/// names (`named<"a", dense<8>>`).

#include <frost/graph/frozen.hpp>
#include <frost/graph/named.hpp>
#include <frost/graph/node.hpp>
#include <frost/layers/input.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

namespace frost {

namespace detail {

/// The compiler's spelling of T (part of a function's signature), hashed (FNV-1a) with `seed`.
template <class T>
constexpr std::uint64_t type_hash(std::uint64_t seed) {
  constexpr std::string_view name = __PRETTY_FUNCTION__;
  std::uint64_t h = seed;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <class L, std::uint64_t... Parents>
constexpr std::uint64_t node_hash() {
  std::uint64_t h = type_hash<L>(0xcbf29ce484222325ULL);
  for (std::uint64_t p : {std::uint64_t{0}, Parents...}) {
    h ^= p;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return h;
}

}  // namespace detail

/// A node of a symbolic graph: `Layer` applied to the nodes whose ids are `Parents...`.
template <class Layer, std::uint64_t... Parents>
struct tensor_node {
  using layer_type = Layer;
  static constexpr std::size_t arity = sizeof...(Parents);
  static constexpr std::array<std::uint64_t, arity> parents{Parents...};
  /// The node's identity: its layer and its inputs.
  static constexpr std::uint64_t id = detail::node_hash<Layer, Parents...>();
};

/// A symbolic tensor: the output of the last of `Nodes...`, which are everything it depends on.
/// Layers are called on symbolic tensors; `make_model` turns one into a model.
template <class... Nodes>
struct symbolic {
  static constexpr std::size_t size = sizeof...(Nodes);
  /// The node whose output this tensor is: the last.
  using node_type = detail::type_at<sizeof...(Nodes) - 1, Nodes...>;
  static constexpr std::array<std::uint64_t, sizeof...(Nodes)> ids{Nodes::id...};
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
  using type = symbolic<tensor_node<input<D...>>>;
};
template <fixed_string Name, std::size_t... D>
struct as_symbolic<named<Name, input<D...>>> {
  using type = symbolic<tensor_node<named<Name, input<D...>>>>;
};
template <class X>
using as_symbolic_t = typename as_symbolic<X>::type;

template <class X>
inline constexpr bool is_symbolic_v = !std::is_void_v<as_symbolic_t<X>>;

template <std::size_t N>
constexpr bool contains(const std::array<std::uint64_t, N>& ids, std::size_t count, std::uint64_t id) {
  for (std::size_t i = 0; i < count; ++i)
    if (ids[i] == id) return true;
  return false;
}

/// The union of two node lists: A's, then B's nodes that A lacks, in B's order.
template <class A, class B>
struct merged_general;
template <class... A, class... B>
struct merged_general<symbolic<A...>, symbolic<B...>> {
  static constexpr std::size_t na = sizeof...(A), nb = sizeof...(B);
  // B's nodes that A lacks, by position in B; the count last.
  static constexpr auto fresh = [] {
    std::array<std::size_t, nb + 1> at{};
    std::size_t n = 0;
    for (std::size_t j = 0; j < nb; ++j)
      if (!contains(symbolic<A...>::ids, na, symbolic<B...>::ids[j])) at[n++] = j;
    at[nb] = n;
    return at;
  }();
  template <std::size_t... K>
  static auto append(std::index_sequence<K...>) -> symbolic<A..., type_at<fresh[K], B...>...>;
  using type = decltype(append(std::make_index_sequence<fresh[nb]>{}));
};

/// Does list `Long` start with list `Short`?
template <class Short, class Long>
constexpr bool extends() {
  constexpr std::size_t ns = Short::size, nl = Long::size;
  if constexpr (ns > nl) {
    return false;
  } else {
    for (std::size_t i = 0; i < ns; ++i)
      if (Short::ids[i] != Long::ids[i]) return false;
    return true;
  }
}

/// The union of two node lists. When one extends the other (the usual case: `add{}(h, f(h))`),
/// the longer is the union as it is, found in one pass.
template <class A, class B>
struct merged {
  using type = typename std::conditional_t<
      extends<A, B>(), std::type_identity<B>,
      std::conditional_t<extends<B, A>(), std::type_identity<A>, merged_general<A, B>>>::type;
};
template <class A, class B>
auto operator|(std::type_identity<A>, std::type_identity<B>) -> std::type_identity<typename merged<A, B>::type>;

template <class Layer, class... X>
struct connected {
  using inputs = typename decltype((std::type_identity<X>{} | ...))::type;
  static constexpr std::array<std::uint64_t, sizeof...(X)> ids{X::node_type::id...};
  // The first input that repeats an earlier one (sizeof...(X): none).
  static constexpr std::size_t repeated = [] {
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (ids[i] == ids[j]) return i;
    return sizeof...(X);
  }();
  using repeated_node = std::conditional_t<repeated == sizeof...(X), void,
                                           typename type_at<repeated == sizeof...(X) ? 0 : repeated, X...>::node_type>;
  template <class S>
  struct append;
  template <class... N>
  struct append<symbolic<N...>> {
    using type = symbolic<N..., tensor_node<Layer, X::node_type::id...>>;
  };
  using type = typename append<inputs>::type;
};

}  // namespace detail

/// `Layer{}(x...)`: a symbolic tensor with one more node, `Layer` reading `x...` (symbolic
/// tensors or inputs). Found by argument-dependent lookup from `layer_call`.
template <class Layer, class... X>
  requires(sizeof...(X) >= 1 && (detail::is_symbolic_v<X> && ...))
consteval auto connect(Layer, X...) {
  using result = detail::connected<Layer, detail::as_symbolic_t<X>...>;
  // Two inputs of a merge layer are one node: with structural identity that usually means two
  // layers of the same type on the same input, which are one layer unless named apart.
  static_assert(merge_inputs_distinct<Layer, typename result::repeated_node, std::is_void_v<typename result::repeated_node>>,
                "frost::connect: a merge layer got the same node twice; name layers of the same type on the same "
                "input apart (named<\"a\", ...>) to make them distinct layers");
  return typename result::type{};
}

}  // namespace frost
