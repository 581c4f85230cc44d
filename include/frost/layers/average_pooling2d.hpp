#pragma once
/// \file
/// `average_pooling2d<PH, PW, Options...>`: the mean over each PH×PW window of an H×W×C image.
/// Keras `layers.AveragePooling2D(pool_size, strides, padding)`, channels_last.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>
#include <frost/layers/spatial.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace frost {

/// The mean of each channel over each PH×PW window (default PW = PH). Options, in any order:
/// `strides<...>` (default: the pool size) and `padding::valid` (default) or `padding::same`
/// (the mean is over the window's positions inside the image, as in Keras). No parameters;
/// backward keeps nothing.
/// ```cpp
/// using net = frost::sequential<frost::input<8, 8, 3>, frost::average_pooling2d<2, 2>>;
/// ```
template <std::size_t PH, std::size_t PW = PH, class... Options>
struct average_pooling2d : detail::pooling_window<PH, PW, Options...>, parameter_free, layer_call<average_pooling2d<PH, PW, Options...>> {
  using window = detail::pooling_window<PH, PW, Options...>;
  template <class In>
  using geometry = typename window::template geometry<In>;
  static constexpr std::string_view keras_name = "average_pooling2d";

  /// 1 / (the window's positions inside the image), per output position.
  template <class G, class T>
  static constexpr auto inverse_counts = [] {
    std::array<std::size_t, G::OH * G::OW> n{};
    window::template for_windows<G>([&](std::size_t o, std::size_t) { ++n[o / G::C]; });
    std::array<T, G::OH * G::OW> inv{};
    for (std::size_t p = 0; p < inv.size(); ++p) inv[p] = T{1} / static_cast<T>(n[p]);
    return inv;
  }();

  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    using G = geometry<In>;
    constexpr std::size_t out_size = G::OH * G::OW * G::C;
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* x = a.x + n * In::size;
      T* y = a.y + n * out_size;
      std::fill_n(y, out_size, T{});
      window::template for_windows<G>([&](std::size_t o, std::size_t i) {
        for (std::size_t c = 0; c < G::C; ++c) y[o + c] += x[i + c];
      });
      for (std::size_t p = 0; p < G::OH * G::OW; ++p)
        for (std::size_t c = 0; c < G::C; ++c) y[p * G::C + c] *= inverse_counts<G, T>[p];
    }
  }

  /// input: dx (+)= dL/dy / count at every position of each window.
  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    using G = geometry<In>;
    constexpr std::size_t out_size = G::OH * G::OW * G::C;
    if (!a.accumulate) std::fill_n(a.dx, a.rows * In::size, T{});
    for (std::size_t n = 0; n < a.rows; ++n) {
      const T* g = a.g + n * out_size;
      T* dx = a.dx + n * In::size;
      window::template for_windows<G>([&](std::size_t o, std::size_t i) {
        const T s = inverse_counts<G, T>[o / G::C];
        for (std::size_t c = 0; c < G::C; ++c) dx[i + c] += g[o + c] * s;
      });
    }
  }
};

}  // namespace frost
