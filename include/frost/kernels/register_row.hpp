#pragma once
/// \file
/// One row of a small dense layer in vector registers: `register_row<T, N>` holds N values as
/// the narrowest vectors that fit them, and `dense_row` computes f(x·W + b) for one row from a
/// row in memory or from the previous layer's register row, every k unrolled at compile time.
/// This is how a chain of small layers (1 → 8 → 8 → 1, 4 → 16 → 16 → 4) runs at batch 1: the
/// values between layers never go through memory, and a lane of the input is broadcast from
/// its register instead of loaded after a store.

#include <frost/core/simd.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace frost::kernels {

/// The vectors of a row of N values of T: `B` bytes each (the narrowest vector that holds the
/// row, up to the widest the target has), `L` lanes, `VN` of them, the last with `tail` lanes.
template <class T, std::size_t N>
struct row_shape {
  static constexpr std::size_t row_bytes = N * sizeof(T);
  static constexpr std::size_t B =
      std::min<std::size_t>(simd::simd_bytes, row_bytes <= 16 ? 16 : row_bytes <= 32 ? 32 : 64);
  static constexpr std::size_t L = B / sizeof(T);
  static constexpr std::size_t VN = (N + L - 1) / L;
  static constexpr std::size_t tail = N - (VN - 1) * L;
  using vector = simd::vec_t<T, B>;
};

/// N values of one row in `row_shape<T, N>::VN` vectors (lanes past N are unspecified).
template <class T, std::size_t N>
struct register_row {
  typename row_shape<T, N>::vector v[row_shape<T, N>::VN];
};

/// A small layer's shape as `dense_row` runs it: K products of VN vectors, in S independent sets
/// of accumulators (every S-th k to one set; 8 chains of FMAs in all where K allows, S a power
/// of two so that the sets add up pairwise). `fits`: at most 4 vectors a row and 128 vector
/// FMAs in all, the size where straight-line code beats the tiled kernels.
template <class T, std::size_t K, std::size_t N>
struct small_layer : row_shape<T, N> {
  using row_shape<T, N>::VN;
  static constexpr std::size_t S = [] {
    std::size_t s = 1;
    while (2 * s * VN <= 8 && 2 * s <= K) s *= 2;
    return s;
  }();
  static constexpr bool fits = VN <= 4 && K * VN <= 128;
};

namespace detail {

// Adds S sets of VN accumulators (S a power of two, at most 8) pairwise into the first set:
// sum[v] += sum[v + 4·VN], then + 2·VN, then + VN. Constant indices only, so that, inlined, the
// accumulators stay in registers.
template <std::size_t S, std::size_t VN, class V>
[[gnu::always_inline]] inline void add_sets(V* sum) noexcept {
  auto add_half = [&]<std::size_t H>() __attribute__((always_inline)) {
    [&]<std::size_t... j>(std::index_sequence<j...>) __attribute__((always_inline)) {
      ((sum[j] += sum[j + H * VN]), ...);
    }(std::make_index_sequence<H * VN>{});
  };
  if constexpr (S >= 8) add_half.template operator()<4>();
  if constexpr (S >= 4) add_half.template operator()<2>();
  if constexpr (S >= 2) add_half.template operator()<1>();
}

// Vector v of a row at p: whole, or its first `tail` lanes for the last one of a partial row.
template <class T, std::size_t N, std::size_t v>
[[gnu::always_inline]] inline typename row_shape<T, N>::vector load_row_vector(const T* p) noexcept {
  using shape = row_shape<T, N>;
  if constexpr (v + 1 == shape::VN && shape::tail != shape::L) return simd::load_n<T, shape::B>(p + v * shape::L, shape::tail);
  else return simd::load<T, shape::B>(p + v * shape::L);
}

// Lane i of a vector, in every lane of a B-byte vector (a shuffle, no memory).
template <std::size_t i, std::size_t B, class V>
[[gnu::always_inline]] inline simd::vec_t<simd::element_t<V>, B> lane_of(V v) noexcept {
  return [&]<std::size_t... l>(std::index_sequence<l...>)
             __attribute__((always_inline)) -> simd::vec_t<simd::element_t<V>, B> {
    return __builtin_shufflevector(v, v, ((void)l, static_cast<int>(i))...);
  }(std::make_index_sequence<B / sizeof(simd::element_t<V>)>{});
}

// Lane k of a register row, in every lane of a B-byte vector.
template <std::size_t k, std::size_t B, class T, std::size_t K>
[[gnu::always_inline]] inline simd::vec_t<T, B> lane(const register_row<T, K>& x) noexcept {
  using shape = row_shape<T, K>;
  return lane_of<k % shape::L, B>(x.v[k / shape::L]);
}

// Does dense_row take a one-unit layer as dot products (below)? When its S sets fill a vector
// that the target has (4 floats or 2 doubles at least) and divide K.
template <class T, std::size_t K, std::size_t N>
inline constexpr bool dot_form = N == 1 && small_layer<T, K, N>::S * sizeof(T) >= 16 &&
                                 small_layer<T, K, N>::S * sizeof(T) <= simd::simd_bytes &&
                                 K % small_layer<T, K, N>::S == 0;

// Values [first, first + S) of a row, as one vector: loaded from memory, or lanes of a register
// row (whose vectors hold a whole number of such chunks).
template <std::size_t first, std::size_t S, class T>
[[gnu::always_inline]] inline simd::vec_t<T, S * sizeof(T)> chunk(const T* x) noexcept {
  return simd::load<T, S * sizeof(T)>(x + first);
}
template <std::size_t first, std::size_t S, class T, std::size_t K>
[[gnu::always_inline]] inline simd::vec_t<T, S * sizeof(T)> chunk(const register_row<T, K>& x) noexcept {
  using shape = row_shape<T, K>;
  static_assert(shape::L % S == 0, "frost::kernels::dense_row: a chunk lies within one vector");
  const auto& v = x.v[first / shape::L];
  constexpr int at = static_cast<int>(first % shape::L);
  if constexpr (S == shape::L) {
    return v;
  } else {
    return [&]<int... l>(std::integer_sequence<int, l...>) __attribute__((always_inline)) -> simd::vec_t<T, S * sizeof(T)> {
      return __builtin_shufflevector(v, v, (at + l)...);
    }(std::make_integer_sequence<int, static_cast<int>(S)>{});
  }
}

// The lanes of an S-lane vector added as add_sets adds S sets: lane j + S/2 into lane j, and so
// on down to lane 0.
template <class T, std::size_t S>
[[gnu::always_inline]] inline T reduce_pairwise(simd::vec_t<T, S * sizeof(T)> v) noexcept {
  if constexpr (S * sizeof(T) > 16) {
    constexpr std::size_t H = S / 2;
    const auto halves = [&]<int... l>(std::integer_sequence<int, l...>) __attribute__((always_inline)) {
      const simd::vec_t<T, H * sizeof(T)> lo = __builtin_shufflevector(v, v, l...);
      const simd::vec_t<T, H * sizeof(T)> hi = __builtin_shufflevector(v, v, (l + static_cast<int>(H))...);
      return lo + hi;
    }(std::make_integer_sequence<int, static_cast<int>(H)>{});
    return reduce_pairwise<T, H>(halves);
  } else {
    // The last 16 bytes: 4 floats or 2 doubles.
    if constexpr (S == 4) {
      const T a = v[0] + v[2], b = v[1] + v[3];
      return a + b;
    } else {
      return v[0] + v[1];
    }
  }
}

}  // namespace detail

/// A row of N values from memory.
template <std::size_t N, class T>
[[gnu::always_inline]] inline register_row<T, N> load_row(const T* p) noexcept {
  register_row<T, N> r;
  [&]<std::size_t... v>(std::index_sequence<v...>) __attribute__((always_inline)) {
    ((r.v[v] = detail::load_row_vector<T, N, v>(p)), ...);
  }(std::make_index_sequence<row_shape<T, N>::VN>{});
  return r;
}

/// Stores the N values of a row; writes nothing past p[N − 1].
template <std::size_t N, class T>
[[gnu::always_inline]] inline void store_row(T* p, const register_row<T, N>& r) noexcept {
  using shape = row_shape<T, N>;
  [&]<std::size_t... v>(std::index_sequence<v...>) __attribute__((always_inline)) {
    ((v + 1 == shape::VN && shape::tail != shape::L ? simd::store_n<T, shape::B>(p + v * shape::L, r.v[v], shape::tail)
                                                     : simd::store<T, shape::B>(p + v * shape::L, r.v[v])),
     ...);
  }(std::make_index_sequence<shape::VN>{});
}

/// f applied to a row: lane by lane, or, for an epilogue over whole rows (`F::whole_row`, a
/// row of one vector), to the vector and its count of lanes.
template <std::size_t N, class T, class F>
[[gnu::always_inline]] inline register_row<T, N> apply_row(const register_row<T, N>& r, const F& f) noexcept {
  using shape = row_shape<T, N>;
  register_row<T, N> y;
  [&]<std::size_t... v>(std::index_sequence<v...>) __attribute__((always_inline)) {
    if constexpr (requires { F::whole_row; }) ((y.v[v] = f(r.v[v], shape::VN == 1 ? shape::tail : shape::L)), ...);
    else ((y.v[v] = f(r.v[v])), ...);
  }(std::make_index_sequence<shape::VN>{});
  return y;
}

/// x·W + bias for one row (bias may be null), K×N W row-major, x a row of K values in memory
/// (`const T*`, each x[k] broadcast by a load) or in registers (`register_row<T, K>`, each lane
/// broadcast by a shuffle). Every k is unrolled; the sums are S sets added pairwise at the end,
/// so both forms give the same bits.
template <std::size_t K, std::size_t N, class T, class X>
[[gnu::always_inline]] inline register_row<T, N> dense_row(const X& x, const T* w, const T* bias) noexcept {
  using shape = small_layer<T, K, N>;
  constexpr std::size_t B = shape::B, VN = shape::VN, S = shape::S;
  using V = typename shape::vector;
  register_row<T, N> out;
  if constexpr (detail::dot_form<T, K, N>) {
    // One unit: W is one column, contiguous, so the S sets are the S lanes of one vector D, x
    // and W taken S values at a time; the lanes then add pairwise as the sets would.
    using D = simd::vec_t<T, S * sizeof(T)>;
    D sum{};
    if (bias != nullptr) sum[0] = bias[0];
    [&]<std::size_t... c>(std::index_sequence<c...>) __attribute__((always_inline)) {
      ((sum += detail::chunk<c * S, S>(x) * simd::load<T, S * sizeof(T)>(w + c * S)), ...);
    }(std::make_index_sequence<K / S>{});
    out.v[0] = V{};
    out.v[0][0] = detail::reduce_pairwise<T, S>(sum);
  } else {
    // (The lambdas are inlined by force: a compiler left to itself may call the unrolled body.)
    [&]<std::size_t... i, std::size_t... v>(std::index_sequence<i...>, std::index_sequence<v...>)
        __attribute__((always_inline)) {
      V sum[S * VN] = {};
      if (bias != nullptr) ((sum[v] = detail::load_row_vector<T, N, v>(bias)), ...);
      auto xk = [&]<std::size_t k>() __attribute__((always_inline)) -> V {
        // From memory, x a native vector at a time where whole ones fit (each loaded once), each
        // value broadcast by a shuffle: the loads of W leave no slot for a load per value.
        if constexpr (std::is_pointer_v<X>) {
          constexpr std::size_t C = simd::simd_bytes / sizeof(T);
          if constexpr (k < K / C * C) return detail::lane_of<k % C, B>(simd::load<T, simd::simd_bytes>(x + k / C * C));
          else return simd::broadcast<T, B>(x[k]);
        } else {
          return detail::lane<k, B>(x);
        }
      };
      // Product k, vector u accumulates into set k mod S.
      ((sum[(i / VN) % S * VN + i % VN] +=
        xk.template operator()<i / VN>() * detail::load_row_vector<T, N, i % VN>(w + (i / VN) * N)),
       ...);
      detail::add_sets<S, VN>(sum);
      ((out.v[v] = sum[v]), ...);
    }(std::make_index_sequence<K * VN>{}, std::make_index_sequence<VN>{});
  }
  return out;
}

}  // namespace frost::kernels
