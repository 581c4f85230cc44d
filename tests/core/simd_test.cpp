#include <frost/core/simd.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace {
long ulps_apart(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::labs(long(ia) - long(ib));
}
}  // namespace

TEST_CASE("simd::exp on floats is within 1 ulp of std::exp and the same on lanes and scalars", "[core][simd]") {
  using namespace frost::simd;
  using V = native_t<float>;
  constexpr std::size_t lanes = native<float>::width;
  long worst = 0, checked = 0;
  // Every lane a different x: 300,000 points over [-110, 90], subnormal results included.
  for (long i = 0; i < 300000; i += long(lanes)) {
    V x;
    for (std::size_t l = 0; l < lanes; ++l) x[l] = -110.f + 200.f * float(i + long(l)) / 300000.f + 1e-7f * float(l);
    const V y = frost::simd::exp(x);
    for (std::size_t l = 0; l < lanes; ++l) {
      REQUIRE(y[l] == frost::simd::exp(x[l]));  // lanes and scalars agree bit for bit
      worst = std::max(worst, ulps_apart(y[l], std::exp(x[l])));
      ++checked;
    }
  }
  CAPTURE(worst, checked);
  REQUIRE(worst <= 1);
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE(frost::simd::exp(0.f) == 1.f);
  REQUIRE(frost::simd::exp(88.8f) == inf);
  REQUIRE(frost::simd::exp(inf) == inf);
  REQUIRE(frost::simd::exp(-inf) == 0.f);
  REQUIRE(frost::simd::exp(-200.f) == 0.f);
  REQUIRE(frost::simd::exp(88.7f) == std::exp(88.7f));  // the largest results stay finite
  REQUIRE(std::isnan(frost::simd::exp(std::nanf(""))));
  REQUIRE(std::isnan(frost::simd::exp(broadcast<float, simd_bytes>(std::nanf("")))[0]));
}

TEST_CASE("simd::exp on doubles is std::exp", "[core][simd]") {
  for (double x : {-700.0, -1.5, 0.0, 0.25, 700.0}) REQUIRE(frost::simd::exp(x) == std::exp(x));
}

TEST_CASE("simd::tanh on floats is within 2 ulp of std::tanh and the same on lanes and scalars", "[core][simd]") {
  using namespace frost::simd;
  using V = native_t<float>;
  constexpr std::size_t lanes = native<float>::width;
  long worst = 0;
  // |x| from 1e-30 to 20 in steps of 0.01 %, both signs: the polynomial, the exp form and ±1.
  float x = 1e-30f;
  while (x < 20.f) {
    V v;
    for (std::size_t l = 0; l < lanes; ++l, x *= 1.0001f) v[l] = l % 2 == 0 ? x : -x;
    const V y = frost::simd::tanh(v);
    for (std::size_t l = 0; l < lanes; ++l) {
      REQUIRE(y[l] == frost::simd::tanh(v[l]));
      worst = std::max(worst, ulps_apart(y[l], std::tanh(v[l])));
    }
  }
  CAPTURE(worst);
  REQUIRE(worst <= 2);
  REQUIRE(std::signbit(frost::simd::tanh(-0.f)));
  REQUIRE(frost::simd::tanh(0.f) == 0.f);
  REQUIRE(frost::simd::tanh(std::numeric_limits<float>::infinity()) == 1.f);
  REQUIRE(frost::simd::tanh(-std::numeric_limits<float>::infinity()) == -1.f);
  REQUIRE(std::isnan(frost::simd::tanh(std::nanf(""))));
  REQUIRE(frost::simd::tanh(0.5) == std::tanh(0.5));  // double: std::tanh
}
