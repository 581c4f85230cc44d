#pragma once
/// \file
/// The three matrix products a dense layer needs, with compile-time K (inputs) and N (units)
/// and a run-time M (the batch), all row-major, none materialising a whole transposed matrix:
///   gemm_forward:  Y  = X·W (+ bias)      X: M×K, W: K×N, Y: M×N
///   gemm_weight:   dW = Xᵀ·dZ, db = Σ dZ  (the weight gradient, overwritten)
///   gemm_input:    dX = dZ·Wᵀ             (the input gradient, overwritten; Wᵀ packed in blocks)
/// Each is cache-blocked (a panel of W stays in L2 while the batch streams past it) and
/// register-blocked (a tile of accumulators lives in vector registers; see simd.hpp). Columns
/// that do not fill a whole vector use half- and quarter-width vectors before scalars, so a
/// 10-unit layer still runs vectorized on AVX-512.

#include <frost/core/simd.hpp>

#include <algorithm>
#include <cstddef>

namespace frost::kernels {

using namespace frost::simd;  // vec_t, load, store, broadcast, simd_bytes

namespace detail {

// Panel sizes: a KC×NC block of W (≤ 256 KiB) is reused by every row of the batch.
inline constexpr std::size_t panel_bytes = 256 * 1024;

/// Covers columns [j, end) with chunks: two full vectors, one full vector, then (where the
/// target's vectors are wider than 16 bytes) one half- and one quarter-width vector, then the
/// scalar rest. Calls `tile.template operator()<Bytes, Vectors>(j)`; Bytes = 0 is the scalar rest.
template <class T, class Tile>
inline void column_chunks(std::size_t j, std::size_t end, Tile&& tile) {
  constexpr std::size_t L = simd_bytes / sizeof(T);
  for (; j + 2 * L <= end; j += 2 * L) tile.template operator()<simd_bytes, 2>(j);
  for (; j + L <= end; j += L) tile.template operator()<simd_bytes, 1>(j);
  if constexpr (simd_bytes >= 32) {
    if (j + L / 2 <= end) {
      tile.template operator()<simd_bytes / 2, 1>(j);
      j += L / 2;
    }
  }
  if constexpr (simd_bytes >= 64) {
    if (j + L / 4 <= end) {
      tile.template operator()<simd_bytes / 4, 1>(j);
      j += L / 4;
    }
  }
  if (j < end) tile.template operator()<0, 0>(j);
}

// R rows × VN vectors of B bytes: Y += X(R×kb)·W(kb×cols). `init` (bias) seeds the tile when not
// accumulating; null means zero. B = 0: the `nc` scalar columns.
template <std::size_t R, std::size_t B, std::size_t VN, class T>
inline void forward_tile(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb, T* y,
                         std::size_t ldy, const T* init, bool accumulate, std::size_t nc) noexcept {
  if constexpr (B == 0) {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t j = 0; j < nc; ++j) {
        T s = accumulate ? y[r * ldy + j] : (init ? init[j] : T{});
        for (std::size_t k = 0; k < kb; ++k) s += x[r * ldx + k] * w[k * ldw + j];
        y[r * ldy + j] = s;
      }
  } else {
    using V = vec_t<T, B>;
    constexpr std::size_t L = B / sizeof(T);
    V acc[R][VN];
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v)
        acc[r][v] = accumulate ? load<T, B>(y + r * ldy + v * L) : (init ? load<T, B>(init + v * L) : V{});
    for (std::size_t k = 0; k < kb; ++k) {
      V wv[VN];
      for (std::size_t v = 0; v < VN; ++v) wv[v] = load<T, B>(w + k * ldw + v * L);
      for (std::size_t r = 0; r < R; ++r) {
        const V xb = broadcast<T, B>(x[r * ldx + k]);
        for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * wv[v];
      }
    }
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) store<T, B>(y + r * ldy + v * L, acc[r][v]);
  }
}

// R rows of Y[:, j0 .. j0 + nb) += X(R×kb)·W(kb×·), W and Y with leading dimensions ldw, ldy.
template <std::size_t R, class T>
inline void tile_rows(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb, std::size_t j0,
                      std::size_t nb, T* y, std::size_t ldy, const T* bias, bool accumulate) noexcept {
  const std::size_t end = j0 + nb;
  column_chunks<T>(j0, end, [&]<std::size_t B, std::size_t VN>(std::size_t j) {
    forward_tile<R, B, VN>(x, ldx, w + j, ldw, kb, y + j, ldy, bias ? bias + j : nullptr, accumulate, end - j);
  });
}

template <std::size_t R, std::size_t N, class T>
inline void forward_rows(const T* x, std::size_t ldx, const T* w, std::size_t kb, std::size_t j0, std::size_t nb,
                         T* y, const T* bias, bool accumulate) noexcept {
  tile_rows<R>(x, ldx, w, N, kb, j0, nb, y, N, bias, accumulate);
}

}  // namespace detail

/// Y[m×N] = X[m×K]·W[K×N] + bias[N] (bias may be null: no bias). Overwrites Y.
template <std::size_t K, std::size_t N, class T>
void gemm_forward(const T* x, std::size_t m, const T* w, const T* bias, T* y) noexcept {
  constexpr std::size_t L = native<T>::width;
  constexpr std::size_t NC = std::min(N, std::max<std::size_t>(2 * L, 256 / (2 * L) * (2 * L)));
  constexpr std::size_t KC = std::max<std::size_t>(1, std::min(K, detail::panel_bytes / sizeof(T) / NC));
  for (std::size_t jc = 0; jc < N; jc += NC) {
    const std::size_t nb = std::min(NC, N - jc);
    for (std::size_t kc = 0; kc < K; kc += KC) {
      const std::size_t kb = std::min(KC, K - kc);
      const bool acc = kc != 0;
      const T* wp = w + kc * N;
      std::size_t i = 0;
      // With 32 vector registers (AVX-512), 8 rows × 2 vectors: 16 accumulators, 2 loads of W and
      // 8 broadcasts per 16 FMAs.
      if constexpr (simd_bytes == 64)
        for (; i + 8 <= m; i += 8) detail::forward_rows<8, N>(x + i * K + kc, K, wp, kb, jc, nb, y + i * N, bias, acc);
      for (; i + 4 <= m; i += 4) detail::forward_rows<4, N>(x + i * K + kc, K, wp, kb, jc, nb, y + i * N, bias, acc);
      for (; i < m; ++i) detail::forward_rows<1, N>(x + i * K + kc, K, wp, kb, jc, nb, y + i * N, bias, acc);
    }
  }
}

namespace detail {

// dW tile: R consecutive k × VN vectors of B bytes of j, reduced over all m rows. B = 0: the
// `nc` scalar columns.
template <std::size_t R, std::size_t B, std::size_t VN, std::size_t K, std::size_t N, class T>
inline void weight_tile(const T* x, const T* dz, std::size_t m, T* dw, std::size_t nc) noexcept {
  if constexpr (B == 0) {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t j = 0; j < nc; ++j) {
        T s{};
        for (std::size_t i = 0; i < m; ++i) s += x[i * K + r] * dz[i * N + j];
        dw[r * N + j] = s;
      }
  } else {
    using V = vec_t<T, B>;
    constexpr std::size_t L = B / sizeof(T);
    V acc[R][VN] = {};
    for (std::size_t i = 0; i < m; ++i) {
      V dv[VN];
      for (std::size_t v = 0; v < VN; ++v) dv[v] = load<T, B>(dz + i * N + v * L);
      for (std::size_t r = 0; r < R; ++r) {
        const V xb = broadcast<T, B>(x[i * K + r]);
        for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * dv[v];
      }
    }
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) store<T, B>(dw + r * N + v * L, acc[r][v]);
  }
}

template <std::size_t R, std::size_t K, std::size_t N, class T>
inline void weight_rows(const T* x, const T* dz, std::size_t m, T* dw) noexcept {
  column_chunks<T>(0, N, [&]<std::size_t B, std::size_t VN>(std::size_t j) {
    weight_tile<R, B, VN, K, N>(x, dz + j, m, dw + j, N - j);
  });
}

}  // namespace detail

/// dW[K×N] = X[m×K]ᵀ·dZ[m×N] and db[N] = Σ_rows dZ (db may be null). Overwrites dW and db.
template <std::size_t K, std::size_t N, class T>
void gemm_weight(const T* x, const T* dz, std::size_t m, T* dw, T* db) noexcept {
  // 8 inputs × 2 vectors (16 accumulators) where there are 32 vector registers, else 4 × 2.
  constexpr std::size_t K8 = simd_bytes == 64 ? K / 8 * 8 : 0;
  for (std::size_t k = 0; k < K8; k += 8) detail::weight_rows<8, K, N>(x + k, dz, m, dw + k * N);
  constexpr std::size_t K4 = K8 + (K - K8) / 4 * 4;
  for (std::size_t k = K8; k < K4; k += 4) detail::weight_rows<4, K, N>(x + k, dz, m, dw + k * N);
  if constexpr (K4 != K)
    for (std::size_t k = K4; k < K; ++k) detail::weight_rows<1, K, N>(x + k, dz, m, dw + k * N);
  if (db != nullptr) {
    for (std::size_t j = 0; j < N; ++j) db[j] = T{};
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < N; ++j) db[j] += dz[i * N + j];
  }
}

/// dX[m×K] = dZ[m×N]·W[K×N]ᵀ. Overwrites dX. Wᵀ is packed block by block (at most 128 × 64
/// scalars, on the stack) so that the product runs on the same broadcast-and-FMA tiles as the
/// forward product, instead of as dot products that end in horizontal sums.
template <std::size_t K, std::size_t N, class T>
void gemm_input(const T* dz, std::size_t m, const T* w, T* dx) noexcept {
  constexpr std::size_t KB = std::min<std::size_t>(K, 64);   // columns of dX per block
  constexpr std::size_t NB = std::min<std::size_t>(N, 128);  // units reduced per block
  alignas(64) T packed[NB * KB];
  for (std::size_t kc = 0; kc < K; kc += KB) {
    const std::size_t kb = std::min(KB, K - kc);
    for (std::size_t nc = 0; nc < N; nc += NB) {
      const std::size_t nb = std::min(NB, N - nc);
      for (std::size_t k = 0; k < kb; ++k)  // packed[j][k] = W[kc + k][nc + j]
        for (std::size_t j = 0; j < nb; ++j) packed[j * kb + k] = w[(kc + k) * N + nc + j];
      const bool acc = nc != 0;
      const T* no_bias = nullptr;
      std::size_t i = 0;
      if constexpr (simd_bytes == 64)
        for (; i + 8 <= m; i += 8)
          detail::tile_rows<8>(dz + i * N + nc, N, packed, kb, nb, 0, kb, dx + i * K + kc, K, no_bias, acc);
      for (; i + 4 <= m; i += 4)
        detail::tile_rows<4>(dz + i * N + nc, N, packed, kb, nb, 0, kb, dx + i * K + kc, K, no_bias, acc);
      for (; i < m; ++i)
        detail::tile_rows<1>(dz + i * N + nc, N, packed, kb, nb, 0, kb, dx + i * K + kc, K, no_bias, acc);
    }
  }
}

}  // namespace frost::kernels
