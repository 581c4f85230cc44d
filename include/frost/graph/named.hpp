#pragma once
/// \file
/// `named<"name", L>`: layer `L` under a name of the user's choice. Keras `Dense(64, name="encoder")`.

#include <frost/core/fixed_string.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/layers/layer_spec.hpp>

#include <string_view>

namespace frost {

/// Layer `L` (a layer spec, `frozen<...>` or `input<...>`) named `Name`. Names are unique within
/// a model (checked at compile time); `model.layer<"encoder">()`, `freeze<"encoder">(...)` and
/// `summary` use them. Unnamed layers get Keras's default names: `dense`, `dense_1`, ...
/// ```cpp
/// auto h = frost::named<"encoder", frost::dense<64, frost::relu>>{}(in);
/// ```
template <fixed_string Name, class L>
struct named : layer_call<named<Name, L>> {
  static_assert(Name.length > 0, "frost::named: give a non-empty name");
  static_assert(!is_named_v<L>, "frost::named: the layer is already named");
  static constexpr std::string_view name = Name.view();
  using layer_type = L;
};

/// The name `L` was given with `named<>` (empty when none).
template <class L>
inline constexpr std::string_view given_name_v = {};
template <fixed_string Name, class L>
inline constexpr std::string_view given_name_v<named<Name, L>> = Name.view();
template <class L>
inline constexpr std::string_view given_name_v<frozen<L>> = given_name_v<L>;

}  // namespace frost
