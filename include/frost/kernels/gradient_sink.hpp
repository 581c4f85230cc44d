#pragma once
/// \file
/// `store_gradient`: where a weight-gradient product puts each finished piece of a gradient (its
/// reduction over the batch complete). It stores it at its place in the gradient block; a
/// trainer's fused update passes a sink that applies the optimizer there instead
/// (train/fused_update.hpp), so the gradient is never stored. A sink has two operations:
///   put<B, Partial>(at, v, n)   one vector of B bytes for the gradient at `at` (n lanes when Partial)
///   span(at, values, n)         n finished values at once (batch normalization's per-channel sums)

#include <frost/core/simd.hpp>

#include <cstddef>

namespace frost::kernels {

/// The sink that stores: the gradient arena's.
struct store_gradient {
  template <std::size_t B, bool Partial, class T>
  void put(T* at, simd::vec_t<T, B> v, std::size_t n) const noexcept {
    if constexpr (Partial) simd::store_n<T, B>(at, v, n);
    else simd::store<T, B>(at, v);
  }
  template <class T>
  void span(T* at, const T* values, std::size_t n) const noexcept {
    if (at == values) return;
    for (std::size_t i = 0; i < n; ++i) at[i] = values[i];
  }
};

}  // namespace frost::kernels
