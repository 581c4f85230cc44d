#pragma once
/// \file
/// `model_core<T, graph<Nodes...>, Inputs>`: what every model is, sequential or functional — a
/// graph type, its shapes, its plan (graph/plan.hpp), its parameters in two arenas (trainable and
/// frozen), default initialization and inference. `sequential` and `functional` models derive
/// from it and add their own indexing and checks; nothing here is specific to either.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/storage.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/core/simd.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/named.hpp>
#include <frost/graph/node.hpp>
#include <frost/graph/plan.hpp>
#include <frost/kernels/gradient_sink.hpp>
#include <frost/layers/input.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace frost {

namespace detail {

template <class... S>
struct shape_list {
  static constexpr std::size_t count = sizeof...(S);
};

/// The output shape of layer `L` (as written: maybe frozen<> or named<>) on inputs of shapes
/// `In...`; `invalid_shape` when anything is wrong (reported once, by the model's checks).
template <class L, class... In>
constexpr auto output_shape_of() {
  using U = spec_t<L>;
  if constexpr (is_input_v<U>) {
    return typename U::shape_type{};
  } else if constexpr (sizeof...(In) == 0 || (std::is_same_v<In, invalid_shape> || ...) || !layer_spec<U>) {
    return invalid_shape{};
  } else if constexpr (!layer_traits<U>::merge && sizeof...(In) != 1) {
    return invalid_shape{};
  } else if constexpr (!has_member<U, float, In...>(static_cast<protocol::accepts*>(nullptr)) ||
                       !has_member<U, float, In...>(static_cast<protocol::output_shape*>(nullptr))) {
    return invalid_shape{};
  } else if constexpr (!U::template accepts<In...>) {
    return invalid_shape{};
  } else {
    return typename U::template output_shape<In...>{};
  }
}
template <class L, class... In>
using output_shape_t = decltype(output_shape_of<L, In...>());

// Shape propagation as one left fold over the nodes; the accumulator is the list of every
// node's output shape so far (a chain reads the last one without a lookup).
template <class Shapes, class Node>
struct shape_step;
template <class... S, class L, std::size_t... B>
struct shape_step<shape_list<S...>, layer_node<L, B...>> {
  using type = shape_list<S..., output_shape_t<L, type_at<sizeof...(S) - B, S...>...>>;
};
template <class Shapes, class Node>
auto operator|(Shapes, std::type_identity<Node>) -> typename shape_step<Shapes, Node>::type;

template <class... Nodes>
using shapes_of_t = decltype((shape_list<>{} | ... | std::type_identity<Nodes>{}));

template <class Shapes, std::size_t I>
struct shape_at;
template <class... S, std::size_t I>
struct shape_at<shape_list<S...>, I> {
  using type = type_at<I, S...>;
};
template <std::size_t I, class Node, class Shapes>
struct input_shapes_of;
template <std::size_t I, class L, std::size_t... B, class... S>
struct input_shapes_of<I, layer_node<L, B...>, shape_list<S...>> {
  using type = shape_list<type_at<I - B, S...>...>;
};

template <class T, class S>
struct matrix_for {
  using type = matrix<T, 1>;  // only reached after a reported shape error
};
template <class T, std::size_t... D>
struct matrix_for<T, shape<D...>> {
  using type = matrix<T, D...>;
};

/// The feature shape of a data matrix (`invalid_shape` for anything else).
template <class M>
struct matrix_shape {
  using type = invalid_shape;
};
template <class T, std::size_t... D>
struct matrix_shape<matrix<T, D...>> {
  using type = shape<D...>;
};
template <class T, std::size_t... D>
struct matrix_shape<matrix_view<T, D...>> {
  using type = shape<D...>;
};

/// The rows every input matrix has; throws `shape_error` when they differ.
template <class X0, class... X>
std::size_t common_rows(const char* where, const X0& x0, const X&... x) {
  const std::size_t rows = x0.rows();
  const std::size_t others[] = {x.rows()..., rows};
  for (std::size_t k = 0; k + 1 < std::size(others); ++k)
    if (others[k] != rows)
      throw_shape(where, ("rows of input " + std::to_string(k + 1)).c_str(), std::to_string(rows) + " (the rows of input 0)",
                  std::to_string(others[k]));
  return rows;
}

template <class L, class T, class... In>
constexpr node_facts facts_of(std::size_t first_edge, std::size_t arity) {
  node_facts f{};
  f.first_edge = first_edge;
  f.arity = arity;
  using U = spec_t<L>;
  using Out = output_shape_t<L, In...>;
  if constexpr (is_input_v<U>) {
    f.out_size = Out::size;
  } else if constexpr (!std::is_same_v<Out, invalid_shape>) {
    using tr = layer_traits<U>;
    f.out_size = Out::size;
    f.params = U::template param_count<In...>;
    f.frozen = is_frozen_v<L>;
    f.param_grad_reads_input = tr::param_grad_reads_input;
    f.backward_reads_output = tr::backward_reads_output;
    f.backward_reads_input = tr::backward_reads_input;
    f.rows_independent = tr::rows_independent;
    f.splits_units = tr::splits_units;
    f.param_grad_splits_units = tr::param_grad_splits_units;
    f.fuses_activation = tr::fuses_activation;
    f.input_after_params = tr::input_after_params;
    f.reduction_rows = tr::template reduction_rows<In...>;
    f.params_take_sink = requires(const backward_args<T>& a) {
      U::template backward<In...>(stage<backward_stage::params>{}, a, kernels::store_gradient{});
    };
    f.extra_kept = tr::template extra_kept<In...>;
    f.extra_kept_for_params = tr::extra_kept_for_params;
    f.scratch = tr::template scratch<In...>;
    f.state = tr::template state_count<In...>;
    f.flops = tr::template flops<In...>;
    f.fusable_producer = tr::template fusable_producer<In...>;
    f.affine_in_training = tr::affine_in_training;
    f.affine_in_inference = tr::affine_in_inference;
    f.pointwise_activation = tr::pointwise_activation;
    f.activation_epilogue = tr::activation_epilogue;
  }
  return f;
}

[[noreturn]] inline void throw_state(const char* where) { throw_moved_model(where); }

}  // namespace detail

/// The machinery every model shares. `Graph` is `graph<layer_node<...>...>` in Keras's layer order;
/// `Inputs` the node indices of the model inputs, in the order the model takes them; `Base`
/// the index the default initializer's streams count from (so that layer i of a sequential
/// model draws from stream i, whatever is frozen); `Storage` where the arenas live
/// (core/storage.hpp).
template <class T, class Graph, class Inputs, std::size_t Base = 0, class Storage = storage::heap>
class model_core;

template <class T, class... Nodes, std::size_t... InputNodes, std::size_t Base, class Storage>
class model_core<T, graph<Nodes...>, std::index_sequence<InputNodes...>, Base, Storage> {
  static_assert(std::is_floating_point_v<T>, "frost: the scalar type of a model must be float or double");
  using shapes_ = detail::shapes_of_t<Nodes...>;

 public:
  using scalar_type = T;
  using graph_type = graph<Nodes...>;
  /// Where the arenas live: `storage::heap` or `storage::inline_` (inside the object).
  using storage_type = Storage;
  static constexpr std::size_t node_count = sizeof...(Nodes);
  static constexpr std::size_t input_count = sizeof...(InputNodes);
  /// Node indices of the model inputs, in the order the model takes them.
  static constexpr std::array<std::size_t, input_count> input_nodes{InputNodes...};
  using input_nodes_type = std::index_sequence<InputNodes...>;
  /// The output node: the last one.
  static constexpr std::size_t output_node = node_count - 1;

  template <std::size_t I>
  using node_type = detail::type_at<I, Nodes...>;
  /// Node I's layer as written in the type (`frozen<...>`, `named<...>` included).
  template <std::size_t I>
  using node_layer = typename node_type<I>::layer_type;
  /// Node I's layer spec: what runs.
  template <std::size_t I>
  using node_spec = spec_t<node_layer<I>>;
  template <std::size_t I>
  using node_output_shape = typename detail::shape_at<shapes_, I>::type;
  /// The shapes node I reads, as `detail::shape_list<In...>`.
  template <std::size_t I>
  using node_input_shapes = typename detail::input_shapes_of<I, node_type<I>, shapes_>::type;

  using output_shape = node_output_shape<output_node>;
  using output_matrix = typename detail::matrix_for<T, output_shape>::type;
  template <std::size_t K>
  using input_shape_at = node_output_shape<input_nodes[K]>;

 private:
  static constexpr std::size_t edge_count_ = (std::size_t{0} + ... + Nodes::arity);

  template <std::size_t I>
  static constexpr node_facts node_facts_(std::size_t first_edge) {
    return [&]<class... In>(detail::shape_list<In...>*) {
      return detail::facts_of<node_layer<I>, T, In...>(first_edge, node_type<I>::arity);
    }(static_cast<node_input_shapes<I>*>(nullptr));
  }
  static constexpr auto facts_() {
    std::array<node_facts, node_count> f{};
    std::array<std::size_t, node_count> arity{Nodes::arity...};
    std::array<std::size_t, node_count> first{};
    for (std::size_t i = 1; i < node_count; ++i) first[i] = first[i - 1] + arity[i - 1];
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((f[I] = node_facts_<I>(first[I])), ...);
    }(std::make_index_sequence<node_count>{});
    return f;
  }
  static constexpr auto edges_() {
    std::array<edge_facts, edge_count_ == 0 ? 1 : edge_count_> e{};
    std::size_t at = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            for (std::size_t k = 0; k < node_type<I>::arity; ++k) {
              e[at].from = I - node_type<I>::back[k];
              e[at].size = sizes_[I - node_type<I>::back[k]];
              ++at;
            }
          }(),
          ...);
    }(std::make_index_sequence<node_count>{});
    return e;
  }
  static constexpr std::array<std::size_t, node_count> sizes_ = [] {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<std::size_t, node_count>{node_output_shape<I>::size...};
    }(std::make_index_sequence<node_count>{});
  }();

 public:
  /// The compile-time plan (graph/plan.hpp), indexed by node.
  static constexpr graph_plan<node_count, edge_count_> plan =
      make_plan<node_count, edge_count_>(facts_(), edges_(), simd::native<T>::width, sizeof(T));
  static constexpr std::size_t trainable_param_count = plan.trainable_count;
  static constexpr std::size_t frozen_param_count = plan.frozen_count;
  /// Non-trainable state (batch normalization's moving statistics), in its own arena.
  static constexpr std::size_t state_count = plan.state_count;
  /// Every parameter, trainable or frozen (state not included; Keras's count_params() is
  /// `param_count + state_count`).
  static constexpr std::size_t param_count = trainable_param_count + frozen_param_count;

  struct uninitialized_tag {};
  /// Allocates zeroed arenas without initializing (used by freeze/unfreeze and loaders).
  explicit model_core(uninitialized_tag)
      : trainable_(trainable_param_count), frozen_(frozen_param_count), state_(state_count) {}

  /// False once the model was moved from (e.g. by `freeze`/`unfreeze`): its arenas are gone.
  bool holds_weights() const noexcept {
    return (trainable_param_count == 0 || trainable_.data() != nullptr) &&
           (frozen_param_count == 0 || frozen_.data() != nullptr) && (state_count == 0 || state_.data() != nullptr);
  }

  /// Start of node I's parameter block, in the trainable or the frozen arena (null: none).
  template <std::size_t I>
  T* parameter_block() noexcept {
    if constexpr (plan.frozen_offset[I] != plan.npos) return frozen_.data() + plan.frozen_offset[I];
    else if constexpr (plan.trainable_offset[I] != plan.npos) return trainable_.data() + plan.trainable_offset[I];
    else return nullptr;
  }
  template <std::size_t I>
  const T* parameter_block() const noexcept {
    return const_cast<model_core*>(this)->template parameter_block<I>();
  }
  /// Start of node I's state block (null: none).
  template <std::size_t I>
  T* state_block() noexcept {
    if constexpr (plan.state_offset[I] != plan.npos) return state_.data() + plan.state_offset[I];
    else return nullptr;
  }
  template <std::size_t I>
  const T* state_block() const noexcept {
    return const_cast<model_core*>(this)->template state_block<I>();
  }

  /// The trainable arena: every trainable parameter, node after node. Throws `state_error` on
  /// a moved-from model.
  std::span<T, trainable_param_count> trainable_parameters() {
    ensure_weights("frost::model::trainable_parameters");
    return std::span<T, trainable_param_count>(trainable_.data(), trainable_param_count);
  }
  std::span<const T, trainable_param_count> trainable_parameters() const {
    ensure_weights("frost::model::trainable_parameters");
    return std::span<const T, trainable_param_count>(trainable_.data(), trainable_param_count);
  }
  /// The frozen arena.
  std::span<T, frozen_param_count> frozen_parameters() {
    ensure_weights("frost::model::frozen_parameters");
    return std::span<T, frozen_param_count>(frozen_.data(), frozen_param_count);
  }
  std::span<const T, frozen_param_count> frozen_parameters() const {
    ensure_weights("frost::model::frozen_parameters");
    return std::span<const T, frozen_param_count>(frozen_.data(), frozen_param_count);
  }
  /// The state arena: every layer's non-trainable state (moving statistics), node after node.
  std::span<T, state_count> state() {
    ensure_weights("frost::model::state");
    return std::span<T, state_count>(state_.data(), state_count);
  }
  std::span<const T, state_count> state() const {
    ensure_weights("frost::model::state");
    return std::span<const T, state_count>(state_.data(), state_count);
  }

  /// Views of node I's parameters (dense: `kernel()`, `bias()`), or `no_parameters`.
  template <std::size_t I>
  auto node_parameters(const char* where) {
    ensure_weights(where);
    return node_view<I>(parameter_block<I>(), state_block<I>());
  }
  template <std::size_t I>
  auto node_parameters(const char* where) const {
    ensure_weights(where);
    return node_view<I>(parameter_block<I>(), state_block<I>());
  }

  /// Throws `state_error` naming `where` when the model was moved from.
  void ensure_weights(const char* where) const {
    if (!holds_weights()) detail::throw_state(where);
  }

 protected:
  /// Keras's default initialization, deterministically from `seed`: node I draws from stream
  /// I - Base of the seed, so freezing does not change what `init(seed)` gives.
  void initialize(std::uint64_t seed) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (init_node_<I>(seed), ...);
    }(std::make_index_sequence<node_count>{});
  }

 public:
  /// A view of node I's parameters over its parameter block and its state block (layers with
  /// state: batch normalization's moving statistics).
  template <std::size_t I, class P>
  static auto node_view(P* block, P* state) noexcept {
    if constexpr (plan.facts[I].params == 0 && plan.facts[I].state == 0) {
      return no_parameters{};
    } else {
      return [&]<class... In>(detail::shape_list<In...>*) {
        using view = typename detail::params_type<node_spec<I>, P, In...>::type;
        if constexpr (plan.facts[I].state != 0) return view(block, state);
        else return view(block);
      }(static_cast<node_input_shapes<I>*>(nullptr));
    }
  }
  /// A view of node I's gradient layout over `block` (a gradient block).
  template <std::size_t I, class P>
  static auto node_gradient_view(P* block) noexcept {
    return [&]<class... In>(detail::shape_list<In...>*) {
      return typename detail::gradient_params_type<node_spec<I>, P, In...>::type(block);
    }(static_cast<node_input_shapes<I>*>(nullptr));
  }

 private:
  template <std::size_t I>
  void init_node_(std::uint64_t seed) {
    if constexpr (plan.facts[I].params > 0 || plan.facts[I].state > 0) {
      random_stream rng(seed * 0x100000001b3ULL + (I - Base));
      [&]<class... In>(detail::shape_list<In...>*) {
        if constexpr (plan.facts[I].state > 0)
          node_spec<I>::template initialize<In...>(parameter_block<I>(), state_block<I>(), rng);
        else
          node_spec<I>::template initialize<In...>(parameter_block<I>(), rng);
      }(static_cast<node_input_shapes<I>*>(nullptr));
    }
  }

  detail::arena_t<T, trainable_param_count, Storage> trainable_;
  detail::arena_t<T, frozen_param_count, Storage> frozen_;
  detail::arena_t<T, state_count, Storage> state_;
};

}  // namespace frost
