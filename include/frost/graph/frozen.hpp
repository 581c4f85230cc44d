#pragma once
/// \file
/// `frozen<L>`: layer `L` with `trainable = False`, as a type.

#include <frost/layers/layer_spec.hpp>

namespace frost {

template <class L>
struct frozen;

template <class L>
inline constexpr bool is_frozen_v = false;
template <class L>
inline constexpr bool is_frozen_v<frozen<L>> = true;

/// Layer `L` frozen: Keras `layer.trainable = False`. Its forward pass is unchanged; it gets no
/// gradient storage, no optimizer state and no weight-gradient code. Write it in a model type
/// directly, or obtain it with `freeze<i...>(std::move(model))`.
/// ```cpp
/// using head_only = frost::sequential<frost::input<100>, frost::frozen<frost::dense<64, frost::relu>>,
///                                     frost::dense<10, frost::softmax>>;
/// ```
template <class L>
struct frozen {
  // frozen<frozen<L>> has no meaning: write frozen<L> once.
  static_assert(!is_frozen_v<L>, "frost::frozen: the layer is already frozen");
  static_assert(is_frozen_v<L> || layer_spec<L>, "frost::frozen: the argument must be a layer spec, e.g. frozen<dense<64, relu>>");
  using layer_type = L;
};

namespace detail {
template <class L>
struct unfrozen {
  using type = L;
};
template <class L>
struct unfrozen<frozen<L>> {
  using type = typename unfrozen<L>::type;  // frozen<frozen<L>> is reported once, by frozen<>
};
}  // namespace detail

/// The layer spec under an optional `frozen<>`.
template <class L>
using unfrozen_t = typename detail::unfrozen<L>::type;

}  // namespace frost
