#pragma once
/// \file
/// `simd<T>`: the widest native vector of `T` the compiler targets, as a GNU vector type
/// (g++ and clang), with unaligned load/store and a horizontal sum. Width follows the target
/// flags: 64 bytes with AVX-512, 32 with AVX, 16 otherwise (SSE2 on x86-64, NEON on arm64).

#include <cstddef>
#include <cstring>

namespace frost::kernels {

#if defined(__AVX512F__)
inline constexpr std::size_t simd_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t simd_bytes = 32;
#else
inline constexpr std::size_t simd_bytes = 16;
#endif

template <class T>
struct simd;

// The vector width matches the enabled instruction set, so passing these by value never
// changes the ABI (no -Wpsabi warning).
template <>
struct simd<float> {
  using type = float __attribute__((vector_size(simd_bytes)));
  static constexpr std::size_t width = simd_bytes / sizeof(float);
};
template <>
struct simd<double> {
  using type = double __attribute__((vector_size(simd_bytes)));
  static constexpr std::size_t width = simd_bytes / sizeof(double);
};

template <class T>
using simd_t = typename simd<T>::type;

template <class T>
inline simd_t<T> load(const T* p) noexcept {
  simd_t<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
inline void store(T* p, simd_t<T> v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

template <class T>
inline simd_t<T> broadcast(T s) noexcept {
  return simd_t<T>{} + s;
}

template <class T>
inline T hsum(simd_t<T> v) noexcept {
  T s{};
  for (std::size_t l = 0; l < simd<T>::width; ++l) s += v[l];
  return s;
}

}  // namespace frost::kernels
