#pragma once
/// \file
/// `flatten`: a sample of any shape as one vector. Keras `layers.Flatten()`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace frost {

/// An H×W×C sample (or any shape) as H·W·C features, in the same row-major order (Keras
/// channels_last: index (h·W + w)·C + c). The values do not change; no parameters.
/// ```cpp
/// using net = frost::sequential<frost::input<8, 8, 1>, frost::conv2d<4, 3, 3>, frost::flatten, frost::dense<10>>;
/// ```
struct flatten : parameter_free, layer_call<flatten> {
  static constexpr std::string_view keras_name = "flatten";

  using expected_input = any_shape;
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In>
  using output_shape = shape<In::size>;
  template <class In>
  static constexpr double flops = double(In::size);

  static constexpr bool rows_independent = true;


  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    std::copy_n(a.x, a.rows * In::size, a.y);
  }

  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    if (a.accumulate)
      for (std::size_t i = 0; i < a.rows * In::size; ++i) a.dx[i] += a.g[i];
    else
      std::copy_n(a.g, a.rows * In::size, a.dx);
  }
};

}  // namespace frost
