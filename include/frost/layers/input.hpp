#pragma once
/// \file
/// `input<D...>`: the model's input, a compile-time feature shape. Keras `keras.Input(shape=...)`.

#include <frost/core/shape.hpp>

#include <cstddef>
#include <string_view>

namespace frost {

/// The input of a model: `input<100>` takes 100 features per sample, `input<8, 8, 1>` an 8×8
/// one-channel image (HWC). It has no parameters. A sequential model does not count it in
/// `model.layers`; a functional model does, as layer 0 (Keras's `InputLayer`). In a functional
/// model, `input<10>{}` is the symbolic tensor layers are called on: `dense<64>{}(input<10>{})`.
template <std::size_t... Dims>
struct input {
  static_assert(sizeof...(Dims) >= 1, "frost::input: give at least one dimension, e.g. input<100>");
  using shape_type = shape<Dims...>;
  static constexpr std::string_view keras_name = "input_layer";
};

template <class I>
inline constexpr bool is_input_v = false;
template <std::size_t... D>
inline constexpr bool is_input_v<input<D...>> = true;

}  // namespace frost
