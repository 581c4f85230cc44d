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
#include <frost/core/part.hpp>
#include <frost/kernels/gradient_sink.hpp>
#include <frost/kernels/register_row.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace frost::kernels {

using namespace frost::simd;  // vec_t, load, store, broadcast, simd_bytes

/// The forward epilogue that applies nothing: Y = X·W + b.
struct identity {
  template <class V>
  V operator()(V v) const noexcept {
    return v;
  }
};

/// The weight-gradient prologue that changes nothing: dZ is read as it is.
struct no_prologue {
  static constexpr bool reads_input = false;
  static constexpr bool reads_output = false;
  template <class V>
  V operator()(V g, V, V) const noexcept {
    return g;
  }
};

namespace detail {

// Panel sizes: a KC×NC block of W (≤ 256 KiB) is reused by every row of the batch.
inline constexpr std::size_t panel_bytes = 256 * 1024;

/// Covers columns [j, end) with chunks of vectors: `Widest` (2 or 4) full vectors at a time, then
/// two, then one, then
/// the rest (fewer lanes than a vector) as one partial vector of the narrowest width that holds
/// it, loaded and stored with masks. Calls `tile.template operator()<Bytes, Vectors, Partial>(j)`.
/// The whole-vector part alone: returns where it stopped (the start of the partial rest).
template <class T, std::size_t Widest = 2, class Tile>
inline std::size_t whole_column_chunks(std::size_t j, std::size_t end, Tile&& tile) {
  constexpr std::size_t L = simd_bytes / sizeof(T);
  if constexpr (Widest >= 4)
    for (; j + 4 * L <= end; j += 4 * L) tile.template operator()<simd_bytes, 4, false>(j);
  for (; j + 2 * L <= end; j += 2 * L) tile.template operator()<simd_bytes, 2, false>(j);
  if (j + L <= end) {
    tile.template operator()<simd_bytes, 1, false>(j);
    j += L;
  }
  return j;
}

/// The partial rest alone ([j, end) holds fewer lanes than a vector): one masked vector.
template <class T, class Tile>
inline void partial_column_chunk(std::size_t j, std::size_t end, Tile&& tile) {
  constexpr std::size_t L = simd_bytes / sizeof(T);
  const std::size_t rest = end - j;
  if (rest == 0) return;
  if constexpr (simd_bytes >= 64) {
    if (rest <= L / 4) return tile.template operator()<simd_bytes / 4, 1, true>(j);
  }
  if constexpr (simd_bytes >= 32) {
    if (rest <= L / 2) return tile.template operator()<simd_bytes / 2, 1, true>(j);
  }
  tile.template operator()<simd_bytes, 1, true>(j);
}

template <class T, class Tile>
inline void column_chunks(std::size_t j, std::size_t end, Tile&& tile) {
  partial_column_chunk<T>(whole_column_chunks<T>(j, end, tile), end, tile);
}

// Loads and stores vector v of a chunk; the last vector of a partial chunk holds n lanes.
template <class T, std::size_t B, bool Partial>
inline vec_t<T, B> load_lanes(const T* p, std::size_t n) noexcept {
  if constexpr (Partial) return load_n<T, B>(p, n);
  else return load<T, B>(p);
}
template <class T, std::size_t B, bool Partial>
inline void store_lanes(T* p, vec_t<T, B> v, std::size_t n) noexcept {
  if constexpr (Partial) store_n<T, B>(p, v, n);
  else store<T, B>(p, v);
}

}  // namespace detail

namespace detail {

// R rows × VN vectors of B bytes of Y = X(R×kb)·W(kb×cols), seeded from `prev` (the sums of
// earlier panels of K) or else from `init` (the bias) or else zero. The sums go to `raw` (unless
// null) and, on the last panel of K, `f(sums)` to `act` (unless null). n: lanes of a partial chunk.
// PaddedW: W's rows hold whole vectors (a zero-padded copy), so they load without masks even
// in a partial chunk; masked loads inside the loop would keep the compiler from holding the
// accumulators in registers.
template <std::size_t R, std::size_t B, std::size_t VN, bool Partial, class T, class F, bool PaddedW = false>
[[gnu::noinline]] void forward_tile(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb, T* raw, T* act,
                         std::size_t ldy, const T* init, const T* prev, std::size_t n, const F& f) noexcept {
  using V = vec_t<T, B>;
  constexpr std::size_t L = B / sizeof(T);
  V acc[R][VN];
  if constexpr (R == 1 && VN < 8) {
    // One row (a batch of one, or the rows after the last whole tile): VN chains of kb FMAs
    // would wait on the FMA's latency. Instead S = 8 / VN sets of accumulators take every S-th
    // k, and are summed pairwise at the end: 8 independent chains, as a tile of 8 rows has.
    // Accumulator i = s·VN + v holds set s of vector v. The folds below index the accumulators
    // with constants only, so they live in registers even where the loads are masked (loops
    // over them, unrolled too late, left them in memory).
    constexpr std::size_t S = 8 / VN;
    [&]<std::size_t... i>(std::index_sequence<i...>) {
      auto w_at = [&](std::size_t k, std::size_t v) {
        return load_lanes<T, B, Partial && !PaddedW>(w + k * ldw + v * L, n);
      };
      auto seed = [&](std::size_t v) {
        return prev ? load_lanes<T, B, Partial>(prev + v * L, n) : (init ? load_lanes<T, B, Partial>(init + v * L, n) : V{});
      };
      V sum[S * VN] = {(i < VN ? seed(i) : V{})...};
      std::size_t k = 0;
      // x a native vector at a time, each value broadcast from it by a shuffle: a load of x per
      // value would take a load slot from W's (one-row products are bound by loads).
      constexpr std::size_t C = simd_bytes / sizeof(T);
      if constexpr (C % S == 0 && C >= S)
        for (; k + C <= kb; k += C) {
          const native_t<T> xc = load<T, simd_bytes>(x + k);
          auto block = [&]<std::size_t c>() __attribute__((always_inline)) {
            ((sum[i] += lane_of<c * S + i / VN, B>(xc) * w_at(k + c * S + i / VN, i % VN)), ...);
          };
          [&]<std::size_t... c>(std::index_sequence<c...>) __attribute__((always_inline)) {
            (block.template operator()<c>(), ...);
          }(std::make_index_sequence<C / S>{});
        }
      for (; k + S <= kb; k += S) ((sum[i] += broadcast<T, B>(x[k + i / VN]) * w_at(k + i / VN, i % VN)), ...);
      // The last kb mod S values of k.
      ((k + i / VN < kb ? void(sum[i] += broadcast<T, B>(x[k + i / VN]) * w_at(k + i / VN, i % VN)) : void()), ...);
      add_sets<S, VN>(sum);
      ((i < VN ? void(acc[0][i % VN] = sum[i]) : void()), ...);
    }(std::make_index_sequence<S * VN>{});
  } else {
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < VN; ++v)
      acc[r][v] = prev ? load_lanes<T, B, Partial>(prev + r * ldy + v * L, n)
                             : (init ? load_lanes<T, B, Partial>(init + v * L, n) : V{});
  for (std::size_t k = 0; k < kb; ++k) {
    V wv[VN];
    for (std::size_t v = 0; v < VN; ++v) wv[v] = load_lanes<T, B, Partial && !PaddedW>(w + k * ldw + v * L, n);
    for (std::size_t r = 0; r < R; ++r) {
      const V xb = broadcast<T, B>(x[r * ldx + k]);
      for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * wv[v];
    }
  }
  }
  if (raw != nullptr)
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) store_lanes<T, B, Partial>(raw + r * ldy + v * L, acc[r][v], n);
  if (act != nullptr)
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) {
        // An epilogue over whole rows (softmax) sees each row's one vector and its lanes.
        if constexpr (requires { F::whole_row; })
          store_lanes<T, B, Partial>(act + r * ldy + v * L, f(acc[r][v], Partial ? n : L), n);
        else
          store_lanes<T, B, Partial>(act + r * ldy + v * L, f(acc[r][v]), n);
      }
}

// R rows of columns [j0, j0 + nb) of X(R×kb)·W(kb×·) (with WithPartial false: whole vectors only,
// the caller handles the rest): see forward_tile. W, Y: leading dimensions ldw, ldy.
template <std::size_t R, bool WithPartial, class T, class F>
inline void tile_rows(const T* x, std::size_t ldx, const T* w, std::size_t ldw, std::size_t kb, std::size_t j0,
                      std::size_t nb, T* raw, T* act, std::size_t ldy, const T* bias, const T* prev,
                      const F& f) noexcept {
  const std::size_t end = j0 + nb;
  auto tile = [&]<std::size_t B, std::size_t VN, bool Partial>(std::size_t j) {
    forward_tile<R, B, VN, Partial>(x, ldx, w + j, ldw, kb, raw ? raw + j : nullptr, act ? act + j : nullptr, ldy,
                                    bias ? bias + j : nullptr, prev ? prev + j : nullptr, end - j, f);
  };
  // One row reads each row of W in one pass, four vectors at a time where they fit.
  constexpr std::size_t widest = R == 1 ? 4 : 2;
  if constexpr (WithPartial) partial_column_chunk<T>(whole_column_chunks<T, widest>(j0, end, tile), end, tile);
  else whole_column_chunks<T, widest>(j0, end, tile);
}

// Runs `rows.template operator()<R>(i)` over [0, m) in tiles of R rows: 8 where there are 32
// vector registers (AVX-512: 8 rows × 2 vectors = 16 accumulators, 2 loads and 8 broadcasts per
// 16 FMAs), else 4; then single rows. (One tile height per target keeps the number of kernel
// instantiations, and so compile time, down; batches are mostly multiples of 8.)
inline constexpr std::size_t row_tile = simd_bytes == 64 ? 8 : 4;
template <class Rows>
inline void for_row_tiles(std::size_t m, Rows&& rows) {
  std::size_t i = 0;
  for (; i + row_tile <= m; i += row_tile) rows.template operator()<row_tile>(i);
  for (; i < m; ++i) rows.template operator()<1>(i);
}

// A small layer (kernels::small_layer) runs its lone rows as one unrolled, inlined sequence
// (kernels::dense_row): no tile dispatch and no call. This is how a real-time model
// (1 → 8 → 8 → 1, 4 → 16 → 16 → 4) runs at batch 1, where a general kernel's bookkeeping costs
// more than the arithmetic.
template <class T, std::size_t K, std::size_t N>
inline constexpr bool small_forward = small_layer<T, K, N>::fits;

// One row of Y = f(X·W + bias) for a small layer; z, when not null, gets the sums.
template <std::size_t K, std::size_t N, class T, class F>
inline void small_row(const T* x, const T* w, const T* bias, T* y, T* z, const F& f) noexcept {
  const register_row<T, N> sums = dense_row<K, N>(x, w, bias);
  if (z != nullptr) store_row<N>(z, sums);
  store_row<N>(y, apply_row<N>(sums, f));
}

// Does the forward product copy strips of W to contiguous blocks? Where W's rows are 2 KiB or
// more apart (measured on AVX-512, K = N = 1024, batch 256: 86 -> 95 GFLOP/s).
template <class T, std::size_t N>
inline constexpr bool pack_forward = N * sizeof(T) >= 2048;

}  // namespace detail

/// Y[m×N] = f(X[m×K]·W[K×N] + bias[N]) by register tiles, with f applied to each register tile before it is
/// stored (the epilogue; `identity` by default). bias may be null (no bias). When `z` is not
/// null it receives the sums before f (the pre-activation a backward may need). Overwrites Y.
/// With `share`, only that share of the columns (shares may run at once).
template <std::size_t K, std::size_t N, class T, class F = identity>
void gemm_forward_tiles(const T* x, std::size_t m, const T* w, const T* bias, T* y, T* z = nullptr, const F& f = {},
                        part share = part::whole()) noexcept {
  constexpr std::size_t L = native<T>::width;
  static_assert(!requires { F::whole_row; } || N <= L,
                "frost::kernels::gemm_forward: an epilogue over whole rows needs rows of at most one vector");
  constexpr std::size_t NC = std::min(N, std::max<std::size_t>(2 * L, 256 / (2 * L) * (2 * L)));
  constexpr std::size_t KC = std::max<std::size_t>(1, std::min(K, detail::panel_bytes / sizeof(T) / NC));
  // `share` computes its share of the columns: whole pairs of vectors, the partial one last.
  const index_range cols = share.of(N, 2 * L);
  // Partial sums of earlier panels of K wait in z (if kept) or in y.
  T* partial = z != nullptr ? z : y;
  alignas(64) T packed[KC * 2 * L];
  for (std::size_t jc = cols.begin; jc < cols.end; jc += NC) {
    const std::size_t nb = std::min(NC, cols.end - jc);
    for (std::size_t kc = 0; kc < K; kc += KC) {
      const std::size_t kb = std::min(KC, K - kc);
      const bool first = kc == 0;
      const bool last = kc + kb == K;
      T* raw = last ? z : partial;
      const T* wp = w + kc * N;
      // A column strip of the panel copied to a contiguous, zero-padded block, then every row
      // tile of X streams through it with unmasked loads of W.
      auto strip = [&]<std::size_t B, std::size_t VN, bool Partial>(std::size_t j) {
        constexpr std::size_t width = VN * (B / sizeof(T));
        const std::size_t n = std::min(width, jc + nb - j);
        if (m < detail::row_tile) {
          // Fewer rows than one tile (a batch of one): the copy would cost more than the masked
          // loads it saves.
          detail::for_row_tiles(m, [&]<std::size_t R>(std::size_t i) {
            detail::forward_tile<R, B, VN, Partial, T, F>(
                x + i * K + kc, K, wp + j, N, kb, raw ? raw + i * N + j : nullptr, last ? y + i * N + j : nullptr, N,
                bias ? bias + j : nullptr, first ? nullptr : partial + i * N + j, jc + nb - j, f);
          });
          return;
        }
        for (std::size_t k = 0; k < kb; ++k)
          for (std::size_t c = 0; c < width; ++c) packed[k * width + c] = c < n ? wp[k * N + j + c] : T{};
        auto rows = [&]<std::size_t R>(std::size_t i) {
          detail::forward_tile<R, B, VN, Partial, T, F, true>(
              x + i * K + kc, K, packed, width, kb, raw ? raw + i * N + j : nullptr, last ? y + i * N + j : nullptr, N,
              bias ? bias + j : nullptr, first ? nullptr : partial + i * N + j, jc + nb - j, f);
        };
        detail::for_row_tiles(m, rows);
      };
      if constexpr (detail::pack_forward<T, N>) {
        // Wide W: rows of W lie N·sizeof(T) bytes apart, which maps them onto few cache sets:
        // every strip is copied.
        detail::column_chunks<T>(jc, jc + nb, strip);
      } else {
        // Whole vectors straight from W; only a partial last vector goes through a copy.
        const std::size_t whole = jc + nb / L * L;
        if (whole > jc) {
          auto rows = [&]<std::size_t R>(std::size_t i) {
            detail::tile_rows<R, false>(x + i * K + kc, K, wp, N, kb, jc, whole - jc, raw ? raw + i * N : nullptr,
                                 last ? y + i * N : nullptr, N, bias, first ? nullptr : partial + i * N, f);
          };
          detail::for_row_tiles(m, rows);
        }
        if (whole < jc + nb) detail::partial_column_chunk<T>(whole, jc + nb, strip);
      }
    }
  }
}

/// Y[m×N] = f(X[m×K]·W[K×N] + bias[N]), as gemm_forward_tiles computes it, except that for a
/// small layer (kernels::small_layer) the rows outside whole row tiles, all of them at batch 1,
/// run here as single small rows, inlined into the caller: at batch 1 a small model then runs
/// without a call per layer into the tile machinery.
template <std::size_t K, std::size_t N, class T, class F = identity>
inline void gemm_forward(const T* x, std::size_t m, const T* w, const T* bias, T* y, T* z = nullptr, const F& f = {},
                         part share = part::whole()) noexcept {
  if constexpr (detail::small_forward<T, K, N>) {
    if (m == 1) {
      // A batch of one apart: straight-line code, with the epilogue's constants read where they are
      // used instead of set up in registers ahead of a loop that runs once.
      detail::small_row<K, N>(x, w, bias, y, z, f);
      return;
    }
    if (share.count == 1) {
      const std::size_t tiles = m / detail::row_tile * detail::row_tile;
      for (std::size_t i = tiles; i < m; ++i)
        detail::small_row<K, N>(x + i * K, w, bias, y + i * N, z != nullptr ? z + i * N : nullptr, f);
      if (tiles != 0) gemm_forward_tiles<K, N>(x, tiles, w, bias, y, z, f, share);
      return;
    }
  }
  gemm_forward_tiles<K, N>(x, m, w, bias, y, z, f, share);
}

/// Y = f(scale·(X·W + bias) + shift), scale and shift per column: the product of a layer whose
/// output goes through a per-channel affine (an inference-mode batch normalization) and then f,
/// as one product over W·scale and bias·scale + shift, folded into a copy on the stack (at most
/// `max_folded` scalars). Overwrites Y.
inline constexpr std::size_t max_folded = 65536;
template <std::size_t K, std::size_t N, class T, class F>
void gemm_forward_affine(const T* x, std::size_t m, const T* w, const T* bias, const T* scale, const T* shift, T* y,
                         const F& f, part share = part::whole()) noexcept {
  static_assert(K * N + N <= max_folded, "frost::kernels::gemm_forward_affine: the folded weights must fit the stack");
  alignas(64) T folded[K * N + N];
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t j = 0; j < N; ++j) folded[k * N + j] = w[k * N + j] * scale[j];
  for (std::size_t j = 0; j < N; ++j) folded[K * N + j] = (bias != nullptr ? bias[j] : T{}) * scale[j] + shift[j];
  gemm_forward<K, N>(x, m, folded, folded + K * N, y, static_cast<T*>(nullptr), f, share);
}

namespace detail {

// One vector of dZ = p(G, z, y) at offset `at`, loaded from G (and z, y where p reads them) and
// stored back into G: the weight-gradient prologue.
template <std::size_t B, bool Partial, class T, class P>
inline vec_t<T, B> apply_prologue(T* g, const T* y, const T* z, std::size_t at, std::size_t n, const P& p) noexcept {
  using V = vec_t<T, B>;
  V zv{}, yv{};
  if constexpr (P::reads_input) zv = load_lanes<T, B, Partial>(z + at, n);
  if constexpr (P::reads_output) yv = load_lanes<T, B, Partial>(y + at, n);
  const V dz = p(load_lanes<T, B, Partial>(g + at, n), zv, yv);
  store_lanes<T, B, Partial>(g + at, dz, n);
  return dz;
}

// dW tile: R consecutive k × VN vectors of B bytes of j, reduced over all m rows. The first
// tile of K (First) also turns dL/dy into dZ = p(dL/dy, z, y) in place (the prologue p, the
// activation's derivative) and reduces db.
// PaddedG: rows of G hold whole vectors (a zero-padded copy): unmasked loads, as in forward_tile.
// `sink` takes the finished sums; with `last` false more rows follow (a product blocked over
// rows), and the partial sums are stored at dw for the next block to continue from.
template <std::size_t R, std::size_t B, std::size_t VN, bool Partial, bool First, std::size_t K, std::size_t N,
          class T, class P, bool PaddedG = false, class S = store_gradient>
inline void weight_tile(const T* x, T* g, const T* y, const T* z, std::size_t m, T* dw, std::size_t ldw, T* db,
                        std::size_t n, const P& p, bool accumulate = false, const S& sink = {},
                        bool last = true) noexcept {
  using V = vec_t<T, B>;
  constexpr std::size_t L = B / sizeof(T);
  constexpr bool prologue = First && !std::is_same_v<P, no_prologue>;
  // The sink may fetch what it will touch while the reduction runs (a fused update: W and its
  // optimizer state, rows ldw apart).
  if (last) sink.template prepare<R, VN * B>(dw, ldw);
  // Seeded vector by vector: `= {}` on the array (whose address the sink takes) becomes a call
  // to memset, which costs more than a whole tile at a batch of one.
  V acc[R][VN];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < VN; ++v) acc[r][v] = accumulate ? load_lanes<T, B, Partial>(dw + r * ldw + v * L, n) : V{};
  V dbacc[VN] = {};
  for (std::size_t i = 0; i < m; ++i) {
    V dv[VN];
    for (std::size_t v = 0; v < VN; ++v) {
      const std::size_t at = i * N + v * L;
      if constexpr (prologue) dv[v] = apply_prologue<B, Partial>(g, y, z, at, n, p);
      else dv[v] = load_lanes<T, B, Partial && !PaddedG>(g + at, n);
      if constexpr (First) dbacc[v] += dv[v];
    }
    for (std::size_t r = 0; r < R; ++r) {
      const V xb = broadcast<T, B>(x[i * K + r]);
      for (std::size_t v = 0; v < VN; ++v) acc[r][v] += xb * dv[v];
    }
  }
  if (last) {
    sink.template put_tile<R, VN, B, Partial>(dw, ldw, acc, n);
  } else {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) store_lanes<T, B, Partial>(dw + r * ldw + v * L, acc[r][v], n);
  }
  if constexpr (First)
    if (db != nullptr)
      for (std::size_t v = 0; v < VN; ++v) sink.template put<B, Partial>(db + v * L, dbacc[v], n);
}

template <std::size_t R, bool First, std::size_t K, std::size_t N, class T, class P, class S>
inline void weight_rows(const T* x, T* g, const T* y, const T* z, std::size_t m, T* dw, T* db, const P& p,
                        std::size_t j0, std::size_t j1, const S& sink) noexcept {
  whole_column_chunks<T>(j0, j1, [&]<std::size_t B, std::size_t VN, bool Partial>(std::size_t j) {
    weight_tile<R, B, VN, Partial, First, K, N, T, P, false, S>(x, g + j, y ? y + j : nullptr, z ? z + j : nullptr, m,
                                                                dw + j, N, db ? db + j : nullptr, j1 - j, p, false,
                                                                sink);
  });
}

// Does the weight-gradient product copy strips of dZ to contiguous blocks? Where dZ's rows are
// 2 KiB or more apart, as for the forward product (K = N = 1024, batch 256: 90 -> 97 GFLOP/s).
template <class T>
constexpr bool pack_weight_units(std::size_t n) noexcept {
  return n * sizeof(T) >= 2048;
}
template <class T, std::size_t N>
inline constexpr bool pack_weight = pack_weight_units<T>(N);
}  // namespace detail

/// Rows of the batch a blocked weight-gradient product reduces at a time. A reduction over
/// more rows than this (a convolution's positions, or a dense layer above batch 256) may keep
/// partial sums in dW between blocks: a fused update then needs a place for them.
inline constexpr std::size_t weight_block_rows = 256;

namespace detail {
// Rows beyond which a weight-gradient product is blocked over rows whatever its width.
inline constexpr std::size_t long_reduction = 1024;

// dW and db over columns [j0, j1), block of rows by block of rows (up to 256): each strip of dZ
// in the block is copied to a contiguous block as the prologue computes it, and every tile of K
// streams through it while the block's rows of X stay in cache for the next strip.
// OnlyPartial: [j0, j1) is one partial vector's columns (the rest of an unpacked product).
// [k0, k1): the rows of dW to compute (all by default; a share of them, cut at multiples of the
// tile height, for a split by rows of dW).
// Blocks after the first continue from the partial sums the one before stored in dW and db; the
// last block's sums go to `sink`.
template <std::size_t K, std::size_t N, bool OnlyPartial, class T, class P, class S>
inline void weight_packed(const T* x, T* g, std::size_t m, T* dw, T* db, const P& p, const T* y, const T* z,
                          std::size_t j0, std::size_t j1, const S& sink, std::size_t k0 = 0,
                          std::size_t k1 = K) noexcept {
  alignas(64) T packed[weight_block_rows * 2 * native<T>::width];
  for (std::size_t i0 = 0; i0 < m; i0 += weight_block_rows) {
    const std::size_t mb = std::min(weight_block_rows, m - i0);
    const bool acc = i0 != 0, last = i0 + mb == m;
    auto strip = [&]<std::size_t B, std::size_t VN, bool Partial>(std::size_t j) {
      using V = vec_t<T, B>;
      constexpr std::size_t L = B / sizeof(T), width = VN * L;
      constexpr bool prologue = !std::is_same_v<P, no_prologue>;
      const std::size_t n = j1 - j;
      V dbacc[VN] = {};
      for (std::size_t i = 0; i < mb; ++i)
        for (std::size_t v = 0; v < VN; ++v) {
          const std::size_t at = (i0 + i) * N + j + v * L;
          V dv;
          if constexpr (prologue) dv = apply_prologue<B, Partial>(g, y, z, at, n, p);
          else dv = load_lanes<T, B, Partial>(g + at, n);
          store<T, B>(packed + i * width + v * L, dv);
          dbacc[v] += dv;
        }
      auto tile = [&]<std::size_t R>(std::size_t k) {
        weight_tile<R, B, VN, Partial, false, K, width, T, no_prologue, true, S>(
            x + i0 * K + k, packed, static_cast<const T*>(nullptr), static_cast<const T*>(nullptr), mb, dw + k * N + j,
            N, static_cast<T*>(nullptr), n, no_prologue{}, acc, sink, last);
      };
      // k0 is a multiple of R (shares of K are cut at multiples of R); only the end of K has a rest.
      constexpr std::size_t R = simd_bytes == 64 ? 8 : 4;
      for (std::size_t k = k0; k + R <= k1; k += R) tile.template operator()<R>(k);
      if constexpr (K % R != 0)
        if (k1 == K)
          for (std::size_t k = K / R * R; k < K; ++k) tile.template operator()<1>(k);
      if (db != nullptr)
        for (std::size_t v = 0; v < VN; ++v) {
          const V sum = acc ? load_lanes<T, B, Partial>(db + j + v * L, n) + dbacc[v] : dbacc[v];
          if (last) sink.template put<B, Partial>(db + j + v * L, sum, n);
          else store_lanes<T, B, Partial>(db + j + v * L, sum, n);
        }
    };
    if constexpr (OnlyPartial) partial_column_chunk<T>(j0, j1, strip);
    else column_chunks<T>(j0, j1, strip);
  }
}

/// Columns of dW a share of the weight-gradient product covers: whole pairs of vectors, so that
/// only the last share has a partial vector.
template <class T>
inline constexpr std::size_t weight_column_grain = 2 * native<T>::width;

}  // namespace detail

namespace detail {
// The unpacked weight-gradient product over whole vectors of columns [j0, end).
template <std::size_t K, std::size_t N, class T, class P, class S>
void weight_whole(const T* x, T* g, std::size_t m, T* dw, T* db, const P& p, const T* y, const T* z,
                  std::size_t j0, std::size_t end, const S& sink) noexcept {
  // 8 inputs × 2 vectors (16 accumulators) where there are 32 vector registers, else 4 × 2.
  constexpr std::size_t R0 = simd_bytes == 64 && K >= 8 ? 8 : K >= 4 ? 4 : 1;
  weight_rows<R0, true, K, N>(x, g, y, z, m, dw, db, p, j0, end, sink);
  // Then tiles of R0 inputs, and what is left in a 4-input tile and single inputs.
  constexpr std::size_t KR = R0 == 1 ? R0 : R0 + (K - R0) / R0 * R0;
  for (std::size_t k = R0; k < KR; k += R0) weight_rows<R0, false, K, N>(x + k, g, y, z, m, dw + k * N, db, p, j0, end, sink);
  // A rest of 4 or more inputs as one 4-input tile (each single input is a whole pass over dZ).
  constexpr std::size_t K4 = R0 == 8 && K - KR >= 4 ? KR + 4 : KR;
  if constexpr (K4 != KR) weight_rows<4, false, K, N>(x + KR, g, y, z, m, dw + KR * N, db, p, j0, end, sink);
  if constexpr (K4 != K)
    for (std::size_t k = K4; k < K; ++k) weight_rows<1, false, K, N>(x + k, g, y, z, m, dw + k * N, db, p, j0, end, sink);
}
}  // namespace detail

/// dW[K×N] = X[m×K]ᵀ·dZ[m×N] and db[N] = Σ_rows dZ (db may be null), where dZ = p(G, Z, Y)
/// lane by lane: the prologue `p` (an activation's derivative, reading z only if
/// `P::reads_input` and y only if `P::reads_output`) turns the gradient G = dL/dy into dZ in
/// place while the first tile of K loads it, and db is reduced in that same pass. Overwrites dW
/// and db. `part` computes only its share of the columns (each share reads and writes only its
/// own columns of G, dW and db, so shares may run at once). `sink` takes each finished vector
/// (by default, stores it); dW and db then hold only partial sums of reductions over more than
/// `weight_block_rows` rows, or nothing.
template <std::size_t K, std::size_t N, class T, class P, class S = store_gradient>
void gemm_weight(const T* x, T* g, std::size_t m, T* dw, T* db, const P& p, const T* y, const T* z,
                 part share = part::whole(), const S& sink = {}) noexcept {
  const index_range cols = share.of(N, detail::weight_column_grain<T>);
  if (cols.empty()) return;
  const std::size_t j0 = cols.begin, j1 = cols.end;
  constexpr std::size_t L = native<T>::width;
  // Long reductions (a convolution's patches: rows × positions) go through strips of dZ too, so
  // that each strip stays in cache while every tile of K reads it, instead of streaming the whole
  // of dZ once per tile (conv 288 → 64 over 7,744 rows: 31 → 90 GFLOP/s).
  if (detail::pack_weight<T, N> || m >= detail::long_reduction) {
    detail::weight_packed<K, N, false>(x, g, m, dw, db, p, y, z, j0, j1, sink);
  } else {
    // A partial last vector goes through a zero-padded copy of its strip of dZ (see weight_tile).
    const std::size_t whole = j0 + (j1 - j0) / L * L;
    if (whole < j1) detail::weight_packed<K, N, true>(x, g, m, dw, db, p, y, z, whole, j1, sink);
    if (whole != j0) detail::weight_whole<K, N>(x, g, m, dw, db, p, y, z, j0, whole, sink);
  }
}


/// dW = Xᵀ·dZ for `share` of the rows of dW (the inputs K), all columns, blocked over the m rows;
/// share 0 also writes db = Σ_rows dZ (db may be null). Each share reads only its columns of X,
/// so shares split the traffic of a long X (a convolution's patches) instead of each reading all
/// of it, as a split by columns would. Overwrites its rows of dW.
template <std::size_t K, std::size_t N, class T, class S = store_gradient>
void gemm_weight_rows(const T* x, const T* dz, std::size_t m, T* dw, T* db, part share, const S& sink = {}) noexcept {
  const index_range ks = share.of(K, simd_bytes == 64 ? 8 : 4);
  if (ks.empty()) return;
  detail::weight_packed<K, N, false>(x, const_cast<T*>(dz), m, dw, share.index == 0 ? db : nullptr, no_prologue{},
                                     static_cast<const T*>(nullptr), static_cast<const T*>(nullptr), 0, N, sink,
                                     ks.begin, ks.end);
}

/// dW[K×N] = X[m×K]ᵀ·dZ[m×N] and db[N] = Σ_rows dZ (db may be null). Overwrites dW and db.
template <std::size_t K, std::size_t N, class T, class S = store_gradient>
void gemm_weight(const T* x, const T* dz, std::size_t m, T* dw, T* db, part share = part::whole(),
                 const S& sink = {}) noexcept {
  // no_prologue never writes through g.
  gemm_weight<K, N>(x, const_cast<T*>(dz), m, dw, db, no_prologue{}, static_cast<const T*>(nullptr),
                    static_cast<const T*>(nullptr), share, sink);
}

namespace detail {

// dst[c][r] = src[r][c] for a rows × cols block (leading dimensions lds, ldd). Floats with AVX
// or wider go through 8 × 8 blocks in registers (24 shuffles); the edges and other types copy
// one value at a time.
template <class T>
inline void transpose(const T* src, std::size_t lds, std::size_t rows, std::size_t cols, T* dst,
                      std::size_t ldd) noexcept {
  std::size_t r0 = 0, c0 = 0;
  if constexpr (std::is_same_v<T, float> && simd_bytes >= 32) {
    using V = vec_t<float, 32>;
    for (; r0 + 8 <= rows; r0 += 8) {
      for (c0 = 0; c0 + 8 <= cols; c0 += 8) {
        V r[8];
        for (std::size_t a = 0; a < 8; ++a) r[a] = load<float, 32>(src + (r0 + a) * lds + c0);
        V t[8], u[8];
        for (std::size_t a = 0; a < 8; a += 2) {
          t[a] = __builtin_shufflevector(r[a], r[a + 1], 0, 8, 1, 9, 4, 12, 5, 13);
          t[a + 1] = __builtin_shufflevector(r[a], r[a + 1], 2, 10, 3, 11, 6, 14, 7, 15);
        }
        for (std::size_t a = 0; a < 8; a += 4)
          for (std::size_t h = 0; h < 2; ++h) {
            u[a + 2 * h] = __builtin_shufflevector(t[a + h], t[a + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[a + 2 * h + 1] = __builtin_shufflevector(t[a + h], t[a + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
          }
        for (std::size_t c = 0; c < 4; ++c) {
          store<float, 32>(dst + (c0 + c) * ldd + r0, __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11));
          store<float, 32>(dst + (c0 + c + 4) * ldd + r0,
                           __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15));
        }
      }
      for (std::size_t a = r0; a < r0 + 8; ++a)
        for (std::size_t c = c0; c < cols; ++c) dst[c * ldd + a] = src[a * lds + c];
    }
  }
  for (std::size_t a = r0; a < rows; ++a)
    for (std::size_t c = 0; c < cols; ++c) dst[c * ldd + a] = src[a * lds + c];
}

}  // namespace detail

/// dX[m×K] = dZ[m×N]·W[K×N]ᵀ, or dX += dZ·Wᵀ with `accumulate` (a node read by several
/// consumers gathers their gradients without a separate pass). Wᵀ is packed block by block (at most 128 × 64
/// scalars, on the stack) so that the product runs on the same broadcast-and-FMA tiles as the
/// forward product, instead of as dot products that end in horizontal sums.
template <std::size_t K, std::size_t N, class T>
void gemm_input(const T* dz, std::size_t m, const T* w, T* dx, bool accumulate = false) noexcept {
  constexpr std::size_t KB = std::min<std::size_t>(K, 64);   // columns of dX per block
  constexpr std::size_t NB = std::min<std::size_t>(N, 128);  // units reduced per block
  alignas(64) T packed[NB * KB];
  for (std::size_t kc = 0; kc < K; kc += KB) {
    const std::size_t kb = std::min(KB, K - kc);
    for (std::size_t nc = 0; nc < N; nc += NB) {
      const std::size_t nb = std::min(NB, N - nc);
      detail::transpose(w + kc * N + nc, N, kb, nb, packed, kb);  // packed[j][k] = W[kc + k][nc + j]
      const T* no_bias = nullptr;
      auto rows = [&]<std::size_t R>(std::size_t i) {
        T* out = dx + i * K + kc;
        detail::tile_rows<R, true>(dz + i * N + nc, N, packed, kb, nb, 0, kb, out, static_cast<T*>(nullptr), K, no_bias,
                             accumulate || nc != 0 ? out : nullptr, identity{});
      };
      detail::for_row_tiles(m, rows);
    }
  }
}

}  // namespace frost::kernels
