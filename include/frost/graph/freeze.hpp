#pragma once
/// \file
/// `freeze<i...>(std::move(model))` and `unfreeze<i...>(std::move(model))`, with layer indices or
/// names (`freeze<"encoder">`): Keras `model.layers[i].trainable = False / True`, as moves
/// between model types. Works on sequential and functional models alike.

#include <frost/core/fixed_string.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/functional.hpp>
#include <frost/graph/names.hpp>
#include <frost/graph/node.hpp>
#include <frost/graph/sequential.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace frost {

/// Compile-error predicate: `freeze`/`unfreeze` got layer index `Index`, but the model has
/// `LayerCount` layers (indices 0 .. LayerCount - 1, as Keras `model.layers`).
template <std::size_t Index, std::size_t LayerCount>
inline constexpr bool layer_index_in_range = Index < LayerCount;

namespace detail {

// Input layers have no weights: freezing one changes nothing (as in Keras).
template <bool Freeze, class L>
using retyped_layer_t =
    std::conditional_t<is_input_layer_v<L>, L, std::conditional_t<Freeze, frozen<unfrozen_t<L>>, unfrozen_t<L>>>;

template <std::size_t J, std::size_t... I>
inline constexpr bool listed_v = ((J == I) || ...);

template <bool Freeze, class Model, std::size_t... I>
struct retyped;
// Sequential: indices count layers after the input.
template <bool Freeze, class T, class In, class... Ls, std::size_t... I>
struct retyped<Freeze, basic_sequential<T, In, Ls...>, I...> {
  template <std::size_t... J>
  static auto make(std::index_sequence<J...>)
      -> basic_sequential<T, In, std::conditional_t<listed_v<J, I...>, retyped_layer_t<Freeze, Ls>, Ls>...>;
  using type = decltype(make(std::index_sequence_for<Ls...>{}));
};
// Functional: indices count nodes, inputs included.
template <bool Freeze, class T, class... Nodes, class Inputs, class Storage, std::size_t... I>
struct retyped<Freeze, basic_functional<T, graph<Nodes...>, Inputs, Storage>, I...> {
  template <std::size_t J, class N>
  struct one {
    using type = N;
  };
  template <std::size_t J, class L, std::size_t... P>
    requires listed_v<J, I...>
  struct one<J, layer_node<L, P...>> {
    using type = layer_node<retyped_layer_t<Freeze, L>, P...>;
  };
  template <std::size_t... J>
  static auto make(std::index_sequence<J...>) -> basic_functional<T, graph<typename one<J, Nodes>::type...>, Inputs, Storage>;
  using type = decltype(make(std::index_sequence_for<Nodes...>{}));
};

template <class Model>
struct all_trainable;
template <class T, class In, class... Ls>
struct all_trainable<basic_sequential<T, In, Ls...>> {
  using type = basic_sequential<T, In, unfrozen_t<Ls>...>;
};
template <class T, class... Nodes, class Inputs, class Storage>
struct all_trainable<basic_functional<T, graph<Nodes...>, Inputs, Storage>> {
  template <class N>
  struct one;
  template <class L, std::size_t... P>
  struct one<layer_node<L, P...>> {
    using type = layer_node<unfrozen_t<L>, P...>;
  };
  using type = basic_functional<T, graph<typename one<Nodes>::type...>, Inputs, Storage>;
};

template <class To, class From>
To move_parameters(const From& from) {
  To to{typename To::uninitialized_tag{}};
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((To::plan.facts[J].params > 0
          ? (void)std::copy_n(from.template parameter_block<J>(), To::plan.facts[J].params, to.template parameter_block<J>())
          : void()),
     ...);
  }(std::make_index_sequence<To::node_count>{});
  // Freezing moves no state between arenas: the state layout is the same in both types.
  static_assert(To::state_count == From::state_count);
  if constexpr (To::state_count > 0) std::copy_n(from.state().data(), To::state_count, to.state().data());
  return to;
}

template <std::size_t Count, std::size_t... I>
constexpr bool check_indices() {
  static_assert((layer_index_in_range<I, Count> && ...),
                "frost::freeze/unfreeze: layer index out of range (indices as Keras model.layers, from 0)");
  return true;
}

template <class Model>
inline constexpr bool is_model_v = false;
template <class T, class In, class... Ls>
inline constexpr bool is_model_v<basic_sequential<T, In, Ls...>> = true;
template <class T, class G, class In, class S>
inline constexpr bool is_model_v<basic_functional<T, G, In, S>> = true;

// The model retyped to `To`, each layer block moved once; `model` is left empty.
template <class To, class From>
To retype(From&& model) {
  model.ensure_weights("frost::freeze/unfreeze");
  To result = move_parameters<To>(model);
  [[maybe_unused]] std::remove_cvref_t<From> released = std::move(model);  // the old arenas are freed here
  return result;
}

/// The model moved into type `To`; after a reported lvalue (the entry point's static_assert), an
/// empty `To`, so that the one error is the only one.
template <class To, class Model>
To moved_into(Model&& model) {
  if constexpr (std::is_lvalue_reference_v<Model>) return To{typename To::uninitialized_tag{}};
  else return retype<To>(std::move(model));
}

/// Compile-error predicate: `freeze`/`unfreeze` takes the model as `std::move(model)`.
template <class Model>
inline constexpr bool model_passed_by_move = false;

template <class Model, fixed_string... Names>
constexpr bool check_names() {
  static_assert((layer_name_exists<Names, Model::template index_of<Names>> && ...),
                "frost::freeze/unfreeze: no layer has this name");
  return true;
}

}  // namespace detail

/// True when `A` and `B` are the same model but for which layers are frozen.
template <class A, class B>
inline constexpr bool same_architecture_v =
    std::is_same_v<typename detail::all_trainable<A>::type, typename detail::all_trainable<B>::type>;

/// The model type with layers `I...` (layer indices, as `freeze` takes) frozen; already frozen
/// layers stay frozen.
template <class Model, std::size_t... I>
using frozen_model_t = typename detail::retyped<true, Model, I...>::type;
/// The model type with layers `I...` trainable again.
template <class Model, std::size_t... I>
using unfrozen_model_t = typename detail::retyped<false, Model, I...>::type;

/// Freezes layers `I...` (indices as in Keras `model.layers`: a sequential model counts from its
/// first layer, a functional one from its first input). The weights are kept: each layer block
/// moves once into the frozen arena of the new model; `model` is left empty.
/// ```cpp
/// auto ft = frost::freeze<0, 1>(std::move(net));   // layers 0 and 1: trainable = False
/// ```
template <std::size_t... I, class Model>
  requires detail::is_model_v<std::remove_cvref_t<Model>>
auto freeze(Model&& model) {
  using M = std::remove_cvref_t<Model>;
  // Freezing takes the model by value: pass std::move(model). A copy would silently leave the
  // trainable original behind.
  static_assert(!std::is_lvalue_reference_v<Model> || detail::model_passed_by_move<Model>,
                "frost::freeze: pass a non-const model as std::move(model); freezing moves its weights into a new type");
  static_assert(detail::check_indices<M::layer_count, I...>());
  using to = frozen_model_t<M, I...>;
  return detail::moved_into<to>(std::forward<Model>(model));
}

/// Freezes the layers named `Names...`.
/// ```cpp
/// auto ft = frost::freeze<"encoder">(std::move(model));
/// ```
template <fixed_string... Names, class Model>
  requires detail::is_model_v<std::remove_cvref_t<Model>>
auto freeze(Model&& model) {
  using M = std::remove_cvref_t<Model>;
  static_assert(detail::check_names<M, Names...>());
  static_assert(!std::is_lvalue_reference_v<Model> || detail::model_passed_by_move<Model>,
                "frost::freeze: pass a non-const model as std::move(model); freezing moves its weights into a new type");
  using to = frozen_model_t<M, M::template index_of<Names>...>;
  return detail::moved_into<to>(std::forward<Model>(model));
}

/// Makes layers `I...` trainable again: the inverse of `freeze`.
/// ```cpp
/// auto back = frost::unfreeze<1>(std::move(ft));
/// ```
template <std::size_t... I, class Model>
  requires detail::is_model_v<std::remove_cvref_t<Model>>
auto unfreeze(Model&& model) {
  using M = std::remove_cvref_t<Model>;
  static_assert(!std::is_lvalue_reference_v<Model> || detail::model_passed_by_move<Model>,
                "frost::unfreeze: pass a non-const model as std::move(model); unfreezing moves its weights into a new type");
  static_assert(detail::check_indices<M::layer_count, I...>());
  using to = unfrozen_model_t<M, I...>;
  return detail::moved_into<to>(std::forward<Model>(model));
}

/// Makes the layers named `Names...` trainable again.
template <fixed_string... Names, class Model>
  requires detail::is_model_v<std::remove_cvref_t<Model>>
auto unfreeze(Model&& model) {
  using M = std::remove_cvref_t<Model>;
  static_assert(detail::check_names<M, Names...>());
  static_assert(!std::is_lvalue_reference_v<Model> || detail::model_passed_by_move<Model>,
                "frost::unfreeze: pass a non-const model as std::move(model); unfreezing moves its weights into a new type");
  using to = unfrozen_model_t<M, M::template index_of<Names>...>;
  return detail::moved_into<to>(std::forward<Model>(model));
}

}  // namespace frost
