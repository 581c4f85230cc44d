#pragma once
/// \file
/// `frozen<L>`: layer `L` with `trainable = False`, as a type; `spec_t<L>`, the bare layer spec
/// under `frozen<>` and `named<>`.

#include <frost/core/fixed_string.hpp>
#include <frost/layers/layer_spec.hpp>

#include <string_view>

namespace frost {

template <class L>
struct frozen;
template <fixed_string Name, class L>
struct named;

template <class L>
inline constexpr bool is_frozen_v = false;
template <class L>
inline constexpr bool is_frozen_v<frozen<L>> = true;
template <fixed_string Name, class L>
inline constexpr bool is_frozen_v<named<Name, L>> = is_frozen_v<L>;

template <class L>
inline constexpr bool is_named_v = false;
template <fixed_string Name, class L>
inline constexpr bool is_named_v<named<Name, L>> = true;
template <class L>
inline constexpr bool is_named_v<frozen<L>> = is_named_v<L>;

namespace detail {
template <class L>
struct spec_of {
  using type = L;
};
// A frozen layer runs its frozen form (batch normalization: the inference-mode affine).
template <class L>
struct spec_of<frozen<L>> {
  using type = typename layer_traits<typename spec_of<L>::type>::frozen_form;
};
template <fixed_string Name, class L>
struct spec_of<named<Name, L>> {
  using type = typename spec_of<L>::type;
};

template <class L>
struct unfrozen {
  using type = L;
};
template <class L>
struct unfrozen<frozen<L>> {
  using type = typename unfrozen<L>::type;  // frozen<frozen<L>> is reported once, by frozen<>
};
template <fixed_string Name, class L>
struct unfrozen<named<Name, L>> {
  using type = named<Name, typename unfrozen<L>::type>;
};
}  // namespace detail

/// The layer spec under any `frozen<>` and `named<>`: what runs (for a frozen layer, its
/// `frozen_form`).
template <class L>
using spec_t = typename detail::spec_of<L>::type;

/// `L` without `frozen<>` (a name stays).
template <class L>
using unfrozen_t = typename detail::unfrozen<L>::type;

/// Layer `L` frozen: Keras `layer.trainable = False`. Its forward pass is unchanged; it gets no
/// gradient storage, no optimizer state and no weight-gradient code. Write it in a model type
/// directly, or obtain it with `freeze<i...>(std::move(model))`.
/// ```cpp
/// using head_only = frost::sequential<frost::input<100>, frost::frozen<frost::dense<64, frost::relu>>,
///                                     frost::dense<10, frost::softmax>>;
/// ```
template <class L>
struct frozen : layer_call<frozen<L>> {
  // frozen<frozen<L>> has no meaning: write frozen<L> once.
  static_assert(!is_frozen_v<L>, "frost::frozen: the layer is already frozen");
  static_assert(is_frozen_v<L> || layer_spec<spec_t<L>>,
                "frost::frozen: the argument must be a layer spec, e.g. frozen<dense<64, relu>>");
  using layer_type = L;
};

}  // namespace frost
