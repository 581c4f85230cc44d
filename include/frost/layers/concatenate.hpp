#pragma once
/// \file
/// `concatenate`: inputs joined along the last axis. Keras `layers.Concatenate()` (axis=-1).

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace frost {

/// Requirement type printed in compile errors: the same shape but for the last axis.
struct same_but_last_axis {};

namespace detail {
template <class A, class B>
constexpr bool same_but_last() {
  if constexpr (A::rank != B::rank || A::rank == 0) {
    return false;
  } else {
    for (std::size_t d = 0; d + 1 < A::rank; ++d)
      if (A::dims[d] != B::dims[d]) return false;
    return true;
  }
}
template <class S, std::size_t Last, std::size_t... D>
struct with_last;
template <std::size_t Last, std::size_t... D, std::size_t... I>
struct with_last<std::index_sequence<I...>, Last, D...> {
  static constexpr std::array<std::size_t, sizeof...(D)> dims{D...};
  using type = shape<(I + 1 == sizeof...(D) ? Last : dims[I])...>;
};
template <class S, std::size_t Last>
struct replace_last;
template <std::size_t... D, std::size_t Last>
struct replace_last<shape<D...>, Last> {
  using type = typename with_last<std::make_index_sequence<sizeof...(D)>, Last, D...>::type;
};
template <class First, class... Rest>
struct first_of_ {
  using type = First;
};
template <class... S>
using first_of = typename first_of_<S...>::type;
template <class S>
inline constexpr std::size_t last_axis_v = S::dims[S::rank - 1];
}  // namespace detail

/// y = [x₀, x₁, …] along the last axis, for two or more inputs whose other axes agree.
/// Backward hands each input its slice of dL/dy. No parameters.
/// ```cpp
/// auto both = frost::concatenate{}(left, right);   // (None, a) and (None, b) -> (None, a + b)
/// ```
struct concatenate : parameter_free, layer_call<concatenate> {
  static constexpr std::string_view keras_name = "concatenate";
  static constexpr bool merge = true;
  static constexpr bool rows_independent = true;
  /// A pass over every value: worth splitting across threads for big inputs.
  template <class... In>
  static constexpr double flops = (0.0 + ... + double(In::size));

  using expected_input = same_but_last_axis;
  template <class In0, class... In>
  static constexpr bool accepts = sizeof...(In) >= 1 && (detail::same_but_last<In0, In>() && ...);
  template <class In0, class... In>
  using output_shape =
      typename detail::replace_last<In0, (detail::last_axis_v<In0> + ... + detail::last_axis_v<In>)>::type;


  template <class... In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    constexpr std::array<std::size_t, sizeof...(In)> width{detail::last_axis_v<In>...};
    constexpr std::size_t out = (std::size_t{0} + ... + detail::last_axis_v<In>);
    // Every row of the output is (all but the last axis) runs of `out` values.
    const std::size_t runs = a.rows * (detail::first_of<In...>::size / width[0]);
    std::size_t at = 0;
    for (std::size_t k = 0; k < sizeof...(In); ++k) {
      const T* x = a.inputs[k];
      for (std::size_t r = 0; r < runs; ++r) std::copy_n(x + r * width[k], width[k], a.y + r * out + at);
      at += width[k];
    }
  }

  /// input k: dx (+)= input k's slice of dL/dy.
  template <class... In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    constexpr std::array<std::size_t, sizeof...(In)> width{detail::last_axis_v<In>...};
    constexpr std::size_t out = (std::size_t{0} + ... + detail::last_axis_v<In>);
    const std::size_t runs = a.rows * (detail::first_of<In...>::size / width[0]);
    std::size_t at = 0;
    for (std::size_t k = 0; k < a.input; ++k) at += width[k];
    const std::size_t w = width[a.input];
    for (std::size_t r = 0; r < runs; ++r) {
      const T* g = a.g + r * out + at;
      T* dx = a.dx + r * w;
      if (a.accumulate)
        for (std::size_t j = 0; j < w; ++j) dx[j] += g[j];
      else
        std::copy_n(g, w, dx);
    }
  }

};

}  // namespace frost
