#pragma once
/// \file
/// The built-in losses, Keras's formulas with Keras's clipping (epsilon 1e-7), each averaged
/// over the batch (Keras `reduction="sum_over_batch_size"`), except `reduce_sum`.
///
/// A loss computes its value and, in the same pass, the gradient with respect to the model
/// output — or, when `fuses_with<Activation>` holds for the last layer's activation, directly
/// with respect to that layer's pre-activation z, where the chain rule collapses to (p − y)/N.

#include <frost/core/error.hpp>
#include <frost/core/simd.hpp>
#include <frost/expr/activations.hpp>
#include <frost/expr/derivative.hpp>
#include <frost/expr/evaluate.hpp>
#include <frost/expr/expression.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace frost {

/// Keras's backend epsilon, used to clip probabilities before taking logarithms.
template <class T>
inline constexpr T loss_epsilon = T(1e-7);

/// mean over samples of mean_j (y_j − p_j)². Keras `losses.MeanSquaredError()`.
struct mean_squared_error {
  static constexpr std::string_view name = "mean_squared_error";
  static constexpr bool needs_target = true;
  static constexpr bool sparse = false;
  template <class Act>
  static constexpr bool fits = true;
  template <class Act>
  static constexpr bool fuses_with = false;

  template <std::size_t K, bool Fused, class T>
  static T evaluate(const T* p, const T* y, std::size_t rows, T* g) noexcept {
    const T scale = T(2) / static_cast<T>(rows * K);
    double sum = 0;
    for (std::size_t i = 0; i < rows * K; ++i) {
      const T d = p[i] - y[i];
      sum += static_cast<double>(d) * d;
      g[i] = scale * d;
    }
    return static_cast<T>(sum / static_cast<double>(rows * K));
  }
};

/// mean over samples of mean_j −(y log p + (1 − y) log(1 − p)), p clipped to [ε, 1 − ε].
/// Keras `losses.BinaryCrossentropy()`. Fused with a sigmoid output: dz = (p − y) / (N·K).
struct binary_crossentropy {
  static constexpr std::string_view name = "binary_crossentropy";
  static constexpr bool needs_target = true;
  static constexpr bool sparse = false;
  template <class Act>
  static constexpr bool fits = outputs_probabilities_v<Act>;
  template <class Act>
  static constexpr bool fuses_with = std::is_same_v<Act, activations::sigmoid>;

  template <std::size_t K, bool Fused, class T>
  static T evaluate(const T* p, const T* y, std::size_t rows, T* g) noexcept {
    constexpr T eps = loss_epsilon<T>;
    const T scale = T(1) / static_cast<T>(rows * K);
    double sum = 0;
    for (std::size_t i = 0; i < rows * K; ++i) {
      const bool clipped = p[i] < eps || p[i] > T(1) - eps;
      const T pc = clipped ? (p[i] < eps ? eps : T(1) - eps) : p[i];
      sum -= static_cast<double>(y[i] * std::log(pc) + (T(1) - y[i]) * std::log(T(1) - pc));
      if constexpr (Fused) g[i] = scale * (p[i] - y[i]);
      else g[i] = clipped ? T{} : scale * ((T(1) - y[i]) / (T(1) - pc) - y[i] / pc);
    }
    return static_cast<T>(sum / static_cast<double>(rows * K));
  }
};

namespace detail {
// Keras normalizes each row by its sum, clips, then takes −Σ y log q. With q_j = p_j / s the
// derivative is ∂L/∂p_k = (Σ_{j unclipped} y_j − [k unclipped] y_k / q_k) / s.
template <std::size_t K, bool Fused, class T, class TargetAt>
T crossentropy_row(const T* p, TargetAt&& y, T* g, T scale) noexcept {
  constexpr T eps = loss_epsilon<T>;
  T s{};
  for (std::size_t j = 0; j < K; ++j) s += p[j];
  double loss = 0;
  T y_unclipped{}, y_sum{};
  for (std::size_t j = 0; j < K; ++j) {
    const T q = p[j] / s;
    const T yj = y(j);
    y_sum += yj;
    const bool clipped = q < eps || q > T(1) - eps;
    const T qc = clipped ? (q < eps ? eps : T(1) - eps) : q;
    if (yj != T{}) loss -= static_cast<double>(yj * std::log(qc));
    if (!clipped) y_unclipped += yj;
    if constexpr (!Fused) g[j] = clipped ? T{} : -yj / qc;
  }
  for (std::size_t j = 0; j < K; ++j) {
    // Fused with softmax (Σp = 1): ∂L/∂z_j = p_j Σy − y_j.
    if constexpr (Fused) g[j] = scale * (p[j] * y_sum - y(j));
    else g[j] = scale * (g[j] + y_unclipped) / s;
  }
  return static_cast<T>(loss);
}

// Fused with softmax, rows of K ≤ one vector: crossentropy_row's loss and gradient, the same
// bits, a row per vector (q = p / Σp in one division, the gradient in one pass; Σp and Σy in
// crossentropy_row's order). `target(i)` is row i's targets as a vector, zero beyond K.
// Returns the sum of the rows' losses.
template <std::size_t K, class T, class Target>
double crossentropy_fused_rows(const T* p, Target&& target, std::size_t rows, T* g, T scale) noexcept {
  using V = simd::native_t<T>;
  constexpr std::size_t B = simd::simd_bytes, L = simd::native<T>::width;
  constexpr T eps = loss_epsilon<T>;
  auto load_row = [](const T* at) { return K == L ? simd::load<T, B>(at) : simd::load_n<T, B>(at, K); };
  double sum = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const V pv = load_row(p + i * K);
    const V yv = target(i);
    alignas(64) T pa[L], qa[L], ya[L];
    simd::store<T, B>(pa, pv);
    simd::store<T, B>(ya, yv);
    T p_sum{}, y_sum{};
    for (std::size_t j = 0; j < K; ++j) {
      p_sum += pa[j];
      y_sum += ya[j];
    }
    V q = pv / simd::splat<V>(p_sum);
    q = simd::select(q < simd::splat<V>(eps), simd::splat<V>(eps), q);
    q = simd::select(q > simd::splat<V>(T(1) - eps), simd::splat<V>(T(1) - eps), q);
    simd::store<T, B>(qa, q);
    double loss = 0;
    for (std::size_t j = 0; j < K; ++j)
      if (ya[j] != T{}) loss -= static_cast<double>(ya[j] * std::log(qa[j]));
    sum += static_cast<double>(static_cast<T>(loss));
    // ∂L/∂z_j = p_j Σy − y_j (Σp = 1).
    const V dz = simd::splat<V>(scale) * (pv * simd::splat<V>(y_sum) - yv);
    if constexpr (K == L) simd::store<T, B>(g + i * K, dz);
    else simd::store_n<T, B>(g + i * K, dz, K);
  }
  return sum;
}
}  // namespace detail

/// mean over samples of −Σ_j y_j log q_j, q = p / Σp clipped to [ε, 1 − ε], with one-hot (or
/// soft) targets. Keras `losses.CategoricalCrossentropy()`. Fused with softmax: dz = (p − y)/N.
struct categorical_crossentropy {
  static constexpr std::string_view name = "categorical_crossentropy";
  static constexpr bool needs_target = true;
  static constexpr bool sparse = false;
  template <class Act>
  static constexpr bool fits = outputs_probabilities_v<Act>;
  template <class Act>
  static constexpr bool fuses_with = std::is_same_v<Act, activations::softmax>;

  template <std::size_t K, bool Fused, class T>
  static T evaluate(const T* p, const T* y, std::size_t rows, T* g) noexcept {
    const T scale = T(1) / static_cast<T>(rows);
    if constexpr (Fused && K <= simd::native<T>::width) {
      auto target = [y](std::size_t i) {
        return K == simd::native<T>::width ? simd::load<T, simd::simd_bytes>(y + i * K)
                                           : simd::load_n<T, simd::simd_bytes>(y + i * K, K);
      };
      return static_cast<T>(detail::crossentropy_fused_rows<K>(p, target, rows, g, scale) / static_cast<double>(rows));
    }
    double sum = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const T* yr = y + i * K;
      sum += detail::crossentropy_row<K, Fused>(p + i * K, [yr](std::size_t j) { return yr[j]; }, g + i * K, scale);
    }
    return static_cast<T>(sum / static_cast<double>(rows));
  }
};

/// `categorical_crossentropy` with integer class labels (one per sample, in [0, K)).
/// Keras `losses.SparseCategoricalCrossentropy()`. Labels out of range throw `value_error`.
struct sparse_categorical_crossentropy {
  static constexpr std::string_view name = "sparse_categorical_crossentropy";
  static constexpr bool needs_target = true;
  static constexpr bool sparse = true;
  template <class Act>
  static constexpr bool fits = outputs_probabilities_v<Act>;
  template <class Act>
  static constexpr bool fuses_with = std::is_same_v<Act, activations::softmax>;

  /// Throws `value_error` naming the first label outside [0, K).
  template <std::size_t K, class I>
  static void check_labels(const char* where, const I* labels, std::size_t rows) {
    for (std::size_t i = 0; i < rows; ++i) {
      if (labels[i] < I{0} || static_cast<std::size_t>(labels[i]) >= K) {
        detail::throw_value(where, ("label of row " + std::to_string(i)).c_str(),
                            "a class index in [0, " + std::to_string(K) + ")", std::to_string(labels[i]));
      }
    }
  }

  template <std::size_t K, bool Fused, class T, class I>
  static T evaluate(const T* p, const I* labels, std::size_t rows, T* g) noexcept {
    const T scale = T(1) / static_cast<T>(rows);
    if constexpr (Fused && K <= simd::native<T>::width) {
      using V = simd::native_t<T>;
      V lanes{};
      for (std::size_t l = 0; l < simd::native<T>::width; ++l) lanes[l] = static_cast<T>(l);
      auto target = [&](std::size_t i) {
        return simd::select(lanes == simd::splat<V>(static_cast<T>(labels[i])), simd::splat<V>(T(1)), V{});
      };
      return static_cast<T>(detail::crossentropy_fused_rows<K>(p, target, rows, g, scale) / static_cast<double>(rows));
    }
    double sum = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t label = static_cast<std::size_t>(labels[i]);
      sum += detail::crossentropy_row<K, Fused>(p + i * K, [label](std::size_t j) { return j == label ? T(1) : T(0); },
                                                g + i * K, scale);
    }
    return static_cast<T>(sum / static_cast<double>(rows));
  }
};

/// Σ of every output over the batch: the article's `tf.reduce_sum(output)`. Takes no target.
struct reduce_sum {
  static constexpr std::string_view name = "reduce_sum";
  static constexpr bool needs_target = false;
  static constexpr bool sparse = false;
  template <class Act>
  static constexpr bool fits = true;
  template <class Act>
  static constexpr bool fuses_with = false;

  template <std::size_t K, bool Fused, class T>
  static T evaluate(const T* p, const void*, std::size_t rows, T* g) noexcept {
    double sum = 0;
    for (std::size_t i = 0; i < rows * K; ++i) {
      sum += p[i];
      g[i] = T(1);
    }
    return static_cast<T>(sum);
  }
};

/// Compile-error predicates: a loss expression `E` may not use `_x` (an activation's input) or
/// `_y` (an activation's output); it is a function of `_y_true` and `_y_pred`.
template <class E>
inline constexpr bool loss_expression_uses_no_x = !expr::uses_v<E, expr::placeholder<0>>;
template <class E>
inline constexpr bool loss_expression_uses_no_y = !expr::uses_v<E, expr::placeholder<3>>;

/// A loss written as an elementwise expression of `_y_true` and `_y_pred`: averaged over the
/// last axis, then over the batch, with its gradient derived at compile time.
/// `expression_loss<decltype(se)>` is what `value_and_grad(model, se, x, y)` uses for
/// `constexpr auto se = (_y_pred - _y_true) * (_y_pred - _y_true);`.
template <class E>
struct expression_loss {
  static_assert(loss_expression_uses_no_x<E>, "frost: a loss expression may use only _y_true and _y_pred; this one uses _x");
  static_assert(loss_expression_uses_no_y<E>, "frost: a loss expression may use only _y_true and _y_pred; this one uses _y");
  static constexpr std::string_view name = "expression";
  static constexpr bool needs_target = expr::uses_v<E, expr::placeholder<1>>;
  static constexpr bool sparse = false;
  template <class Act>
  static constexpr bool fits = true;
  template <class Act>
  static constexpr bool fuses_with = false;
  /// ∂e/∂y_pred, simplified.
  using derivative = decltype(expr::d(E{}, expr::placeholder<2>{}));

  template <std::size_t K, bool Fused, class T, class Y>
  static T evaluate(const T* p, const Y* y, std::size_t rows, T* g) noexcept {
    const T scale = T(1) / static_cast<T>(rows * K);
    double sum = 0;
    for (std::size_t i = 0; i < rows * K; ++i) {
      expr::bindings<T> b;
      b.y_pred = p[i];
      if constexpr (needs_target) b.y_true = y[i];
      sum += static_cast<double>(expr::evaluate(E{}, b));
      g[i] = scale * expr::evaluate(derivative{}, b);
    }
    return static_cast<T>(sum / static_cast<double>(rows * K));
  }
};

namespace detail {
template <class L>
struct loss_of {
  using type = L;
};
template <expr::expression E>
struct loss_of<E> {
  using type = expression_loss<std::remove_cvref_t<E>>;
};
}  // namespace detail

/// The loss spec behind what the user passed: itself, or `expression_loss` for an expression.
template <class L>
using loss_t = typename detail::loss_of<L>::type;

/// A loss spec: a name, whether it needs a target, and `evaluate`.
template <class L>
concept loss_spec = requires {
  { L::name } -> std::convertible_to<std::string_view>;
  { L::needs_target } -> std::convertible_to<bool>;
  { L::sparse } -> std::convertible_to<bool>;
};

}  // namespace frost
