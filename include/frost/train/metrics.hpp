#pragma once
/// \file
/// Metrics for `fit` and `evaluate`, with Keras's names and formulas: each sample gets a value
/// (the mean over its outputs), and the metric is the mean of those values over every sample
/// seen since `reset()` (Keras's `Mean` reduction, weighted by batch size). Updating allocates
/// nothing. A metric is any type with `name`, `reset()`, `update<K>(p, y, rows)` (K outputs per
/// sample) and `result()`; it may say which targets it reads with `accepts<K, Y, YK>` (YK values
/// of type Y per sample), which fit and evaluate check at compile time.

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace frost {

namespace detail {
/// Index of the largest of p[0..K), the first one on ties (NumPy's argmax).
template <std::size_t K, class T>
constexpr std::size_t argmax(const T* p) noexcept {
  std::size_t best = 0;
  for (std::size_t j = 1; j < K; ++j)
    if (p[j] > p[best]) best = j;
  return best;
}

/// The running mean that every built-in metric keeps.
struct sample_mean {
  double sum = 0;
  std::size_t count = 0;
  void reset() noexcept { *this = {}; }
  double result() const noexcept { return count == 0 ? 0.0 : sum / static_cast<double>(count); }
};
}  // namespace detail

/// argmax(p) == argmax(y) for one-hot (or soft) targets. Keras `metrics.CategoricalAccuracy()`.
struct categorical_accuracy : detail::sample_mean {
  static constexpr std::string_view name = "categorical_accuracy";
  template <std::size_t K, class Y, std::size_t YK>
  static constexpr bool accepts = YK == K;
  template <std::size_t K, class T, class Y>
  void update(const T* p, const Y* y, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows; ++i) sum += detail::argmax<K>(p + i * K) == detail::argmax<K>(y + i * K);
    count += rows;
  }
};

/// argmax(p) == label for integer class labels. Keras `metrics.SparseCategoricalAccuracy()`.
struct sparse_categorical_accuracy : detail::sample_mean {
  static constexpr std::string_view name = "sparse_categorical_accuracy";
  template <std::size_t K, class Y, std::size_t YK>
  static constexpr bool accepts = YK == 1 && std::is_integral_v<Y>;
  template <std::size_t K, class T, class Y>
  void update(const T* p, const Y* labels, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows; ++i)
      sum += detail::argmax<K>(p + i * K) == static_cast<std::size_t>(labels[i]);
    count += rows;
  }
};

/// The share of outputs on the right side of `threshold` (p > threshold predicts 1), averaged
/// per sample. Keras `metrics.BinaryAccuracy(threshold=0.5)`; `binary_accuracy(0.7)` for another.
struct binary_accuracy : detail::sample_mean {
  static constexpr std::string_view name = "binary_accuracy";
  template <std::size_t K, class Y, std::size_t YK>
  static constexpr bool accepts = YK == K;
  double threshold = 0.5;
  binary_accuracy() = default;
  explicit binary_accuracy(double t) noexcept : threshold(t) {}
  template <std::size_t K, class T, class Y>
  void update(const T* p, const Y* y, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows; ++i) {
      std::size_t right = 0;
      for (std::size_t j = 0; j < K; ++j)
        right += (static_cast<double>(p[i * K + j]) > threshold ? Y(1) : Y(0)) == y[i * K + j];
      sum += static_cast<double>(right) / static_cast<double>(K);
    }
    count += rows;
  }
};

/// Keras's `metrics=["accuracy"]`: binary accuracy for one output, sparse categorical accuracy
/// for integer labels, categorical accuracy otherwise. Logged as "accuracy".
struct accuracy : detail::sample_mean {
  static constexpr std::string_view name = "accuracy";
  template <std::size_t K, class Y, std::size_t YK>
  static constexpr bool accepts = K == 1 ? YK == 1 : std::is_integral_v<Y> ? YK == 1 : YK == K;
  template <std::size_t K, class T, class Y>
  void update(const T* p, const Y* y, std::size_t rows) noexcept {
    if constexpr (K == 1) {
      binary_accuracy m;
      m.template update<K>(p, y, rows);
      sum += m.sum;
    } else if constexpr (std::is_integral_v<Y>) {
      sparse_categorical_accuracy m;
      m.template update<K>(p, y, rows);
      sum += m.sum;
    } else {
      categorical_accuracy m;
      m.template update<K>(p, y, rows);
      sum += m.sum;
    }
    count += rows;
  }
};

/// mean_j |y_j − p_j| per sample. Keras `metrics.MeanAbsoluteError()`.
struct mean_absolute_error : detail::sample_mean {
  static constexpr std::string_view name = "mean_absolute_error";
  template <std::size_t K, class Y, std::size_t YK>
  static constexpr bool accepts = YK == K;
  template <std::size_t K, class T, class Y>
  void update(const T* p, const Y* y, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows; ++i) {
      double row = 0;
      for (std::size_t j = 0; j < K; ++j) {
        const double d = static_cast<double>(p[i * K + j]) - static_cast<double>(y[i * K + j]);
        row += d < 0 ? -d : d;
      }
      sum += row / static_cast<double>(K);
    }
    count += rows;
  }
};

/// Compile-error predicate: metric `M` reads targets of `TargetValues` values of type `Y` per
/// sample against `Outputs` model outputs (categorical, binary accuracy and mean absolute error
/// need one target per output; sparse categorical accuracy one integer label).
template <class M, std::size_t Outputs, class Y, std::size_t TargetValues>
inline constexpr bool metric_fits_targets = [] {
  if constexpr (requires { M::template accepts<Outputs, Y, TargetValues>; }) return M::template accepts<Outputs, Y, TargetValues>;
  else return true;
}();

/// A metric: a name for the history, and a running value over the samples it was shown.
template <class M>
concept metric = std::is_default_constructible_v<M> && requires(M& m, const M& c) {
  { M::name } -> std::convertible_to<std::string_view>;
  m.reset();
  { c.result() } -> std::convertible_to<double>;
  m.template update<2>(static_cast<const float*>(nullptr), static_cast<const float*>(nullptr), std::size_t{});
};

}  // namespace frost
