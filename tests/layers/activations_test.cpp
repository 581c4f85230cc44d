#include <frost/expr/activations.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <algorithm>
#include <cstddef>
#include <vector>

namespace {

constexpr std::size_t n = 5;
constexpr std::array<double, 2 * n> z0 = {-1.5, -0.3, 0.2, 0.7, 2.0, 1.1, -0.9, 0.45, -2.2, 0.05};

// Backward(y, g) must equal the vector-Jacobian product of forward, by central differences:
// Σ_j g_j ∂y_j/∂z_i for every i.
template <class A>
void check_backward() {
  std::array<double, 2 * n> g = {0.3, -0.7, 0.2, 0.9, -0.1, 0.5, 0.25, -0.6, 0.8, -0.35};
  std::array<double, 2 * n> y = z0;
  A::template forward<n>(y.data(), 2);
  std::array<double, 2 * n> dz = g;
  A::template backward<n>(y.data(), dz.data(), 2);
  for (std::size_t i = 0; i < 2 * n; ++i) {
    std::array<double, 2 * n> z = z0;
    const double numeric = frost_test::numeric_grad(
        [&] {
          std::array<double, 2 * n> out = z;
          A::template forward<n>(out.data(), 2);
          double s = 0;
          for (std::size_t j = 0; j < 2 * n; ++j) s += g[j] * out[j];
          return s;
        },
        z[i]);
    INFO(A::name << " input " << i);
    REQUIRE(frost_test::close(dz[i], numeric, 1e-7));
  }
}

}  // namespace

TEST_CASE("relu passes NaN on, as TensorFlow's does", "[layers][activations]") {
  double v = std::numeric_limits<double>::quiet_NaN();
  frost::activations::relu::forward<1>(&v, 1);
  REQUIRE(std::isnan(v));
  float w[20];
  for (float& x : w) x = std::numeric_limits<float>::quiet_NaN();
  w[3] = -1.f;
  frost::activations::relu::forward<20>(w, 1);  // the vector path too
  REQUIRE(w[3] == 0.f);
  REQUIRE(std::isnan(w[0]));
  REQUIRE(std::isnan(w[19]));
}

TEST_CASE("activation forwards follow their closed forms", "[layers][activations]") {
  for (double z : z0) {
    double v = z;
    frost::activations::relu::forward<1>(&v, 1);
    REQUIRE(v == (z > 0 ? z : 0.0));
    REQUIRE(!std::signbit(v));
    v = z;
    frost::activations::sigmoid::forward<1>(&v, 1);
    REQUIRE(v == Approx(1 / (1 + std::exp(-z))).epsilon(1e-15));
    v = z;
    frost::activations::tanh::forward<1>(&v, 1);
    REQUIRE(v == Approx(std::tanh(z)).epsilon(1e-15));
    v = z;
    frost::activations::linear::forward<1>(&v, 1);
    REQUIRE(v == z);
  }
  std::array<double, 3> s = {1.0, 2.0, 3.0};
  frost::activations::softmax::forward<3>(s.data(), 1);
  const double total = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  REQUIRE(s[0] == Approx(std::exp(1.0) / total));
  REQUIRE(s[2] == Approx(std::exp(3.0) / total));
}

TEST_CASE("softmax is stable for large logits", "[layers][activations]") {
  std::array<float, 2> s = {1000.f, 1000.f};
  frost::activations::softmax::forward<2>(s.data(), 1);
  REQUIRE(s[0] == 0.5f);
  REQUIRE(s[1] == 0.5f);
}

TEST_CASE("activation backwards match finite differences in double", "[layers][activations]") {
  check_backward<frost::activations::linear>();
  check_backward<frost::activations::relu>();
  check_backward<frost::activations::sigmoid>();
  check_backward<frost::activations::tanh>();
  check_backward<frost::activations::softmax>();
}

TEST_CASE("activations declare what their backward reads", "[layers][activations]") {
  STATIC_REQUIRE(frost::activations::linear::reads == frost::backward_reads::nothing);
  STATIC_REQUIRE(frost::activations::relu::reads == frost::backward_reads::output);
  STATIC_REQUIRE(frost::activations::sigmoid::reads == frost::backward_reads::output);
  STATIC_REQUIRE(frost::activations::tanh::reads == frost::backward_reads::output);
  STATIC_REQUIRE(frost::activations::softmax::reads == frost::backward_reads::output);
}

namespace {
template <std::size_t N>
void softmax_matches_double(std::size_t rows) {
  std::vector<float> z(rows * N);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = float((i * 37) % 23) * 0.7f - 6.f;
  const std::vector<float> in = z;
  frost::activations::softmax::forward<N>(z.data(), rows);
  for (std::size_t r = 0; r < rows; ++r) {
    double top = in[r * N], sum = 0;
    for (std::size_t j = 0; j < N; ++j) top = std::max(top, double(in[r * N + j]));
    for (std::size_t j = 0; j < N; ++j) sum += std::exp(double(in[r * N + j]) - top);
    for (std::size_t j = 0; j < N; ++j)
      REQUIRE(z[r * N + j] == Approx(std::exp(double(in[r * N + j]) - top) / sum).epsilon(1e-6).margin(1e-12));
  }
}
}  // namespace

TEST_CASE("softmax over many rows and widths matches a double reference", "[layers][activations]") {
  // Rows in blocks of four and a tail; widths below, at and above one vector.
  for (std::size_t rows : {1u, 4u, 7u, 9u}) {
    softmax_matches_double<1>(rows);
    softmax_matches_double<3>(rows);
    softmax_matches_double<10>(rows);
    softmax_matches_double<16>(rows);
    softmax_matches_double<17>(rows);
  }
}
