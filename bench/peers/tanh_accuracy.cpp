// tanh accuracy on floats: frost's simd::tanh and Eigen's (the tanh RTNeural's Eigen backend
// runs), each against tanh computed in double and rounded to float, over 2^24 evenly spaced
// floats in [-9, 9] and 2^24 in [-0.7, 0.7]; then frost's over every float (its vector lanes,
// and the sign symmetry, since tanh(−x) is −tanh(x) bit for bit). Prints the largest error of
// each in ulp. Runs in about a minute.
// Built as bench/peers/tanh_accuracy when Eigen is found; docs/realtime.md quotes it.
#include <frost/core/simd.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
// Floats in order as integers, so that a difference counts the floats between.
std::int64_t ordinal(float f) {
  std::int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i < 0 ? -std::int64_t(i & 0x7fffffff) : std::int64_t(i);
}
}  // namespace

int main() {
  const int n = 1 << 24;
  Eigen::ArrayXf x(n), y(n);
  std::int64_t worst_eigen = 0, worst_frost = 0;
  float at_eigen = 0, at_frost = 0;
  for (const float range : {9.f, 0.7f}) {
    for (int i = 0; i < n; ++i) x[i] = -range + 2.f * range * float(i) / float(n);
    y = x.tanh();
    for (int i = 0; i < n; ++i) {
      const float exact = float(std::tanh(double(x[i])));
      const std::int64_t e = std::llabs(ordinal(y[i]) - ordinal(exact));
      const std::int64_t f = std::llabs(ordinal(frost::simd::tanh(x[i])) - ordinal(exact));
      if (e > worst_eigen) worst_eigen = e, at_eigen = x[i];
      if (f > worst_frost) worst_frost = f, at_frost = x[i];
    }
  }
  // Every non-negative float, NaN payloads apart, a native vector at a time; negative floats
  // by symmetry (checked on every lane: tanh(−x) is −tanh(x) bit for bit). Also counts the
  // correctly rounded results.
  using V = frost::simd::native_t<float>;
  constexpr std::uint32_t lanes = frost::simd::native<float>::width;
  std::int64_t worst_all = 0, exact_all = 0;
  float at_all = 0;
  for (std::uint32_t u = 0; u <= 0x7f800000u; u += lanes) {
    V v, m;
    for (std::uint32_t l = 0; l < lanes; ++l) {
      const std::uint32_t b = std::min(u + l, 0x7f800000u);
      std::memcpy(&v[l], &b, sizeof(float));
      m[l] = -v[l];
    }
    const V y = frost::simd::tanh(v), ym = frost::simd::tanh(m);
    for (std::uint32_t l = 0; l < lanes; ++l) {
      const std::int64_t f = std::llabs(ordinal(y[l]) - ordinal(float(std::tanh(double(v[l])))));
      if (f > worst_all) worst_all = f, at_all = v[l];
      exact_all += f == 0;
      if (ordinal(ym[l]) != -ordinal(y[l]) || std::signbit(ym[l]) == std::signbit(y[l])) {
        std::printf("frost simd::tanh(-x) is not -tanh(x) at x = %g\n", double(v[l]));
        return 1;
      }
    }
  }
  std::printf("Eigen %d.%d.%d tanh: at most %lld ulp (at %g)\nfrost simd::tanh: at most %lld ulp (at %g)\n",
              EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, static_cast<long long>(worst_eigen),
              double(at_eigen), static_cast<long long>(worst_frost), double(at_frost));
  std::printf("frost simd::tanh over every float: at most %lld ulp (at %g); %.2f %% correctly rounded\n",
              static_cast<long long>(worst_all), double(at_all), 100.0 * double(exact_all) / double(0x7f800001u));
}
