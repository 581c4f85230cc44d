#pragma once
/// \file
/// `max_pooling2d<PH, PW, Options...>`: the maximum over each PH×PW window of an H×W×C image.
/// Keras `layers.MaxPooling2D(pool_size, strides, padding)`, channels_last.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>
#include <frost/layers/spatial.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string_view>

namespace frost {

/// The maximum of each channel over each PH×PW window (default PW = PH). Options, in any order:
/// `strides<...>` (default: the pool size) and `padding::valid` (default) or `padding::same`
/// (padding never wins the maximum). No parameters. Backward routes each output's gradient to
/// the first position in its window (row by row) that holds the maximum, found again from the
/// kept input and output, so nothing but those two is kept.
/// ```cpp
/// using net = frost::sequential<frost::input<28, 28, 1>, frost::conv2d<8, 3, 3, frost::relu>,
///                               frost::max_pooling2d<2, 2>>;
/// ```
template <std::size_t PH, std::size_t PW = PH, class... Options>
struct max_pooling2d : detail::pooling_window<PH, PW, Options...>, parameter_free, layer_call<max_pooling2d<PH, PW, Options...>> {
  using window = detail::pooling_window<PH, PW, Options...>;
  template <class In>
  using geometry = typename window::template geometry<In>;
  static constexpr std::string_view keras_name = "max_pooling2d";
  static constexpr bool backward_reads_input = true;
  static constexpr bool backward_reads_output = true;

  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    using G = geometry<In>;
    constexpr std::size_t out_size = G::OH * G::OW * G::C;
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* x = a.x + n * In::size;
      T* y = a.y + n * out_size;
      std::fill_n(y, out_size, -std::numeric_limits<T>::infinity());
      window::template for_windows<G>([&](std::size_t o, std::size_t i) {
        for (std::size_t c = 0; c < G::C; ++c) y[o + c] = x[i + c] > y[o + c] ? x[i + c] : y[o + c];
      });
    }
  }

  /// input: dx (+)= dL/dy at the first maximum of each window, 0 elsewhere. Branch-free over the
  /// channels (`taken` marks the outputs whose maximum was found), so the loop vectorizes.
  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    using G = geometry<In>;
    constexpr std::size_t out_size = G::OH * G::OW * G::C;
    // Windows that tile the input exactly write every dx once: no clearing pass first.
    constexpr bool tiles = !window::same_padding && window::stride_rows == PH && window::stride_cols == PW &&
                           G::H % PH == 0 && G::W % PW == 0;
    const bool write = tiles && !a.accumulate;
    if (!a.accumulate && !tiles) std::fill_n(a.dx, a.rows * In::size, T{});
    T taken[out_size];
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* x = a.x + n * In::size;
      const T* y = a.y + n * out_size;
      const T* g = a.g + n * out_size;
      T* dx = a.dx + n * In::size;
      std::fill_n(taken, out_size, T{});
      window::template for_windows<G>([&](std::size_t o, std::size_t i) {
        for (std::size_t c = 0; c < G::C; ++c) {
          const bool hit = taken[o + c] == T{} && x[i + c] == y[o + c];
          dx[i + c] = (write ? T{} : dx[i + c]) + (hit ? g[o + c] : T{});
          taken[o + c] = hit ? T{1} : taken[o + c];
        }
      });
    }
  }
};

}  // namespace frost
