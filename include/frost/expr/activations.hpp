#pragma once
/// \file
/// The built-in activations: `linear`, `relu`, `sigmoid`, `tanh_activation`, `softmax`.
/// Each is an empty type used as a template argument (`dense<64, relu>`), with a forward that
/// runs in place over a batch and a backward that turns dL/dy into dL/dz in place, reading only
/// what `backward_reads` names (nothing, or the layer's output y).

#include <algorithm>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <string_view>

namespace frost {

/// What an activation's backward needs from its forward pass.
enum class backward_reads { nothing, output };

/// f(z) = z. Keras `activation="linear"` (or None). Backward keeps nothing.
struct linear {
  static constexpr std::string_view name = "linear";
  static constexpr backward_reads reads = backward_reads::nothing;
  static constexpr bool outputs_probabilities = false;
  template <std::size_t N, class T>
  static void forward(T*, std::size_t) noexcept {}
  template <std::size_t N, class T>
  static void backward(const T*, T*, std::size_t) noexcept {}
};

/// f(z) = max(z, 0). Keras `"relu"`. f'(z) = [y > 0], read from the output.
struct relu {
  static constexpr std::string_view name = "relu";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = false;
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) z[i] = z[i] > T{} ? z[i] : T{};
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) g[i] = y[i] > T{} ? g[i] : T{};
  }
};

/// f(z) = 1 / (1 + e^-z). Keras `"sigmoid"`. f'(z) = y (1 - y).
struct sigmoid {
  static constexpr std::string_view name = "sigmoid";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = true;
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) z[i] = T{1} / (T{1} + std::exp(-z[i]));
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) g[i] *= y[i] * (T{1} - y[i]);
  }
};

/// f(z) = tanh z. Keras `"tanh"`, named so that it does not collide with `std::tanh` or
/// `::tanh` under `using namespace frost`. f'(z) = 1 - y².
struct tanh_activation {
  static constexpr std::string_view name = "tanh";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = false;
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) z[i] = std::tanh(z[i]);
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows * N; ++i) g[i] *= T{1} - y[i] * y[i];
  }
};

/// Row-wise y_j = e^(z_j - max z) / Σ_k e^(z_k - max z). Keras `"softmax"` (last axis).
/// Backward: dz_j = y_j (g_j - Σ_k g_k y_k).
struct softmax {
  static constexpr std::string_view name = "softmax";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = true;
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = z + r * N;
      const T top = *std::max_element(row, row + N);
      T sum{};
      for (std::size_t j = 0; j < N; ++j) {
        row[j] = std::exp(row[j] - top);
        sum += row[j];
      }
      const T inv = T{1} / sum;
      for (std::size_t j = 0; j < N; ++j) row[j] *= inv;
    }
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      const T* yr = y + r * N;
      T* gr = g + r * N;
      T dot{};
      for (std::size_t j = 0; j < N; ++j) dot += gr[j] * yr[j];
      for (std::size_t j = 0; j < N; ++j) gr[j] = yr[j] * (gr[j] - dot);
    }
  }
};

/// An activation spec: an empty type with a name, a `reads` fact and forward/backward.
template <class A>
concept activation_spec = requires {
  { A::name } -> std::convertible_to<std::string_view>;
  { A::reads } -> std::convertible_to<backward_reads>;
  { A::template forward<1, float>(static_cast<float*>(nullptr), std::size_t{}) };
  { A::template backward<1, float>(static_cast<const float*>(nullptr), static_cast<float*>(nullptr), std::size_t{}) };
};

}  // namespace frost
