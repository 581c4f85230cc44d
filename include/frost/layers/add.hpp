#pragma once
/// \file
/// `add`: the elementwise sum of several inputs of one shape. Keras `layers.Add()`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace frost {

/// Requirement type printed in compile errors: every input of the same shape.
struct same_shapes {};

/// y = x₀ + x₁ + … for two or more inputs of one shape: a residual connection.
/// Backward passes dL/dy unchanged to every input. No parameters.
/// ```cpp
/// auto h = frost::dense<64, frost::relu>{}(in);
/// auto r = frost::add{}(h, frost::dense<64, frost::relu>{}(h));   // h + f(h)
/// ```
struct add : parameter_free, layer_call<add> {
  static constexpr std::string_view keras_name = "add";
  static constexpr bool merge = true;
  static constexpr bool rows_independent = true;
  /// A pass over every value: worth splitting across threads for big inputs.
  template <class... In>
  static constexpr double flops = (0.0 + ... + double(In::size));

  using expected_input = same_shapes;
  template <class In0, class... In>
  static constexpr bool accepts = sizeof...(In) >= 1 && (std::is_same_v<In0, In> && ...);
  template <class In0, class... In>
  using output_shape = In0;


  template <class In0, class... In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    constexpr std::size_t k = 1 + sizeof...(In), n = In0::size;
    const std::size_t count = a.rows * n;
    std::copy(a.inputs[0], a.inputs[0] + count, a.y);
    for (std::size_t i = 1; i < k; ++i) {
      const T* x = a.inputs[i];
      for (std::size_t j = 0; j < count; ++j) a.y[j] += x[j];
    }
  }

  /// input: dx (+)= dL/dy, for any input.
  template <class In0, class... In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    const std::size_t count = a.rows * In0::size;
    if (a.accumulate) {
      for (std::size_t j = 0; j < count; ++j) a.dx[j] += a.g[j];
    } else {
      std::copy(a.g, a.g + count, a.dx);
    }
  }
};

}  // namespace frost
