#pragma once
/// \file
/// `sequential<input<...>, Layers...>`: a linear stack of layers whose frozen/trainable status
/// is part of the type. Keras `keras.Sequential([...])`. It is the chain case of the graph
/// machinery (graph/model.hpp): node 0 is the input, node i + 1 is layer i.

#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/shape.hpp>
#include <frost/core/storage.hpp>
#include <frost/graph/forward.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/model.hpp>
#include <frost/graph/names.hpp>
#include <frost/graph/node.hpp>
#include <frost/layers/input.hpp>
#include <frost/layers/layer_spec.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace frost {

/// Compile-error predicate: layer `Index` (a `Layer`) expects an input `Expected` and gets
/// `Got`. Both compilers print its arguments when the check fails.
template <std::size_t Index, class Layer, class Expected, class Got>
inline constexpr bool layer_input_fits =
    std::is_same_v<Got, invalid_shape> || !std::is_same_v<detail::output_shape_t<Layer, Got>, invalid_shape>;

/// Compile-error predicate: entry `Index` of a sequential model is not a layer spec.
template <std::size_t Index, class Layer>
inline constexpr bool is_layer_spec_at = layer_spec<spec_t<Layer>> && !is_input_layer_v<Layer>;

/// Compile-error predicate: layer `Index` (a `Layer`, on inputs `In...`) lacks protocol member
/// `Member` (frost::protocol::forward, ...): see layers/layer_spec.hpp and docs/layers.md.
template <std::size_t Index, class Layer, class Member, class... In>
inline constexpr bool layer_implements = std::is_void_v<Member>;

/// Compile-error predicate: the model takes inputs of shape `Expected`; the data has `Got`.
template <std::size_t Position, class Expected, class Got>
inline constexpr bool model_input_fits = std::is_same_v<Expected, Got>;

namespace detail {

template <class In>
struct input_shape_of {
  using type = invalid_shape;  // reported by sequential's first static_assert
};
template <std::size_t... D>
struct input_shape_of<input<D...>> {
  using type = shape<D...>;
};

/// The entries of a sequential model after `input<...>`: its layers, then optionally a storage
/// policy (`storage::inline_`), which is not a layer.
template <class... Ls>
struct sequential_entries {
  static constexpr bool has_policy =
      sizeof...(Ls) != 0 && is_storage_policy_v<type_at<sizeof...(Ls) == 0 ? 0 : sizeof...(Ls) - 1, Ls..., void>>;
  static constexpr std::size_t layer_count = sizeof...(Ls) - (has_policy ? 1 : 0);
  using storage_type = type_at<has_policy ? sizeof...(Ls) - 1 : sizeof...(Ls), Ls..., storage::heap>;
};

template <class In, class... Ls>
struct chain_graph {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>) -> graph<layer_node<In>, layer_node<type_at<I, Ls...>, 1>...>;
  // Each layer reads the node before.
  using type = decltype(make(std::make_index_sequence<sequential_entries<Ls...>::layer_count>{}));
};

/// Checks layer `I` of a chain (node I + 1) and, when its shape fits, its protocol: one error
/// per mistake, naming the layer, the shapes or the missing member.
template <std::size_t I, class L, class In, class T>
constexpr bool check_chain_layer() {
  // A storage policy goes last: sequential<input<8>, dense<4>, storage::inline_>.
  static_assert(!is_storage_policy_v<L>, "frost::sequential: a storage policy must be the last entry, after every layer");
  static_assert(is_layer_spec_at<I, L> || is_storage_policy_v<L>,
                "frost::sequential: every entry after input<...> must be a layer spec (dense<...>, frozen<...>)");
  if constexpr (is_layer_spec_at<I, L>) {
    static_assert(!layer_traits<spec_t<L>>::merge || std::is_same_v<In, invalid_shape>,
                  "frost::sequential: merge layers (add, concatenate) need several inputs: build a functional model");
    if constexpr (!layer_traits<spec_t<L>>::merge) {
      static_assert(layer_input_fits<I, L, typename spec_t<L>::expected_input, In>,
                    "frost::sequential: layer input shape does not match the previous layer's output");
      if constexpr (!std::is_same_v<In, invalid_shape> && layer_input_fits<I, L, typename spec_t<L>::expected_input, In>)
        static_assert(layer_implements<I, spec_t<L>, missing_member_t<spec_t<L>, T, In>, In>,
                      "frost::sequential: the layer spec lacks a member of the layer protocol (see docs/layers.md)");
    }
  }
  return true;
}

/// Run-time check that a batch of `rows` rows is not empty.
inline void check_rows(const char* where, std::size_t rows) {
  if (rows == 0) throw_shape(where, "batch rows", "at least 1", "0");
}

}  // namespace detail

/// A sequential model over scalar type `T`. Use the alias `sequential<...>` for float.
///
/// The first argument is `input<...>`; each following one a layer spec, optionally
/// `frozen<...>` or `named<...>`; a last entry `storage::inline_` keeps the arenas inside the
/// object (core/storage.hpp). Parameters live in two 64-byte-aligned arenas, trainable and frozen,
/// by default on the heap, allocated once; `layer<i>()` views a layer's block in place (Keras layout).
/// ```cpp
/// using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>,
///                               frost::dense<10, frost::softmax>>;
/// net m = net::init(42);
/// auto p = m(x);   // inference
/// ```
template <class T, class In, class... Ls>
class basic_sequential
    : public model_core<T, typename detail::chain_graph<In, Ls...>::type, std::index_sequence<0>, 1,
                        typename detail::sequential_entries<Ls...>::storage_type> {
  static_assert(std::is_floating_point_v<T>, "frost::sequential: the scalar type must be float or double");
  static_assert(is_input_v<In>, "frost::sequential: the first argument must be input<...>, e.g. input<100>");
  static_assert(detail::sequential_entries<Ls...>::layer_count >= 1,
                "frost::sequential: give at least one layer after input<...>");

  using core_ = model_core<T, typename detail::chain_graph<In, Ls...>::type, std::index_sequence<0>, 1,
                           typename detail::sequential_entries<Ls...>::storage_type>;

  template <std::size_t... I>
  static constexpr bool check_(std::index_sequence<I...>) {
    return (detail::check_chain_layer<I, detail::type_at<I, Ls...>,
                                      typename core_::template node_output_shape<I>, T>() && ...);
  }
  static_assert(check_(std::make_index_sequence<detail::sequential_entries<Ls...>::layer_count>{}));

 public:
  using input_type = In;
  using input_shape = typename detail::input_shape_of<In>::type;
  using input_matrix = typename detail::matrix_for<T, input_shape>::type;
  using typename core_::output_matrix;
  using typename core_::output_shape;
  using typename core_::uninitialized_tag;

  /// Number of layers, as Keras counts `model.layers` of a Sequential (the input is not one).
  static constexpr std::size_t layer_count = detail::sequential_entries<Ls...>::layer_count;
  /// The node of layer `I`: layer indices count from the first layer after the input.
  template <std::size_t I>
  static constexpr std::size_t node_of_layer = I + 1;
  /// Layer `I` as written in the type, `frozen<...>` included.
  template <std::size_t I>
  using layer_type = detail::type_at<I, Ls...>;
  /// Input shape of layer `I`.
  template <std::size_t I>
  using layer_input_shape = typename core_::template node_output_shape<I>;
  /// Output shape of layer `I`.
  template <std::size_t I>
  using layer_output_shape = typename core_::template node_output_shape<I + 1>;

  /// Every layer's name (node 0, the input, has none): given with `named<>`, or Keras's
  /// default (`dense`, `dense_1`, ...).
  static constexpr auto names = []<class... N>(graph<N...>*) {
    return detail::names_of<N...>(1);
  }(static_cast<typename core_::graph_type*>(nullptr));
  static constexpr std::size_t duplicate_ = detail::first_duplicate_name(names, 1);
  static_assert(layer_name_unique<duplicate_ - 1, typename core_::template node_layer<duplicate_ == std::size_t(-1) ? 0 : duplicate_>,
                                  duplicate_ == std::size_t(-1)>,
                "frost::sequential: two layers have the same name; names are unique within a model");
  /// The index of the layer named `Name` (npos: none).
  template <fixed_string Name>
  static constexpr std::size_t index_of = [] {
    constexpr std::size_t node = detail::node_named<names, 1, Name>();
    return node == static_cast<std::size_t>(-1) ? node : node - 1;
  }();

  /// A model initialized as Keras does by default, from seed 0.
  basic_sequential() : core_(uninitialized_tag{}) { this->initialize(0); }
  explicit basic_sequential(uninitialized_tag t) : core_(t) {}

  /// A model initialized as Keras does by default (glorot_uniform kernels, zero biases),
  /// deterministically from `seed`. Layer i draws from its own stream, so freezing does not
  /// change what `init(seed)` gives.
  static basic_sequential init(std::uint64_t seed) {
    basic_sequential m{uninitialized_tag{}};
    m.initialize(seed);
    return m;
  }

  /// Views of layer `I`'s parameters (for dense: `kernel()`, `bias()` as fixed-extent spans).
  /// Throws `state_error` on a moved-from model.
  template <std::size_t I>
  auto layer() {
    static_assert(I < layer_count, "frost::sequential::layer<I>: index out of range");
    return this->template node_parameters<I + 1>("frost::sequential::layer");
  }
  template <std::size_t I>
  auto layer() const {
    static_assert(I < layer_count, "frost::sequential::layer<I>: index out of range");
    return this->template node_parameters<I + 1>("frost::sequential::layer");
  }
  /// Views of the parameters of the layer named `Name` (given, or Keras's default name).
  template <fixed_string Name>
  auto layer() {
    static_assert(layer_name_exists<Name, index_of<Name>>, "frost::sequential::layer<\"name\">: no layer has this name");
    if constexpr (layer_name_exists<Name, index_of<Name>>) return layer<index_of<Name>>();
    else return detail::no_such_layer{};
  }
  template <fixed_string Name>
  auto layer() const {
    static_assert(layer_name_exists<Name, index_of<Name>>, "frost::sequential::layer<\"name\">: no layer has this name");
    if constexpr (layer_name_exists<Name, index_of<Name>>) return layer<index_of<Name>>();
    else return detail::no_such_layer{};
  }

  /// Inference (Keras `model(x)` / `predict`): runs every layer forward, keeps nothing for
  /// backward. Allocates the result and a scratch workspace.
  template <class X>
  output_matrix operator()(const X& x) const {
    static_assert(model_input_fits<0, input_shape, typename detail::matrix_shape<X>::type>,
                  "frost::sequential::operator(): the data's feature shape does not match the model's input");
    this->ensure_weights("frost::sequential::operator()");
    output_matrix y(x.rows());
    if (x.rows() == 0) return y;
    aligned_buffer<T> ws(core_::plan.inference_per_sample * x.rows());
    const T* xs[1] = {x.data()};
    detail::forward<false>(*this, detail::pass_buffers<T>{xs, ws.data(), x.rows(), y.data()}, x.rows());
    return y;
  }
};

/// A sequential model of `float`: `sequential<input<100>, dense<64, relu>, dense<10, softmax>>`.
template <class In, class... Ls>
using sequential = basic_sequential<float, In, Ls...>;

}  // namespace frost
