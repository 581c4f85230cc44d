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

// The double path against long double: an exp or tanh that lost precision (computed in float,
// truncated, a polynomial too short) or a vector form that leaves a lane behind fails here.
namespace {
long long ulps_apart(double a, double b) {
  std::int64_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::llabs(ia - ib);
}

// f on double vectors of `Bytes` and on scalars at `points` values of x from lo to hi (each lane a
// different x); returns the largest distance in ulp from reference(x) evaluated in long double,
// requiring lanes and scalars to agree bit for bit.
template <std::size_t Bytes>
long long worst_double_ulps(auto f, auto reference, double lo, double hi, long points) {
  using V = frost::simd::vec_t<double, Bytes>;
  constexpr std::size_t lanes = Bytes / sizeof(double);
  long long worst = 0;
  for (long i = 0; i < points; i += long(lanes)) {
    V x;
    for (std::size_t l = 0; l < lanes; ++l) x[l] = lo + (hi - lo) * double(i + long(l)) / double(points);
    const V y = f(x);
    for (std::size_t l = 0; l < lanes; ++l) {
      INFO("x = " << x[l]);
      const double lane = y[l], scalar = f(x[l]);
      REQUIRE(std::memcmp(&scalar, &lane, sizeof lane) == 0);
      const double expected = static_cast<double>(reference(static_cast<long double>(x[l])));
      worst = std::max(worst, ulps_apart(lane, expected));
    }
  }
  return worst;
}
}  // namespace

TEST_CASE("simd::exp on doubles is within 1 ulp of exp in long double, on every lane and on scalars", "[core][simd]") {
  using namespace frost::simd;
  const auto f = [](auto x) { return frost::simd::exp(x); };
  const auto reference = [](long double x) { return std::exp(x); };
  // [-700, 700]: every normal double result but the last few binades (x = 0 is point 100,000).
  const long long worst = worst_double_ulps<simd_bytes>(f, reference, -700.0, 700.0, 200000);
  const long long worst16 = worst_double_ulps<16>(f, reference, -1.0, 1.0, 2000);
  CAPTURE(worst, worst16);
  REQUIRE(worst <= 1);
  REQUIRE(worst16 <= 1);
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE(frost::simd::exp(0.0) == 1.0);
  REQUIRE(frost::simd::exp(1.0) == Approx(2.718281828459045).epsilon(1e-15));  // e, by hand
  REQUIRE(frost::simd::exp(710.0) == inf);
  REQUIRE(frost::simd::exp(-inf) == 0.0);
  REQUIRE(std::isnan(frost::simd::exp(std::nan(""))));
}

TEST_CASE("simd::tanh on doubles is within 2 ulp of tanh in long double, on every lane and on scalars", "[core][simd]") {
  using namespace frost::simd;
  const auto f = [](auto x) { return frost::simd::tanh(x); };
  const auto reference = [](long double x) { return std::tanh(x); };
  const long long worst = worst_double_ulps<simd_bytes>(f, reference, -20.0, 20.0, 200000);
  const long long worst_small = worst_double_ulps<simd_bytes>(f, reference, -1e-3, 1e-3, 20000);
  const long long worst16 = worst_double_ulps<16>(f, reference, -1.0, 1.0, 2000);
  CAPTURE(worst, worst_small, worst16);
  REQUIRE(worst <= 2);
  REQUIRE(worst_small <= 2);
  REQUIRE(worst16 <= 2);
  REQUIRE(std::signbit(frost::simd::tanh(-0.0)));
  REQUIRE(frost::simd::tanh(0.5) == Approx(0.46211715726000974).epsilon(1e-15));  // (e − 1)/(e + 1)
  REQUIRE(frost::simd::tanh(std::numeric_limits<double>::infinity()) == 1.0);
  REQUIRE(frost::simd::tanh(-std::numeric_limits<double>::infinity()) == -1.0);
  REQUIRE(std::isnan(frost::simd::tanh(std::nan(""))));
}

TEST_CASE("simd::tanh on floats is within 6 ulp of tanh, mostly correctly rounded, the same on lanes and scalars",
          "[core][simd]") {
  using namespace frost::simd;
  using V = native_t<float>;
  constexpr std::size_t lanes = native<float>::width;
  long worst = 0, exact = 0, within1 = 0, total = 0;
  // |x| from 1e-30 to 20 in steps of 0.01 %, both signs: the rational's whole range, the clamp
  // and ±1. The reference is tanh in double, rounded once to float.
  float x = 1e-30f;
  while (x < 20.f) {
    V v;
    for (std::size_t l = 0; l < lanes; ++l, x *= 1.0001f) v[l] = l % 2 == 0 ? x : -x;
    const V y = frost::simd::tanh(v);
    for (std::size_t l = 0; l < lanes; ++l) {
      REQUIRE(y[l] == frost::simd::tanh(v[l]));
      REQUIRE(frost::simd::tanh(-v[l]) == -y[l]);
      const long d = ulps_apart(y[l], static_cast<float>(std::tanh(static_cast<double>(v[l]))));
      worst = std::max(worst, d);
      exact += d == 0;
      within1 += d <= 1;
      ++total;
    }
  }
  CAPTURE(worst, exact, within1, total);
  REQUIRE(worst <= 6);
  REQUIRE(double(exact) >= 0.9 * double(total));     // 92 % here, 96.75 % over every float
  REQUIRE(double(within1) >= 0.98 * double(total));  // 98.9 % here
  REQUIRE(frost::simd::tanh(1e-30f) == 1e-30f);  // tiny arguments come back unchanged
  REQUIRE(frost::simd::tanh(9.5f) == 1.f);
  REQUIRE(std::signbit(frost::simd::tanh(-0.f)));
  REQUIRE(frost::simd::tanh(0.f) == 0.f);
  REQUIRE(frost::simd::tanh(std::numeric_limits<float>::infinity()) == 1.f);
  REQUIRE(frost::simd::tanh(-std::numeric_limits<float>::infinity()) == -1.f);
  REQUIRE(std::isnan(frost::simd::tanh(std::nanf(""))));
}
