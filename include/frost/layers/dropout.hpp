#pragma once
/// \file
/// `dropout<Rate>`: inverted dropout in training, the identity in inference. Keras
/// `layers.Dropout(rate)`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace frost {

/// In a training-mode pass (`trainer::step`, `value_and_grad`), each value is kept with
/// probability 1 − Rate and scaled by 1 / (1 − Rate), or set to 0; in inference (`model(x)`,
/// `predict`) it passes unchanged. Whether it is frozen changes nothing (Keras: dropout follows
/// the training flag only). The mask is drawn from the pass's random stream, value by value
/// from (stream, row, index), so the same seed gives the same mask on any number of threads;
/// it is kept for backward only when a trainable layer lies below. No parameters.
/// ```cpp
/// using net = frost::sequential<frost::input<64>, frost::dense<32, frost::relu>, frost::dropout<0.25f>,
///                               frost::dense<10, frost::softmax>>;
/// ```
template <float Rate>
struct dropout : parameter_free, layer_call<dropout<Rate>> {
  static_assert(Rate >= 0.f && Rate < 1.f, "frost::dropout: the rate must be in [0, 1)");
  static constexpr float rate = Rate;
  static constexpr std::string_view keras_name = "dropout";

  using expected_input = any_shape;
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr double flops = double(In::size);

  static constexpr bool rows_independent = true;
  /// The mask (0 or 1 / (1 − Rate) per value), when backward needs it.
  template <class In>
  static constexpr std::size_t extra_kept = Rate > 0.f ? In::size : 0;


  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    if (!a.training || Rate == 0.f) {
      std::copy_n(a.x, a.rows * In::size, a.y);
      return;
    }
    const T scale = T{1} / (T{1} - static_cast<T>(Rate));
    for (std::size_t n = 0; n < a.rows; ++n) {
      const std::uint64_t first = (a.first_row + n) * In::size;
      for (std::size_t j = 0; j < In::size; ++j) {
        const T m = uniform_at(a.noise, first + j) >= Rate ? scale : T{};
        if (a.kept != nullptr) a.kept[n * In::size + j] = m;
        a.y[n * In::size + j] = a.x[n * In::size + j] * m;
      }
    }
  }

  /// input: dx (+)= mask·dL/dy.
  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    const std::size_t n = a.rows * In::size;
    if constexpr (Rate == 0.f) {
      for (std::size_t i = 0; i < n; ++i) a.dx[i] = (a.accumulate ? a.dx[i] : T{}) + a.g[i];
    } else {
      for (std::size_t i = 0; i < n; ++i) a.dx[i] = (a.accumulate ? a.dx[i] : T{}) + a.g[i] * a.kept[i];
    }
  }
};

}  // namespace frost
