#pragma once
/// \file
/// `native<T>`: the widest native vector of `T` the compiler targets, as a GNU vector type
/// (g++ and clang), with unaligned load/store,
/// lane-wise select, map and sqrt. Width follows the target
/// flags: 64 bytes with AVX-512, 32 with AVX, 16 otherwise (SSE2 on x86-64, NEON on arm64).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace frost::simd {

#if defined(__AVX512F__)
inline constexpr std::size_t simd_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t simd_bytes = 32;
#else
inline constexpr std::size_t simd_bytes = 16;
#endif

/// A GNU vector of `Bytes / sizeof(T)` lanes; `Bytes` is 16, 32 or 64, and never more than
/// `simd_bytes` where it is passed by value, so the ABI never changes (no -Wpsabi warning).
template <class T, std::size_t Bytes>
struct vec;
template <>
struct vec<float, 16> {
  using type = float __attribute__((vector_size(16)));
};
template <>
struct vec<float, 32> {
  using type = float __attribute__((vector_size(32)));
};
template <>
struct vec<float, 64> {
  using type = float __attribute__((vector_size(64)));
};
template <>
struct vec<double, 16> {
  using type = double __attribute__((vector_size(16)));
};
template <>
struct vec<double, 32> {
  using type = double __attribute__((vector_size(32)));
};
template <>
struct vec<double, 64> {
  using type = double __attribute__((vector_size(64)));
};

template <class T, std::size_t Bytes = simd_bytes>
using vec_t = typename vec<T, Bytes>::type;

/// The widest vector the target has.
template <class T>
struct native {
  using type = vec_t<T, simd_bytes>;
  static constexpr std::size_t width = simd_bytes / sizeof(T);
};

template <class T>
using native_t = typename native<T>::type;

template <class T, std::size_t Bytes = simd_bytes>
inline vec_t<T, Bytes> load(const T* p) noexcept {
  vec_t<T, Bytes> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T, std::size_t Bytes>
inline void store(T* p, vec_t<T, Bytes> v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

namespace detail {
// All bits set in the first lanes, clear in the rest: loading a lane mask at `mask_table + 8 - n`
// (32-bit lanes) or `mask_table64 + 4 - n` (64-bit lanes) sets exactly the first n lanes.
alignas(64) inline constexpr int mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
alignas(64) inline constexpr long long mask_table64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

#if defined(__AVX__)
// The mask AVX's maskload and maskstore take for the first n lanes of a `Bytes`-byte vector of T.
template <class T, std::size_t Bytes>
inline auto first_lanes(std::size_t n) noexcept {
  const void* at = sizeof(T) == 4 ? static_cast<const void*>(mask_table + 8 - n)
                                  : static_cast<const void*>(mask_table64 + 4 - n);
  if constexpr (Bytes == 32) return _mm256_loadu_si256(static_cast<const __m256i*>(at));
  else return _mm_loadu_si128(static_cast<const __m128i*>(at));
}
#endif
}  // namespace detail

/// The first `n` lanes from `p` (1 <= n <= lanes), the others zero; reads nothing past `p[n - 1]`.
/// Masked loads where the target has them, else a copy through the stack.
template <class T, std::size_t Bytes>
inline vec_t<T, Bytes> load_n(const T* p, std::size_t n) noexcept {
#if defined(__AVX512F__)
  if constexpr (Bytes == 64) {
    if constexpr (sizeof(T) == 4) return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
    else return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p);
  }
#endif
#if defined(__AVX512VL__)
  if constexpr (Bytes == 32) {
    if constexpr (sizeof(T) == 4) return _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1), p);
    else return _mm256_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p);
  }
  if constexpr (Bytes == 16) {
    if constexpr (sizeof(T) == 4) return _mm_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1), p);
    else return _mm_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p);
  }
#elif defined(__AVX__)
  if constexpr (Bytes == 32) {
    const __m256i m = detail::first_lanes<T, 32>(n);
    if constexpr (sizeof(T) == 4) return _mm256_maskload_ps(p, m);
    else return _mm256_maskload_pd(p, m);
  }
  if constexpr (Bytes == 16) {
    const __m128i m = detail::first_lanes<T, 16>(n);
    if constexpr (sizeof(T) == 4) return _mm_maskload_ps(p, m);
    else return _mm_maskload_pd(p, m);
  }
#endif
  vec_t<T, Bytes> v{};
  std::memcpy(&v, p, n * sizeof(T));
  return v;
}

/// Stores the first `n` lanes of `v` at `p` (1 <= n <= lanes); writes nothing past `p[n - 1]`.
template <class T, std::size_t Bytes>
inline void store_n(T* p, vec_t<T, Bytes> v, std::size_t n) noexcept {
#if defined(__AVX512F__)
  if constexpr (Bytes == 64) {
    if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
    else _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
    return;
  }
#endif
#if defined(__AVX512VL__)
  if constexpr (Bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_mask_storeu_ps(p, static_cast<__mmask8>((1u << n) - 1), v);
    else _mm256_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
    return;
  }
  if constexpr (Bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_mask_storeu_ps(p, static_cast<__mmask8>((1u << n) - 1), v);
    else _mm_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
    return;
  }
#elif defined(__AVX__)
  if constexpr (Bytes == 32) {
    const __m256i m = detail::first_lanes<T, 32>(n);
    if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, m, v);
    else _mm256_maskstore_pd(p, m, v);
    return;
  }
  if constexpr (Bytes == 16) {
    const __m128i m = detail::first_lanes<T, 16>(n);
    if constexpr (sizeof(T) == 4) _mm_maskstore_ps(p, m, v);
    else _mm_maskstore_pd(p, m, v);
    return;
  }
#endif
  std::memcpy(p, &v, n * sizeof(T));
}

/// Every lane `s`. (Not `vec{} + s`: that adds 0 to s first, which the compiler must keep
/// because -0 + 0 is +0, an extra instruction per broadcast in the GEMM loops.)
template <class T, std::size_t Bytes = simd_bytes>
inline vec_t<T, Bytes> broadcast(T s) noexcept {
#if defined(__AVX512F__)
  if constexpr (Bytes == 64) {
    if constexpr (sizeof(T) == 4) return _mm512_set1_ps(s);
    else return _mm512_set1_pd(s);
  }
#endif
#if defined(__AVX__)
  if constexpr (Bytes == 32) {
    if constexpr (sizeof(T) == 4) return _mm256_set1_ps(s);
    else return _mm256_set1_pd(s);
  }
#endif
#if defined(__SSE2__)
  if constexpr (Bytes == 16) {
    if constexpr (sizeof(T) == 4) return _mm_set1_ps(s);
    else return _mm_set1_pd(s);
  }
#endif
  return vec_t<T, Bytes>{} + s;
}

/// Lane-wise square root, correctly rounded like std::sqrt (so vector and scalar code agree bit
/// for bit), without the errno handling that keeps compilers from vectorizing std::sqrt.
template <class T, std::size_t Bytes>
inline vec_t<T, Bytes> sqrt(vec_t<T, Bytes> v) noexcept {
#if defined(__AVX512F__)
  if constexpr (Bytes == 64) {
    // The masked form with every lane set: g++ 12's _mm512_sqrt_ps trips -Wuninitialized.
    if constexpr (sizeof(T) == 4) return _mm512_mask_sqrt_ps(v, static_cast<__mmask16>(0xffff), v);
    else return _mm512_mask_sqrt_pd(v, static_cast<__mmask8>(0xff), v);
  }
#endif
#if defined(__AVX__)
  if constexpr (Bytes == 32) {
    if constexpr (sizeof(T) == 4) return _mm256_sqrt_ps(v);
    else return _mm256_sqrt_pd(v);
  }
#endif
#if defined(__SSE2__)
  if constexpr (Bytes == 16) {
    if constexpr (sizeof(T) == 4) return _mm_sqrt_ps(v);
    else return _mm_sqrt_pd(v);
  }
#endif
  vec_t<T, Bytes> r;
  for (std::size_t l = 0; l < Bytes / sizeof(T); ++l) r[l] = std::sqrt(v[l]);
  return r;
}

/// `B` bytes of `T` at a time as one value, with load, store and sqrt; `B = 0` is one scalar.
/// Lets one loop body serve the vector main loop and its scalar tail (see `for_each_lane`).
template <class T, std::size_t B>
struct lanes {
  using type = vec_t<T, B>;
  static type load(const T* p) noexcept { return simd::load<T, B>(p); }
  static void store(T* p, type v) noexcept { simd::store<T, B>(p, v); }
  static type sqrt(type v) noexcept { return simd::sqrt<T, B>(v); }
};
template <class T>
struct lanes<T, 0> {
  using type = T;
  static type load(const T* p) noexcept { return *p; }
  static void store(T* p, type v) noexcept { *p = v; }
  static type sqrt(type v) noexcept { return std::sqrt(v); }
};

/// Runs `body.template operator()<B>(i)` over [0, n): full vectors (B = simd_bytes), then
/// scalars (B = 0). For elementwise loops such as optimizer updates.
template <class T, class Body>
inline void for_each_lane(std::size_t n, Body&& body) {
  constexpr std::size_t L = native<T>::width;
  const std::size_t vector_end = n / L * L;
  for (std::size_t i = 0; i < vector_end; i += L) body.template operator()<simd_bytes>(i);
  for (std::size_t i = vector_end; i < n; ++i) body.template operator()<0>(i);
}

/// `v` as it is, rounded: the compiler may not fuse the operation that produced it with the
/// one that uses it (a product into a sum, as a fused multiply-add). Where an exact sequence of
/// roundings matters (the optimizers, Keras's equations one rounding per operation), whether a
/// multiply-add is fused must not depend on the context a function is inlined into. Costs no
/// instruction.
template <class V>
inline V rounded(V v) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(v));
#elif defined(__GNUC__) || defined(__clang__)
  asm("" : "+w"(v));
#endif
  return v;
}

/// Is `V` a vector (rather than a scalar)?
template <class V>
inline constexpr bool is_vector_v = !std::is_arithmetic_v<V>;

namespace detail {
template <class V>
struct element {
  using type = std::remove_cvref_t<decltype(std::declval<V>()[0])>;
};
template <class V>
  requires std::is_arithmetic_v<V>
struct element<V> {
  using type = V;
};
}  // namespace detail

/// The scalar type of a vector or scalar `V`.
template <class V>
using element_t = typename detail::element<V>::type;

/// `s` as a `V`: itself for a scalar, broadcast for a vector.
template <class V, class S>
inline V splat(S s) noexcept {
  if constexpr (is_vector_v<V>) return broadcast<element_t<V>, sizeof(V)>(static_cast<element_t<V>>(s));
  else return static_cast<V>(s);
}

/// Lane-wise choice: `a` where `mask` (from a vector comparison) is set, else `b`; for scalars,
/// `mask ? a : b`.
template <class M, class V>
inline V select(M mask, V a, V b) noexcept {
  if constexpr (is_vector_v<V>) {
    return (V)((mask & (M)a) | (~mask & (M)b));
  } else {
    return mask ? a : b;
  }
}

/// `f` on every lane of `v` (or on the scalar `v`): for functions without a vector form here.
template <class V, class F>
inline V map(V v, F f) noexcept {
  if constexpr (is_vector_v<V>) {
    V r;
    for (std::size_t l = 0; l < sizeof(V) / sizeof(element_t<V>); ++l) r[l] = f(v[l]);
    return r;
  } else {
    return f(v);
  }
}

}  // namespace frost::simd

namespace frost::simd {

namespace detail {
template <std::size_t Bytes>
struct int32_vec;
template <>
struct int32_vec<16> {
  using type = int __attribute__((vector_size(16)));
};
template <>
struct int32_vec<32> {
  using type = int __attribute__((vector_size(32)));
};
template <>
struct int32_vec<64> {
  using type = int __attribute__((vector_size(64)));
};

// 2^n for integers n in [-126, 127], as a float or a float vector.
template <class V, class I>
inline V pow2i(I n) noexcept {
  if constexpr (is_vector_v<V>) return (V)((n + 127) << 23);
  else {
    const std::uint32_t bits = static_cast<std::uint32_t>(n + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
}

// e^(x − n·ln 2) for |x − n·ln 2| ≤ ln 2 / 2.
template <class V>
inline V exp_reduced(V x, V n) noexcept {
  V r = x - n * splat<V>(0.693359375f);  // ln 2 in two parts, the first exact in n·c
  r = r - n * splat<V>(-2.12194440e-4f);
  V p = splat<V>(1.9875691500e-4f);
  p = p * r + splat<V>(1.3981999507e-3f);
  p = p * r + splat<V>(8.3334519073e-3f);
  p = p * r + splat<V>(4.1665795894e-2f);
  p = p * r + splat<V>(1.6666665459e-1f);
  p = p * r + splat<V>(5.0000001201e-1f);
  return p * (r * r) + r + splat<V>(1.f);
}
}  // namespace detail

/// eˣ lane by lane. For float (a scalar or a vector) it runs in registers: x = n·ln 2 + r with
/// |r| ≤ ln 2 / 2, eʳ by a degree-7 polynomial (Cephes's expf coefficients), then 2ⁿ applied in
/// two exact halves so that results in the subnormal range round once. Scalars and vector lanes
/// give the same bits; within 1 ulp of std::exp over [-110, 90] (tests/core/simd_test.cpp), +inf
/// past ln(FLT_MAX), 0 below the subnormals, NaN for NaN. Other types call std::exp.
template <class V>
inline V exp(V x) noexcept {
  using S = element_t<V>;
  if constexpr (!std::is_same_v<S, float>) {
    return map(x, [](S v) { return std::exp(v); });
  } else {
    // Clamped so that the conversion below always has a value to convert: a NaN fails the first
    // comparison and goes in as 88.8 (its result is replaced by the NaN at the end).
    V xc = select(x <= splat<V>(88.8f), x, splat<V>(88.8f));
    xc = select(xc < splat<V>(-104.f), splat<V>(-104.f), xc);
    // n = round(x / ln 2), half away from zero, by conversions (no rounding trick that
    // -ffast-math could fold away).
    const V t = xc * splat<V>(1.44269504088896341f) + select(xc < splat<V>(0.f), splat<V>(-0.5f), splat<V>(0.5f));
    V result;
    if constexpr (is_vector_v<V>) {
      using I = typename detail::int32_vec<sizeof(V)>::type;
      const I ni = __builtin_convertvector(t, I);
      const I n1 = ni >> 1;
      const V p = detail::exp_reduced(xc, __builtin_convertvector(ni, V));
      result = p * detail::pow2i<V>(n1) * detail::pow2i<V>(ni - n1);
    } else {
      const int ni = static_cast<int>(t);
      const int n1 = ni >> 1;
      const V p = detail::exp_reduced(xc, static_cast<V>(ni));
      result = p * detail::pow2i<V>(n1) * detail::pow2i<V>(ni - n1);
    }
    return select(x != x, x, result);  // NaN stays NaN
  }
}

namespace detail {
// op on the bits of two floats (scalars or vectors), as 32-bit integers.
template <class V, class Op>
inline V bitwise(V a, V b, Op op) noexcept {
  if constexpr (is_vector_v<V>) {
    using I = typename int32_vec<sizeof(V)>::type;
    return (V)op((I)a, (I)b);
  } else {
    std::uint32_t x, y;
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b, sizeof y);
    x = op(x, y);
    V r;
    std::memcpy(&r, &x, sizeof r);
    return r;
  }
}
}  // namespace detail

/// tanh lane by lane. For float, in registers: x·P(x²)/Q(x²) with P of degree 6 and Q of
/// degree 3 in x² (a rational fit by scripts/fit-tanh, P(0) = Q(0) = 1), and ±1 from
/// |x| ≥ 9.011 on (where the correctly rounded tanh is ±1). P runs as Estrin's scheme, so the
/// longest chain is about a dozen operations and one division. Within 6 ulp of the correctly
/// rounded tanh over every float, 96.75 % of them correctly rounded (bench/peers/tanh_accuracy
/// counts over every float); odd bit for bit, ±0 and tiny arguments come back unchanged, NaN
/// stays NaN. Scalars and vector lanes give the same bits (tests/core/simd_test.cpp). Other
/// types call std::tanh.
template <class V>
inline V tanh(V x) noexcept {
  using S = element_t<V>;
  if constexpr (!std::is_same_v<S, float>) {
    return map(x, [](S v) { return std::tanh(v); });
  } else {
    const V z = x * x;
    const V z2 = z * z;
    const V z4 = z2 * z2;
    const V p01 = z * splat<V>(1.3084922652e-01f) + splat<V>(1.f);
    const V p23 = z * splat<V>(1.1163462612e-05f) + splat<V>(3.1049359473e-03f);
    const V p45 = z * splat<V>(5.2891729844e-11f) + splat<V>(-2.0255809998e-08f);
    const V p = (z2 * splat<V>(-8.5088825840e-14f) + p45) * z4 + (z2 * p23 + p01);
    V q = z * splat<V>(2.5475075415e-04f) + splat<V>(2.4499188390e-02f);
    q = q * z + splat<V>(4.6418251731e-01f);
    q = q * z + splat<V>(1.f);
    // Past 9.011 the fraction is inaccurate (or, far out, inf/inf): ±1 there instead, with x's
    // sign. A NaN fails the comparison and comes out of the fraction.
    const V ax = detail::bitwise(x, splat<V>(-0.f), [](auto u, auto m) { return u & ~m; });
    const V one = detail::bitwise(x, splat<V>(-0.f), [](auto u, auto m) { return (u & m) | 0x3f800000; });
    return ax >= splat<V>(9.011f) ? one : x * p / q;
  }
}

namespace detail {
// The low and the high half of a vector of B bytes (B > 16), as shuffles in registers.
template <class T, std::size_t B>
inline void halves(vec_t<T, B> v, vec_t<T, B / 2>& lo, vec_t<T, B / 2>& hi) noexcept {
  [&]<int... l>(std::integer_sequence<int, l...>) {
    lo = __builtin_shufflevector(v, v, l...);
    hi = __builtin_shufflevector(v, v, (l + static_cast<int>(B / 2 / sizeof(T)))...);
  }(std::make_integer_sequence<int, static_cast<int>(B / 2 / sizeof(T))>{});
}
}  // namespace detail

/// The sum and the maximum of a vector's lanes, halving the width at each step down to 16
/// bytes, whose lanes then go in order.
template <class T, std::size_t B>
inline T reduce_add(vec_t<T, B> v) noexcept {
  if constexpr (B == 16) {
    T s = v[0];
    for (std::size_t l = 1; l < B / sizeof(T); ++l) s += v[l];
    return s;
  } else {
    vec_t<T, B / 2> lo, hi;
    detail::halves<T, B>(v, lo, hi);
    return reduce_add<T, B / 2>(lo + hi);
  }
}
template <class T, std::size_t B>
inline T reduce_max(vec_t<T, B> v) noexcept {
  if constexpr (B == 16) {
    T s = v[0];
    for (std::size_t l = 1; l < B / sizeof(T); ++l) s = v[l] > s ? v[l] : s;
    return s;
  } else {
    vec_t<T, B / 2> lo, hi;
    detail::halves<T, B>(v, lo, hi);
    return reduce_max<T, B / 2>(lo > hi ? lo : hi);
  }
}

}  // namespace frost::simd
