#pragma once
/// \file
/// `matrix<T, Dims...>`: a batch of samples with a run-time row count and compile-time features.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/shape.hpp>

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace frost {

namespace detail {
/// Row-major offset of a sample's element (idx...) in shape<Dims...>.
template <std::size_t... Dims, class... I>
constexpr std::size_t flat_index(I... idx) noexcept {
  constexpr std::size_t dims[] = {Dims...};
  std::size_t at = 0, d = 0;
  ((at = at * dims[d++] + static_cast<std::size_t>(idx)), ...);
  return at;
}
}  // namespace detail

template <class T, std::size_t... Dims>
class matrix_view;

/// A batch of samples: `rows()` is chosen at run time, each row holds one sample of the
/// compile-time shape `shape<Dims...>` (row-major, Keras channels_last). Storage is one
/// 64-byte-aligned heap block, zero-initialized; copies are deep, moves steal.
///
/// Keras equivalent: a NumPy array of shape `(None, Dims...)`.
/// ```cpp
/// frost::matrix<float, 100> x(4);   // 4 samples of 100 features
/// x(0, 3) = 1.f;
/// ```
template <class T, std::size_t... Dims>
class matrix {
  static_assert(sizeof...(Dims) >= 1, "frost::matrix: give at least one feature dimension");

 public:
  using value_type = T;
  using sample_shape = shape<Dims...>;
  /// Scalars per sample (the product of `Dims`).
  static constexpr std::size_t cols = sample_shape::size;

  matrix() = default;
  matrix(const matrix&) = default;
  /// Moves steal the storage and leave `other` empty (0 rows).
  matrix(matrix&& other) noexcept : rows_(std::exchange(other.rows_, 0)), data_(std::move(other.data_)) {}
  /// Copy-and-swap: a failed copy leaves `*this` unchanged.
  matrix& operator=(matrix other) noexcept {
    std::swap(rows_, other.rows_);
    std::swap(data_, other.data_);
    return *this;
  }
  /// `rows` zero-initialized samples.
  explicit matrix(std::size_t rows) : rows_(rows), data_(rows * cols) {}
  /// `rows` samples copied from `values` (row-major); throws `shape_error` if
  /// `values.size() != rows * cols`.
  matrix(std::size_t rows, std::span<const T> values) : matrix(rows) {
    if (values.size() != rows * cols) {
      detail::throw_shape("frost::matrix", "values",
                          std::to_string(rows * cols) + " (" + std::to_string(rows) + " rows x " +
                              std::to_string(cols) + " columns)",
                          std::to_string(values.size()));
    }
    if (!values.empty()) std::memcpy(data_.data(), values.data(), values.size() * sizeof(T));
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t size() const noexcept { return rows_ * cols; }
  T* data() noexcept { return data_.data(); }
  const T* data() const noexcept { return data_.data(); }
  std::span<T> values() noexcept { return {data(), size()}; }
  std::span<const T> values() const noexcept { return {data(), size()}; }

  /// Sample `i` as a fixed-extent view.
  std::span<T, cols> row(std::size_t i) noexcept { return std::span<T, cols>(data() + i * cols, cols); }
  std::span<const T, cols> row(std::size_t i) const noexcept {
    return std::span<const T, cols>(data() + i * cols, cols);
  }

  /// Element access: the row, then one index per feature dimension.
  template <class... I>
    requires(sizeof...(I) == sizeof...(Dims))
  T& operator()(std::size_t i, I... idx) noexcept {
    return data()[i * cols + detail::flat_index<Dims...>(idx...)];
  }
  template <class... I>
    requires(sizeof...(I) == sizeof...(Dims))
  const T& operator()(std::size_t i, I... idx) const noexcept {
    return data()[i * cols + detail::flat_index<Dims...>(idx...)];
  }

  /// The same samples seen with another feature shape of the same size, without a copy:
  /// `images.view<64>()` of a `matrix<float, 8, 8, 1>` is its 64 features per sample
  /// (row-major, Keras channels_last), usable wherever a matrix is read.
  template <std::size_t... Other>
  matrix_view<T, Other...> view() noexcept {
    static_assert(shape<Other...>::size == cols, "frost::matrix::view: the new feature shape must have as many values");
    return matrix_view<T, Other...>(data(), rows_);
  }
  template <std::size_t... Other>
  matrix_view<const T, Other...> view() const noexcept {
    static_assert(shape<Other...>::size == cols, "frost::matrix::view: the new feature shape must have as many values");
    return matrix_view<const T, Other...>(data(), rows_);
  }

 private:
  std::size_t rows_ = 0;
  aligned_buffer<T> data_;
};

/// A matrix's samples seen with feature shape `shape<Dims...>`, owning nothing (from
/// `matrix::view`): `rows()`, `data()`, `row(i)`, `x(i, ...)`. `T` is const for a view of a
/// const matrix. Valid while the matrix lives and is not reassigned.
template <class T, std::size_t... Dims>
class matrix_view {
  static_assert(sizeof...(Dims) >= 1, "frost::matrix_view: give at least one feature dimension");

 public:
  using value_type = std::remove_const_t<T>;
  using sample_shape = shape<Dims...>;
  static constexpr std::size_t cols = sample_shape::size;

  matrix_view(T* data, std::size_t rows) noexcept : data_(data), rows_(rows) {}

  std::size_t rows() const noexcept { return rows_; }
  std::size_t size() const noexcept { return rows_ * cols; }
  T* data() const noexcept { return data_; }
  std::span<T> values() const noexcept { return {data_, size()}; }
  std::span<T, cols> row(std::size_t i) const noexcept { return std::span<T, cols>(data_ + i * cols, cols); }
  template <class... I>
    requires(sizeof...(I) == sizeof...(Dims))
  T& operator()(std::size_t i, I... idx) const noexcept {
    return data_[i * cols + detail::flat_index<Dims...>(idx...)];
  }

 private:
  T* data_;
  std::size_t rows_;
};

}  // namespace frost
