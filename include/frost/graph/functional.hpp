#pragma once
/// \file
/// Functional models: `make_model(inputs, output)` turns symbolic tensors (graph/connect.hpp)
/// into a model whose type is its graph, with layers in Keras's `model.layers` order. Keras
/// `keras.Model(inputs, outputs)`.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/shape.hpp>
#include <frost/graph/connect.hpp>
#include <frost/graph/forward.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/model.hpp>
#include <frost/graph/names.hpp>
#include <frost/graph/node.hpp>
#include <frost/graph/sequential.hpp>
#include <frost/layers/layer_spec.hpp>

#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

namespace frost {

/// Compile-error predicate: merge layer `Index` (a `Layer`) expects inputs `Expected` and gets
/// shapes `Got...`.
template <std::size_t Index, class Layer, class Expected, class... Got>
inline constexpr bool merge_input_fits =
    (std::is_same_v<Got, invalid_shape> || ...) || !std::is_same_v<detail::output_shape_t<Layer, Got...>, invalid_shape>;

/// Compile-error predicate: the output depends on input `Position` of `make_model` (an `Input`)
/// when `Found`.
template <std::size_t Position, class Input, bool Found>
inline constexpr bool model_output_depends_on_input = Found;

/// Compile-error predicate: `make_model` was given all `Reads` inputs the output reads (it got
/// `Given`).
template <std::size_t Reads, std::size_t Given>
inline constexpr bool model_inputs_given = Reads == Given;

/// Compile-error predicate: `make_model`'s inputs `Inputs` are distinct nodes.
template <class Inputs, bool Distinct>
inline constexpr bool model_inputs_distinct = Distinct;

namespace detail {

/// Keras's `model.layers` order of a graph whose nodes are in creation order with the output
/// last: by decreasing depth (the longest path to the output), ties broken by the order a
/// depth-first walk from the output, inputs in argument order, first reaches each node.
template <class... N>
struct keras_order {
  static constexpr std::size_t n = sizeof...(N);
  static constexpr std::array<std::size_t, n> arity{N::arity...};
  static constexpr auto compute() {
    std::array<std::size_t, n> first{};
    for (std::size_t i = 1; i < n; ++i) first[i] = first[i - 1] + arity[i - 1];
    std::array<std::size_t, (std::size_t{0} + ... + N::arity) + 1> parent{};
    {
      constexpr std::array<const std::size_t*, n> back{N::back.data()...};
      std::size_t at = 0;
      for (std::size_t v = 0; v < n; ++v)
        for (std::size_t k = 0; k < arity[v]; ++k) parent[at++] = v - back[v][k];
    }
    // Depth-first from the output, parents in argument order: the first visit numbers a node.
    std::array<std::size_t, n> visit{}, stack{}, next{};
    std::array<bool, n> seen{};
    std::size_t count = 0, top = 0;
    stack[top++] = n - 1;
    seen[n - 1] = true;
    visit[n - 1] = count++;
    while (top != 0) {
      const std::size_t v = stack[top - 1];
      if (next[v] == arity[v]) {
        --top;
        continue;
      }
      const std::size_t p = parent[first[v] + next[v]++];
      if (!seen[p]) {
        seen[p] = true;
        visit[p] = count++;
        stack[top++] = p;
      }
    }
    // Longest path to the output, over nodes in reverse topological (reverse creation) order.
    std::array<std::size_t, n> depth{};
    for (std::size_t v = n; v-- > 0;)
      for (std::size_t k = 0; k < arity[v]; ++k) {
        const std::size_t p = parent[first[v] + k];
        if (depth[v] + 1 > depth[p]) depth[p] = depth[v] + 1;
      }
    std::array<std::size_t, n> order{};
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    for (std::size_t i = 1; i < n; ++i)  // insertion sort: depth descending, then visit order
      for (std::size_t j = i; j > 0; --j) {
        const std::size_t a = order[j - 1], b = order[j];
        const bool before = depth[b] > depth[a] || (depth[b] == depth[a] && visit[b] < visit[a]);
        if (!before) break;
        order[j - 1] = b;
        order[j] = a;
      }
    return order;
  }
  /// order[k]: the creation index of the node at Keras position k.
  static constexpr std::array<std::size_t, n> order = compute();
  /// position[i]: the Keras position of creation index i.
  static constexpr std::array<std::size_t, n> position = [] {
    std::array<std::size_t, n> pos{};
    for (std::size_t k = 0; k < n; ++k) pos[order[k]] = k;
    return pos;
  }();

  // Node K of the new order: its parents counted back from K.
  template <std::size_t K, class Node>
  struct remap;
  template <std::size_t K, class L, std::size_t... B>
  struct remap<K, layer_node<L, B...>> {
    using type = layer_node<L, K - position[order[K] - B]...>;
  };
  template <std::size_t... K>
  static auto make(std::index_sequence<K...>) -> graph<typename remap<K, type_at<order[K], N...>>::type...>;
  using graph_type = decltype(make(std::make_index_sequence<n>{}));
};

template <class X>
struct inputs_of {
  using type = std::tuple<X>;
};
template <class... X>
struct inputs_of<boost::hana::tuple<X...>> {
  using type = std::tuple<X...>;
};

template <std::size_t N>
constexpr std::size_t position_of(const std::array<std::uint64_t, N>& ids, std::uint64_t id) {
  for (std::size_t i = 0; i < N; ++i)
    if (ids[i] == id) return i;
  return static_cast<std::size_t>(-1);
}

/// A symbolic tensor's nodes, parents named by their position in the list (creation order).
template <class S, class Seq = std::make_index_sequence<S::size>>
struct indexed_nodes;
template <class... N, std::size_t... I>
struct indexed_nodes<symbolic<N...>, std::index_sequence<I...>> {
  template <std::size_t At, class Node>
  struct one;
  template <std::size_t At, class L, std::uint64_t... P>
  struct one<At, tensor_node<L, P...>> {
    using type = layer_node<L, At - position_of(symbolic<N...>::ids, P)...>;
  };
  using order = keras_order<typename one<I, N>::type...>;
};

template <class T, class Inputs, class Output>
struct functional_type;
template <class T, class... X, class... N>
struct functional_type<T, std::tuple<X...>, symbolic<N...>> {
  using order = typename indexed_nodes<symbolic<N...>>::order;
  // Creation index of each given input's node (npos: not an ancestor of the output).
  static constexpr std::array<std::size_t, sizeof...(X)> found{
      position_of(symbolic<N...>::ids, as_symbolic_t<X>::node_type::id)...};
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>) -> std::index_sequence<order::position[found[I] == std::size_t(-1) ? 0 : found[I]]...>;
  using inputs = decltype(make(std::index_sequence_for<X...>{}));
};

}  // namespace detail

/// A functional model over scalar type `T`: `Graph` is `graph<layer_node<Layer, Parents...>...>` in
/// Keras's `model.layers` order (the output last), `Inputs` an index sequence of its input nodes
/// in the order the model takes them. Obtain one from `make_model`; name its type with
/// `decltype(make_model(...))` or `functional_model_t<...>`.
///
/// Layer indices count the input layer(s), as Keras's `model.layers` and `model.get_layer(index=i)`
/// do: `layer<0>()` is the input. `layer<"name">()` finds a layer by name.
template <class T, class Graph, class Inputs, class Storage = storage::heap>
class basic_functional;

template <class T, class... Nodes, std::size_t... InputNodes, class Storage>
class basic_functional<T, graph<Nodes...>, std::index_sequence<InputNodes...>, Storage>
    : public model_core<T, graph<Nodes...>, std::index_sequence<InputNodes...>, 0, Storage> {
  using core_ = model_core<T, graph<Nodes...>, std::index_sequence<InputNodes...>, 0, Storage>;

  template <std::size_t I>
  static constexpr bool check_node_() {
    using L = typename core_::template node_layer<I>;
    if constexpr (core_::plan.facts[I].arity == 0) {
      static_assert(is_input_layer_v<L>, "frost::make_model: a node without inputs must be input<...>");
    } else {
      static_assert(is_layer_spec_at<I, L>, "frost::make_model: every layer must be a layer spec (dense<...>, add, ...)");
      if constexpr (is_layer_spec_at<I, L>) {
        return [&]<class... In>(detail::shape_list<In...>*) {
          using U = spec_t<L>;
          if constexpr (layer_traits<U>::merge) {
            static_assert(merge_input_fits<I, L, typename U::expected_input, In...>,
                          "frost::make_model: a merge layer's input shapes do not fit together");
          } else {
            static_assert(sizeof...(In) == 1, "frost::make_model: this layer takes one input");
            if constexpr (sizeof...(In) == 1)
              static_assert(layer_input_fits<I, L, typename U::expected_input, In...>,
                            "frost::make_model: layer input shape does not match the output of the layer it reads");
          }
          if constexpr (!std::is_same_v<detail::output_shape_t<L, In...>, invalid_shape>)
            static_assert(layer_implements<I, U, detail::missing_member_t<U, T, In...>, In...>,
                          "frost::make_model: the layer spec lacks a member of the layer protocol (see docs/layers.md)");
          return true;
        }(static_cast<typename core_::template node_input_shapes<I>*>(nullptr));
      }
    }
    return true;
  }
  static_assert([]<std::size_t... I>(std::index_sequence<I...>) {
    return (check_node_<I>() && ...);
  }(std::make_index_sequence<sizeof...(Nodes)>{}));

 public:
  using typename core_::output_matrix;
  using typename core_::output_shape;
  using typename core_::uninitialized_tag;
  /// Model input K's data type: `matrix<T, D...>`.
  template <std::size_t K>
  using input_matrix_at = typename detail::matrix_for<T, typename core_::template input_shape_at<K>>::type;
  /// The data type of a single-input model's input.
  using input_matrix = input_matrix_at<0>;

  /// Every layer's name: given with `named<>`, or Keras's default (`dense`, `dense_1`, ...).
  static constexpr std::array<layer_name, sizeof...(Nodes)> names = detail::names_of<Nodes...>(0);
  static constexpr std::size_t duplicate_ = detail::first_duplicate_name(names, 0);
  static_assert(layer_name_unique<duplicate_, typename core_::template node_layer<duplicate_ == std::size_t(-1) ? 0 : duplicate_>,
                                  duplicate_ == std::size_t(-1)>,
                "frost::make_model: two layers have the same name; names are unique within a model");

  /// Layers, as Keras counts `model.layers` of a functional model: input layers included.
  static constexpr std::size_t layer_count = sizeof...(Nodes);
  template <std::size_t I>
  static constexpr std::size_t node_of_layer = I;
  /// Layer I as written in the type (`frozen<...>`, `named<...>` included).
  template <std::size_t I>
  using layer_type = typename core_::template node_layer<I>;
  template <std::size_t I>
  using layer_output_shape = typename core_::template node_output_shape<I>;

  /// The index of the layer named `Name`.
  template <fixed_string Name>
  static constexpr std::size_t index_of = detail::node_named<names, 0, Name>();

  /// A model initialized as Keras does by default, from seed 0.
  basic_functional() : core_(uninitialized_tag{}) { this->initialize(0); }
  explicit basic_functional(uninitialized_tag t) : core_(t) {}

  /// A model initialized as Keras does by default (glorot_uniform kernels, zero biases),
  /// deterministically from `seed`; layer i draws from stream i.
  static basic_functional init(std::uint64_t seed) {
    basic_functional m{uninitialized_tag{}};
    m.initialize(seed);
    return m;
  }

  /// Views of layer I's parameters (dense: `kernel()`, `bias()`), `no_parameters` for layers
  /// without (inputs, add, concatenate). Throws `state_error` on a moved-from model.
  template <std::size_t I>
  auto layer() {
    static_assert(I < layer_count, "frost::functional::layer<I>: index out of range");
    return this->template node_parameters<I>("frost::functional::layer");
  }
  template <std::size_t I>
  auto layer() const {
    static_assert(I < layer_count, "frost::functional::layer<I>: index out of range");
    return this->template node_parameters<I>("frost::functional::layer");
  }
  /// Views of the parameters of the layer named `Name`.
  template <fixed_string Name>
  auto layer() {
    static_assert(layer_name_exists<Name, index_of<Name>>, "frost::functional::layer<\"name\">: no layer has this name");
    if constexpr (layer_name_exists<Name, index_of<Name>>) return layer<index_of<Name>>();
    else return detail::no_such_layer{};
  }
  template <fixed_string Name>
  auto layer() const {
    static_assert(layer_name_exists<Name, index_of<Name>>, "frost::functional::layer<\"name\">: no layer has this name");
    if constexpr (layer_name_exists<Name, index_of<Name>>) return layer<index_of<Name>>();
    else return detail::no_such_layer{};
  }

  /// Inference (Keras `model(x)` / `predict`) on one matrix per model input, in the order
  /// `make_model` took them. Allocates the result and a scratch workspace.
  template <class... X>
  output_matrix operator()(const X&... x) const {
    static_assert(sizeof...(X) == core_::input_count,
                  "frost::functional::operator(): give one matrix per model input, in make_model's order");
    if constexpr (sizeof...(X) == core_::input_count) {
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        static_assert((model_input_fits<K, typename core_::template input_shape_at<K>,
                                        typename detail::matrix_shape<X>::type> && ...),
                      "frost::functional::operator(): the data's feature shape does not match the model's input");
      }(std::index_sequence_for<X...>{});
    }
    this->ensure_weights("frost::functional::operator()");
    const std::size_t rows = detail::common_rows("frost::functional::operator()", x...);
    output_matrix y(rows);
    if (rows == 0) return y;
    aligned_buffer<T> ws(core_::plan.inference_per_sample * rows);
    const T* xs[] = {x.data()...};
    detail::forward<false>(*this, detail::pass_buffers<T>{xs, ws.data(), rows, y.data()}, rows);
    return y;
  }
};

/// The functional model type of `make_model(inputs, output)` over `float`, its arenas under
/// `Storage` (core/storage.hpp).
template <class Inputs, class Output, class Storage = storage::heap>
using functional_model_t =
    basic_functional<float, typename detail::functional_type<float, typename detail::inputs_of<Inputs>::type, Output>::order::graph_type,
                     typename detail::functional_type<float, typename detail::inputs_of<Inputs>::type, Output>::inputs, Storage>;

namespace detail {
template <class T, class Out, class... X>
constexpr bool check_model_inputs() {
  using ft = functional_type<T, std::tuple<X...>, Out>;
  constexpr bool all_found = [&]<std::size_t... K>(std::index_sequence<K...>) {
    static_assert((model_output_depends_on_input<K, X, ft::found[K] != std::size_t(-1)> && ...),
                  "frost::make_model: the output does not depend on this input");
    return ((ft::found[K] != std::size_t(-1)) && ...);
  }(std::index_sequence_for<X...>{});
  constexpr std::array<std::size_t, sizeof...(X)> at = ft::found;
  constexpr bool distinct = [&] {
    for (std::size_t a = 0; a < at.size(); ++a)
      for (std::size_t b = a + 1; b < at.size(); ++b)
        if (at[a] == at[b]) return false;
    return true;
  }();
  static_assert(model_inputs_distinct<std::tuple<X...>, distinct || !all_found>,
                "frost::make_model: the same input twice; name inputs of one shape apart: named<\"a\", input<5>>");
  return all_found && distinct;
}
struct no_model {
  static constexpr std::size_t layer_count = 0;
};
template <class Out>
struct graph_inputs;
template <class... N>
struct graph_inputs<symbolic<N...>> {
  static constexpr std::size_t count = (std::size_t{0} + ... + (N::arity == 0 ? 1 : 0));
};
}  // namespace detail

/// A functional model from its input(s) and its output: Keras `keras.Model(inputs, outputs)`,
/// initialized with Keras's defaults (seed 0; `M::init(seed)` for another). `inputs` is one
/// input or a `boost::hana::tuple` of them (`boost::hana::make_tuple(a, b)`), in the order the
/// model will take its data.
/// ```cpp
/// auto in = frost::input<10>{};
/// auto h = frost::dense<64, frost::relu>{}(in);
/// auto out = frost::dense<1, frost::sigmoid>{}(frost::add{}(h, frost::dense<64, frost::relu>{}(h)));
/// auto model = frost::make_model(in, out);
/// auto small = frost::make_model(in, out, frost::storage::inline_{});   // arenas inside the object
/// ```
template <class Inputs, class Output, class Storage = storage::heap>
auto make_model(const Inputs&, const Output&, Storage = {}) {
  static_assert(is_storage_policy_v<Storage>, "frost::make_model: the third argument is a storage policy: frost::storage::inline_{}");
  static_assert(detail::is_symbolic_v<Output>, "frost::make_model: the output must be a symbolic tensor, e.g. dense<1>{}(in)");
  using list = typename detail::inputs_of<Inputs>::type;
  constexpr bool ok = []<class... X>(std::tuple<X...>*) {
    static_assert((detail::is_symbolic_v<X> && ...), "frost::make_model: every input must be an input<...>{}");
    return detail::check_model_inputs<float, detail::as_symbolic_t<Output>, X...>();
  }(static_cast<list*>(nullptr));
  if constexpr (ok) {
    static_assert(model_inputs_given<detail::graph_inputs<detail::as_symbolic_t<Output>>::count, std::tuple_size_v<list>>,
                  "frost::make_model: the output reads an input that was not given to make_model");
    return functional_model_t<Inputs, detail::as_symbolic_t<Output>, Storage>();
  } else {
    return detail::no_model{};  // after the error above: nothing more to report
  }
}

}  // namespace frost
