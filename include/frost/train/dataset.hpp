#pragma once
/// \file
/// `dataset`: samples and their targets as views over the caller's contiguous arrays (no copy),
/// cut into batches as Keras's `fit` cuts NumPy arrays: in order, each `batch_size` rows, the
/// last batch smaller when the rows do not divide. Shuffled batches are gathered row by row
/// into a `batch_buffer` made once.

#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/graph/model.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace frost {

namespace detail {

/// The read-only view of a matrix or view: `matrix_view<const T, D...>`.
template <class M>
struct const_view;
template <class T, std::size_t... D>
struct const_view<matrix<T, D...>> {
  using type = matrix_view<const T, D...>;
  using owned = matrix<T, D...>;
};
template <class T, std::size_t... D>
struct const_view<matrix_view<T, D...>> {
  using type = matrix_view<const std::remove_const_t<T>, D...>;
  using owned = matrix<std::remove_const_t<T>, D...>;
};
template <class... M>
struct const_view<std::tuple<M...>> {
  using type = std::tuple<typename const_view<std::remove_cvref_t<M>>::type...>;
  using owned = std::tuple<typename const_view<std::remove_cvref_t<M>>::owned...>;
};

template <class M>
using const_view_t = typename const_view<std::remove_cvref_t<M>>::type;

template <class T, std::size_t... D>
matrix_view<const T, D...> view_of(const matrix<T, D...>& m) noexcept {
  return {m.data(), m.rows()};
}
template <class T, std::size_t... D>
matrix_view<const std::remove_const_t<T>, D...> view_of(const matrix_view<T, D...>& m) noexcept {
  return {m.data(), m.rows()};
}
template <class... M>
auto view_of(const std::tuple<M...>& t) noexcept {
  return std::apply([](const auto&... m) { return std::tuple(view_of(m)...); }, t);
}

template <class V>
std::size_t rows_of(const V& v) noexcept {
  if constexpr (requires { std::tuple_size<V>::value; }) return std::get<0>(v).rows();
  else return v.rows();
}

/// Rows [begin, end) of a view (or of each view of a tuple), still a view.
template <class T, std::size_t... D>
matrix_view<T, D...> slice_of(const matrix_view<T, D...>& v, std::size_t begin, std::size_t end) noexcept {
  return {v.data() + begin * matrix_view<T, D...>::cols, end - begin};
}
template <class... V>
std::tuple<V...> slice_of(const std::tuple<V...>& t, std::size_t begin, std::size_t end) noexcept {
  return std::apply([&](const auto&... v) { return std::tuple<V...>(slice_of(v, begin, end)...); }, t);
}

/// Copies rows ids[0..n) of `src` into rows 0..n of `dst` (a matrix, or a tuple of them).
template <class T, std::size_t... D>
void gather_rows(const matrix_view<const T, D...>& src, const std::size_t* ids, std::size_t n,
                 matrix<T, D...>& dst) noexcept {
  constexpr std::size_t cols = matrix<T, D...>::cols;
  for (std::size_t r = 0; r < n; ++r) std::memcpy(dst.data() + r * cols, src.data() + ids[r] * cols, cols * sizeof(T));
}
template <class... V, class... M>
void gather_rows(const std::tuple<V...>& src, const std::size_t* ids, std::size_t n, std::tuple<M...>& dst) noexcept {
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (gather_rows(std::get<K>(src), ids, n, std::get<K>(dst)), ...);
  }(std::index_sequence_for<V...>{});
}

/// The first n rows of a matrix (or of each matrix of a tuple), as a read-only view.
template <class T, std::size_t... D>
matrix_view<const T, D...> head_of(const matrix<T, D...>& m, std::size_t n) noexcept {
  return {m.data(), n};
}
template <class... M>
auto head_of(const std::tuple<M...>& t, std::size_t n) noexcept {
  return std::apply([&](const auto&... m) { return std::tuple(head_of(m, n)...); }, t);
}

template <class T, std::size_t... D>
void make_rows(matrix<T, D...>& m, std::size_t rows) {
  m = matrix<T, D...>(rows);
}
template <class... M>
void make_rows(std::tuple<M...>& t, std::size_t rows) {
  std::apply([&](auto&... m) { (make_rows(m, rows), ...); }, t);
}

/// The common row count of every input view; throws `shape_error` if they differ.
template <class V>
std::size_t checked_rows(const char* where, const V& v) {
  if constexpr (requires { std::tuple_size<V>::value; })
    return std::apply([&](const auto&... m) { return common_rows(where, m...); }, v);
  else return v.rows();
}

}  // namespace detail

/// Samples `x` (one matrix or view, or a `std::tuple` of them for a model with several inputs,
/// e.g. `std::tie(a, b)`) and their targets `y`, as views: nothing is copied, and the arrays must
/// outlive the dataset. `slice(begin, end)` is again a view.
/// ```cpp
/// frost::matrix<float, 64> x(1797);
/// frost::matrix<int, 1> y(1797);
/// auto data = frost::dataset(x, y);
/// auto [train, validation] = data.split(0.2f);  // the last 20 % validate, as Keras's validation_split
/// ```
template <class X, class Y>
class dataset {
 public:
  using inputs_type = X;   ///< a matrix_view<const T, D...> or a tuple of them
  using targets_type = Y;  ///< a matrix_view<const T, D...>

  dataset(const X& x, const Y& y) : x_(x), y_(y), rows_(detail::checked_rows("frost::dataset", x)) {
    if (y.rows() != rows_)
      detail::throw_shape("frost::dataset", "rows of y", std::to_string(rows_) + " (the rows of x)",
                          std::to_string(y.rows()));
  }
  /// From matrices (or views, or tuples of them): views of them.
  template <class XM, class YM>
    requires(!std::is_same_v<XM, X> || !std::is_same_v<YM, Y>)
  dataset(const XM& x, const YM& y) : dataset(detail::view_of(x), detail::view_of(y)) {}

  std::size_t size() const noexcept { return rows_; }
  const X& x() const noexcept { return x_; }
  const Y& y() const noexcept { return y_; }

  /// Rows [begin, end), a view. Throws `shape_error` unless begin ≤ end ≤ size().
  dataset slice(std::size_t begin, std::size_t end) const {
    if (begin > end || end > rows_)
      detail::throw_shape("frost::dataset::slice", "rows", "a range within [0, " + std::to_string(rows_) + "]",
                          "[" + std::to_string(begin) + ", " + std::to_string(end) + ")");
    return dataset(detail::slice_of(x_, begin, end), detail::slice_of(y_, begin, end), end - begin);
  }

  /// Keras's `validation_split`: the first ⌊n·(1 − fraction)⌋ rows train, the rest validate
  /// (taken before any shuffling). Throws `value_error` for a fraction outside (0, 1) or one that
  /// leaves either part empty. The fraction is taken as the decimal it was written as (0.2f is
  /// 0.2), so 100 rows split 80/20 as in Keras.
  std::pair<dataset, dataset> split(float fraction) const {
    if (!(fraction > 0.f && fraction < 1.f))
      detail::throw_value("frost::fit", "validation_split", "a fraction in (0, 1)", std::to_string(fraction));
    // 1 - fraction in float is the float nearest the decimal difference; the product with n is
    // then exact enough that floor() lands where Keras's double arithmetic does.
    const auto at = static_cast<std::size_t>(static_cast<double>(rows_) * static_cast<double>(1.f - fraction));
    if (at == 0 || at == rows_)
      detail::throw_value("frost::fit", "validation_split",
                          "a fraction that leaves samples on both sides of " + std::to_string(rows_) + " rows",
                          std::to_string(fraction) + " (" + std::to_string(at) + " rows to train on)");
    return {slice(0, at), slice(at, rows_)};
  }

 private:
  dataset(const X& x, const Y& y, std::size_t rows) : x_(x), y_(y), rows_(rows) {}

  X x_;
  Y y_;
  std::size_t rows_;
};

template <class XM, class YM>
dataset(const XM&, const YM&) -> dataset<detail::const_view_t<XM>, detail::const_view_t<YM>>;

/// A dataset over `x` and `y`: `make_dataset(x, y)` is `dataset(x, y)`.
template <class XM, class YM>
auto make_dataset(const XM& x, const YM& y) {
  return dataset<detail::const_view_t<XM>, detail::const_view_t<YM>>(detail::view_of(x), detail::view_of(y));
}

/// Room for one batch of a dataset's rows, made once: `gather` copies chosen rows into it (a
/// shuffled epoch's batches) and returns them as views.
template <class X, class Y>
class batch_buffer {
 public:
  explicit batch_buffer(std::size_t rows) : cap_(rows) {
    detail::make_rows(x_, rows);
    detail::make_rows(y_, rows);
  }
  std::size_t capacity() const noexcept { return cap_; }

  /// Rows ids[0..n) of `data`, n ≤ capacity(), copied here; views of them.
  std::pair<detail::const_view_t<X>, Y> gather(const dataset<X, Y>& data, const std::size_t* ids,
                                               std::size_t n) noexcept {
    detail::gather_rows(data.x(), ids, n, x_);
    detail::gather_rows(data.y(), ids, n, y_);
    return {detail::head_of(x_, n), detail::head_of(y_, n)};
  }

 private:
  typename detail::const_view<X>::owned x_;
  typename detail::const_view<Y>::owned y_;
  std::size_t cap_;
};

}  // namespace frost
