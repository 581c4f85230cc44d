#pragma once
/// \file
/// `freeze<i...>(std::move(model))` and `unfreeze<i...>(std::move(model))`: Keras
/// `model.layers[i].trainable = False / True`, as moves between model types.

#include <frost/graph/frozen.hpp>
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

template <std::size_t J, class L, std::size_t... I>
using frozen_if_t = std::conditional_t<((J == I) || ...), frozen<unfrozen_t<L>>, L>;
template <std::size_t J, class L, std::size_t... I>
using unfrozen_if_t = std::conditional_t<((J == I) || ...), unfrozen_t<L>, L>;

template <bool Freeze, class Model, std::size_t... I>
struct retyped;
template <bool Freeze, class T, class In, class... Ls, std::size_t... I>
struct retyped<Freeze, basic_sequential<T, In, Ls...>, I...> {
  template <std::size_t... J>
  static auto make(std::index_sequence<J...>)
      -> basic_sequential<T, In, std::conditional_t<Freeze, frozen_if_t<J, Ls, I...>, unfrozen_if_t<J, Ls, I...>>...>;
  using type = decltype(make(std::index_sequence_for<Ls...>{}));
};

template <class To, class From>
To move_parameters(const From& from) {
  To to{typename To::uninitialized_tag{}};
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    ((To::plan.facts[J].params > 0
          ? (void)std::copy_n(from.template parameter_block<J>(), To::plan.facts[J].params, to.template parameter_block<J>())
          : void()),
     ...);
  }(std::make_index_sequence<To::layer_count>{});
  return to;
}

template <std::size_t Count, std::size_t... I>
constexpr bool check_indices() {
  static_assert((layer_index_in_range<I, Count> && ...),
                "frost::freeze/unfreeze: layer index out of range (indices count layers after input<...>, from 0)");
  return true;
}

}  // namespace detail

namespace detail {
template <class Model>
struct all_trainable;
template <class T, class In, class... Ls>
struct all_trainable<basic_sequential<T, In, Ls...>> {
  using type = basic_sequential<T, In, unfrozen_t<Ls>...>;
};
}  // namespace detail

/// True when `A` and `B` are the same model but for which layers are frozen.
template <class A, class B>
inline constexpr bool same_architecture_v =
    std::is_same_v<typename detail::all_trainable<A>::type, typename detail::all_trainable<B>::type>;

/// The model type with layers `I...` frozen (already frozen layers stay frozen).
template <class Model, std::size_t... I>
using frozen_model_t = typename detail::retyped<true, Model, I...>::type;
/// The model type with layers `I...` trainable again.
template <class Model, std::size_t... I>
using unfrozen_model_t = typename detail::retyped<false, Model, I...>::type;

namespace detail {
// The model retyped to `To`, each layer block moved once; `model` is left empty.
template <class To, class From>
To retype(From&& model) {
  To result = move_parameters<To>(model);
  [[maybe_unused]] std::remove_cvref_t<From> released = std::move(model);  // the old arenas are freed here
  return result;
}
}  // namespace detail

/// Freezes layers `I...` (indices as in Keras `model.layers`). The weights are kept: each layer
/// block moves once into the frozen arena of the new model; `model` is left empty.
/// ```cpp
/// auto ft = frost::freeze<0, 1>(std::move(net));   // layers 0 and 1: trainable = False
/// ```
template <std::size_t... I, class T, class In, class... Ls>
auto freeze(basic_sequential<T, In, Ls...>&& model) {
  static_assert(detail::check_indices<sizeof...(Ls), I...>());
  return detail::retype<frozen_model_t<basic_sequential<T, In, Ls...>, I...>>(std::move(model));
}

/// Makes layers `I...` trainable again: the inverse of `freeze`.
/// ```cpp
/// auto back = frost::unfreeze<1>(std::move(ft));
/// ```
template <std::size_t... I, class T, class In, class... Ls>
auto unfreeze(basic_sequential<T, In, Ls...>&& model) {
  static_assert(detail::check_indices<sizeof...(Ls), I...>());
  return detail::retype<unfrozen_model_t<basic_sequential<T, In, Ls...>, I...>>(std::move(model));
}

// Freezing takes the model by value: pass std::move(model). A copy would silently leave the
// trainable original behind.
template <std::size_t... I, class T, class In, class... Ls>
auto freeze(const basic_sequential<T, In, Ls...>&) {
  static_assert(sizeof...(I) != sizeof...(I),
                "frost::freeze: pass a non-const model as std::move(model); freezing moves its weights into a new type");
  using to = frozen_model_t<basic_sequential<T, In, Ls...>, I...>;
  return to{typename to::uninitialized_tag{}};
}
template <std::size_t... I, class T, class In, class... Ls>
auto unfreeze(const basic_sequential<T, In, Ls...>&) {
  static_assert(sizeof...(I) != sizeof...(I),
                "frost::unfreeze: pass a non-const model as std::move(model); unfreezing moves its weights into a new type");
  using to = unfrozen_model_t<basic_sequential<T, In, Ls...>, I...>;
  return to{typename to::uninitialized_tag{}};
}

}  // namespace frost
