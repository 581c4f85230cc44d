#pragma once
/// \file
/// `store_gradient`: where a weight-gradient product puts each finished piece of a gradient (its
/// reduction over the batch complete). It stores it at its place in the gradient block; a
/// trainer's fused update passes a sink that applies the optimizer there instead
/// (train/fused_update.hpp), so the gradient is never stored. A sink has two operations:
///   put<B, Partial>(at, v, n)   one vector of B bytes for the gradient at `at` (n lanes when Partial)
///   put_tile<R, VN, B, Partial>(at, ld, acc, n)   a tile of R rows (ld apart) of VN vectors
///   span(at, values, n)         n finished values at once (batch normalization's per-channel sums)
///   prepare<R, Bytes>(at, ld)   R rows (ld apart) of Bytes at `at` will be put soon

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
  template <std::size_t R, std::size_t Bytes, class T>
  void prepare(T*, std::size_t) const noexcept {}
  template <std::size_t R, std::size_t VN, std::size_t B, bool Partial, class T>
  void put_tile(T* at, std::size_t ld, const simd::vec_t<T, B> (&acc)[R][VN], std::size_t n) const noexcept {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) put<B, Partial>(at + r * ld + v * (B / sizeof(T)), acc[r][v], n);
  }
};

}  // namespace frost::kernels
