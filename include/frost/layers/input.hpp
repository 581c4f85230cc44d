#pragma once
/// \file
/// `input<D...>`: the model's input, a compile-time feature shape. Keras `keras.Input(shape=...)`.

#include <frost/core/shape.hpp>

#include <cstddef>

namespace frost {

/// The input of a model: `input<100>` takes 100 features per sample, `input<8, 8, 1>` an 8×8
/// one-channel image (HWC). It has no parameters and is not counted in `model.layers`.
template <std::size_t... Dims>
struct input {
  static_assert(sizeof...(Dims) >= 1, "frost::input: give at least one dimension, e.g. input<100>");
  using shape_type = shape<Dims...>;
};

template <class I>
inline constexpr bool is_input_v = false;
template <std::size_t... D>
inline constexpr bool is_input_v<input<D...>> = true;

}  // namespace frost
