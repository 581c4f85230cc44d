#pragma once
/// \file
/// `global_average_pooling2d`: the mean of each channel over the whole H×W image. Keras
/// `layers.GlobalAveragePooling2D()`, channels_last.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>
#include <frost/layers/spatial.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace frost {

/// y[c] = mean over h, w of x[h, w, c]: an H×W×C image becomes C features. No parameters;
/// backward spreads dL/dy[c] / (H·W) over the image and keeps nothing.
/// ```cpp
/// using net = frost::sequential<frost::input<8, 8, 16>, frost::global_average_pooling2d, frost::dense<10>>;
/// ```
struct global_average_pooling2d : parameter_free, layer_call<global_average_pooling2d> {
  static constexpr std::string_view keras_name = "global_average_pooling2d";

  using expected_input = image_at_least<1, 1>;
  template <class In>
  static constexpr bool accepts = In::rank == 3;
  template <class In>
  using output_shape = shape<In::dims[In::rank - 1]>;
  template <class In>
  static constexpr double flops = double(In::size);

  static constexpr bool rows_independent = true;


  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    constexpr std::size_t C = In::dims[2], positions = In::size / C;
    const T inv = T{1} / static_cast<T>(positions);
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* x = a.x + n * In::size;
      T* y = a.y + n * C;
      std::fill_n(y, C, T{});
      for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < C; ++c) y[c] += x[p * C + c];
      for (std::size_t c = 0; c < C; ++c) y[c] *= inv;
    }
  }

  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    constexpr std::size_t C = In::dims[2], positions = In::size / C;
    const T inv = T{1} / static_cast<T>(positions);
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* g = a.g + n * C;
      T* dx = a.dx + n * In::size;
      for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < C; ++c) dx[p * C + c] = (a.accumulate ? dx[p * C + c] : T{}) + g[c] * inv;
    }
  }
};

}  // namespace frost
