// tanh accuracy on floats: frost's simd::tanh and Eigen's (the tanh RTNeural's Eigen backend
// runs), each against tanh computed in double and rounded to float, over 2^24 evenly spaced
// floats in [-9, 9] and 2^24 in [-0.7, 0.7]. Prints the largest error of each in ulp.
// Built as bench/peers/tanh_accuracy when Eigen is found; docs/realtime.md quotes it.
#include <frost/core/simd.hpp>

#include <Eigen/Core>

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
  std::printf("Eigen %d.%d.%d tanh: at most %lld ulp (at %g)\nfrost simd::tanh: at most %lld ulp (at %g)\n",
              EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, static_cast<long long>(worst_eigen),
              double(at_eigen), static_cast<long long>(worst_frost), double(at_frost));
}
