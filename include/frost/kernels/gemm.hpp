#pragma once
/// \file
/// The three matrix products a dense layer needs, with compile-time K (inputs) and N (units)
/// and a run-time M (the batch), all row-major, none materialising a transpose:
///   gemm_forward:  Y  = X·W (+ bias)      X: M×K, W: K×N, Y: M×N
///   gemm_weight:   dW = Xᵀ·dZ, db = Σ dZ  (the weight gradient, overwritten)
///   gemm_input:    dX = dZ·Wᵀ             (the input gradient, overwritten)
/// Each is cache-blocked (a panel of W stays in L2 while the batch streams past it) and
/// register-blocked (a tile of accumulators lives in vector registers; see simd.hpp).

#include <frost/kernels/simd.hpp>

#include <algorithm>
#include <cstddef>

namespace frost::kernels {
namespace detail {

// Panel sizes: a KC×NC block of W (≤ 256 KiB of float) is reused by every row of the batch.
template <class T>
inline constexpr std::size_t panel_bytes = 256 * 1024;

// R rows × VN vectors of Y += X(R×kb)·W(kb×VN·L). `init` (bias) seeds the tile when not
// accumulating; null means zero.
template <std::size_t R, std::size_t VN, class T>
inline void forward_tile(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb,
                         T* y, std::size_t ldy, const T* init, bool accumulate) noexcept {
  using V = simd_t<T>;
  constexpr std::size_t L = simd<T>::width;
  V acc[R][VN];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < VN; ++v)
      acc[r][v] = accumulate ? load(y + r * ldy + v * L) : (init ? load(init + v * L) : V{});
  for (std::size_t k = 0; k < kb; ++k) {
    V wv[VN];
    for (std::size_t v = 0; v < VN; ++v) wv[v] = load(w + k * ldw + v * L);
    for (std::size_t r = 0; r < R; ++r) {
      const V xb = broadcast(x[r * ldx + k]);
      for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * wv[v];
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < VN; ++v) store(y + r * ldy + v * L, acc[r][v]);
}

// The same for the last nc < L columns, in scalars.
template <std::size_t R, class T>
inline void forward_tail(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb,
                         T* y, std::size_t ldy, std::size_t nc, const T* init, bool accumulate) noexcept {
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t j = 0; j < nc; ++j) {
      T s = accumulate ? y[r * ldy + j] : (init ? init[j] : T{});
      for (std::size_t k = 0; k < kb; ++k) s += x[r * ldx + k] * w[k * ldw + j];
      y[r * ldy + j] = s;
    }
}

template <std::size_t R, std::size_t N, class T>
inline void forward_rows(const T* x, std::size_t ldx, const T* w, std::size_t kb, std::size_t j0,
                         std::size_t nb, T* y, const T* bias, bool accumulate) noexcept {
  constexpr std::size_t L = simd<T>::width;
  std::size_t j = j0;
  const std::size_t end = j0 + nb;
  const T* init = bias;
  for (; j + 2 * L <= end; j += 2 * L)
    forward_tile<R, 2>(x, ldx, w + j, N, kb, y + j, N, init ? init + j : nullptr, accumulate);
  for (; j + L <= end; j += L)
    forward_tile<R, 1>(x, ldx, w + j, N, kb, y + j, N, init ? init + j : nullptr, accumulate);
  if (j < end) forward_tail<R>(x, ldx, w + j, N, kb, y + j, N, end - j, init ? init + j : nullptr, accumulate);
}

}  // namespace detail

/// Y[m×N] = X[m×K]·W[K×N] + bias[N] (bias may be null: no bias). Overwrites Y.
template <std::size_t K, std::size_t N, class T>
void gemm_forward(const T* x, std::size_t m, const T* w, const T* bias, T* y) noexcept {
  constexpr std::size_t L = simd<T>::width;
  constexpr std::size_t NC = std::min(N, std::max<std::size_t>(2 * L, 256 / (2 * L) * (2 * L)));
  constexpr std::size_t KC = std::max<std::size_t>(1, std::min(K, detail::panel_bytes<T> / sizeof(T) / NC));
  for (std::size_t jc = 0; jc < N; jc += NC) {
    const std::size_t nb = std::min(NC, N - jc);
    for (std::size_t kc = 0; kc < K; kc += KC) {
      const std::size_t kb = std::min(KC, K - kc);
      const bool acc = kc != 0;
      const T* wp = w + kc * N;
      std::size_t i = 0;
      for (; i + 4 <= m; i += 4)
        detail::forward_rows<4, N>(x + i * K + kc, K, wp, kb, jc, nb, y + i * N, bias, acc);
      for (; i < m; ++i)
        detail::forward_rows<1, N>(x + i * K + kc, K, wp, kb, jc, nb, y + i * N, bias, acc);
    }
  }
}

namespace detail {

// dW tile: R consecutive k × VN vectors of j, reduced over all m rows.
template <std::size_t R, std::size_t VN, std::size_t K, std::size_t N, class T>
inline void weight_tile(const T* x, const T* dz, std::size_t m, T* dw) noexcept {
  using V = simd_t<T>;
  constexpr std::size_t L = simd<T>::width;
  V acc[R][VN] = {};
  for (std::size_t i = 0; i < m; ++i) {
    V dv[VN];
    for (std::size_t v = 0; v < VN; ++v) dv[v] = load(dz + i * N + v * L);
    for (std::size_t r = 0; r < R; ++r) {
      const V xb = broadcast(x[i * K + r]);
      for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * dv[v];
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < VN; ++v) store(dw + r * N + v * L, acc[r][v]);
}

template <std::size_t R, std::size_t K, std::size_t N, class T>
inline void weight_tail(const T* x, const T* dz, std::size_t m, T* dw, std::size_t nc) noexcept {
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t j = 0; j < nc; ++j) {
      T s{};
      for (std::size_t i = 0; i < m; ++i) s += x[i * K + r] * dz[i * N + j];
      dw[r * N + j] = s;
    }
}

template <std::size_t R, std::size_t K, std::size_t N, class T>
inline void weight_rows(const T* x, const T* dz, std::size_t m, T* dw) noexcept {
  constexpr std::size_t L = simd<T>::width;
  std::size_t j = 0;
  for (; j + 2 * L <= N; j += 2 * L) weight_tile<R, 2, K, N>(x, dz + j, m, dw + j);
  for (; j + L <= N; j += L) weight_tile<R, 1, K, N>(x, dz + j, m, dw + j);
  if (j < N) weight_tail<R, K, N>(x, dz + j, m, dw + j, N - j);
}

}  // namespace detail

/// dW[K×N] = X[m×K]ᵀ·dZ[m×N] and db[N] = Σ_rows dZ (db may be null). Overwrites dW and db.
template <std::size_t K, std::size_t N, class T>
void gemm_weight(const T* x, const T* dz, std::size_t m, T* dw, T* db) noexcept {
  constexpr std::size_t K4 = K / 4 * 4;
  for (std::size_t k = 0; k < K4; k += 4) detail::weight_rows<4, K, N>(x + k, dz, m, dw + k * N);
  if constexpr (K4 != K)
    for (std::size_t k = K4; k < K; ++k) detail::weight_rows<1, K, N>(x + k, dz, m, dw + k * N);
  if (db != nullptr) {
    for (std::size_t j = 0; j < N; ++j) db[j] = T{};
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < N; ++j) db[j] += dz[i * N + j];
  }
}

namespace detail {

// dX tile: R rows × C inputs, each a dot product over the N units, vectorized over N.
template <std::size_t R, std::size_t C, std::size_t K, std::size_t N, class T>
inline void input_tile(const T* dz, const T* w, T* dx) noexcept {
  using V = simd_t<T>;
  constexpr std::size_t L = simd<T>::width;
  constexpr std::size_t NV = N / L * L;
  V acc[R][C] = {};
  for (std::size_t j = 0; j < NV; j += L) {
    V wv[C];
    for (std::size_t c = 0; c < C; ++c) wv[c] = load(w + c * N + j);
    for (std::size_t r = 0; r < R; ++r) {
      const V dv = load(dz + r * N + j);
      for (std::size_t c = 0; c < C; ++c) acc[r][c] += dv * wv[c];
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t c = 0; c < C; ++c) {
      T s = hsum<T>(acc[r][c]);
      for (std::size_t j = NV; j < N; ++j) s += dz[r * N + j] * w[c * N + j];
      dx[r * K + c] = s;
    }
}

template <std::size_t R, std::size_t K, std::size_t N, class T>
inline void input_rows(const T* dz, const T* w, T* dx, std::size_t k0, std::size_t kb) noexcept {
  std::size_t k = k0;
  for (; k + 2 <= k0 + kb; k += 2) input_tile<R, 2, K, N>(dz, w + k * N, dx + k);
  for (; k < k0 + kb; ++k) input_tile<R, 1, K, N>(dz, w + k * N, dx + k);
}

}  // namespace detail

/// dX[m×K] = dZ[m×N]·W[K×N]ᵀ. Overwrites dX.
template <std::size_t K, std::size_t N, class T>
void gemm_input(const T* dz, std::size_t m, const T* w, T* dx) noexcept {
  constexpr std::size_t KC = std::max<std::size_t>(2, std::min(K, detail::panel_bytes<T> / sizeof(T) / N));
  for (std::size_t kc = 0; kc < K; kc += KC) {
    const std::size_t kb = std::min(KC, K - kc);
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4) detail::input_rows<4, K, N>(dz + i * N, w, dx + i * K, kc, kb);
    for (; i < m; ++i) detail::input_rows<1, K, N>(dz + i * N, w, dx + i * K, kc, kb);
  }
}

}  // namespace frost::kernels
