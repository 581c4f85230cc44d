// Gradient clipping (Keras's clipnorm and global_clipnorm), on a trainer that keeps its
// gradients. The expected updates are computed here, in double, from the unclipped gradients
// (value_and_grad, checked against finite differences elsewhere) by Keras's formulas:
//   clipnorm c, each variable alone:  g · c / max(‖g‖, c)
//   global_clipnorm c, all together:  g · c · min(1/‖g‖, 1/c)   (NaN when ‖g‖ is infinite)

#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

using namespace frost;
using net = sequential<input<3>, dense<4, relu>, dense<2>>;

struct problem {
  matrix<float, 3> x{6};
  matrix<float, 2> y{6};
  problem() {
    frost_test::fill_uniform(x.values(), 21);
    frost_test::fill_uniform(y.values(), 22, -4.0, 4.0);  // far from the start: large gradients
  }
};

double norm(const float* g, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += double(g[i]) * double(g[i]);
  return std::sqrt(s);
}

double norm_of(const std::vector<double>& d, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += d[i] * d[i];
  return std::sqrt(s);
}

// One plain sgd step with learning rate 1 moves w by −(clipped g): returns w_before − w_after.
template <class Spec>
std::vector<double> step_delta(const net& start, Spec spec, const problem& p) {
  net m = start;
  auto tr = make_trainer(m, mean_squared_error{}, spec, 6, keep_gradients);
  tr.step(p.x, p.y);
  std::vector<double> d(net::trainable_param_count);
  for (std::size_t i = 0; i < d.size(); ++i)
    d[i] = double(start.trainable_parameters()[i]) - double(m.trainable_parameters()[i]);
  return d;
}

}  // namespace

TEST_CASE("clipnorm clips each variable's gradient to its own norm, as Keras", "[train][clipping]") {
  const problem p;
  const net start = net::init(5);
  auto [loss, g] = value_and_grad(start, mean_squared_error{}, p.x, p.y);
  // The four variables: kernel 0 (3 × 4), bias 0 (4), kernel 1 (4 × 2), bias 1 (2).
  const std::size_t at[] = {0, 12, 16, 24, 26};
  std::vector<double> norms;
  for (int v = 0; v < 4; ++v) norms.push_back(norm(g.data() + at[v], at[v + 1] - at[v]));
  // A clip norm between the smallest and the largest: some variables are clipped, some are not.
  const auto [lo, hi] = std::minmax_element(norms.begin(), norms.end());
  const float c = float((*lo + *hi) / 2);
  INFO("norms " << norms[0] << " " << norms[1] << " " << norms[2] << " " << norms[3] << ", clipnorm " << c);
  const std::vector<double> d = step_delta(start, sgd{.learning_rate = 1.f, .clipnorm = c}, p);
  int clipped = 0;
  for (int v = 0; v < 4; ++v) {
    const double scale = double(c) / std::max(norms[v], double(c));
    clipped += scale < 1;
    for (std::size_t i = at[v]; i < at[v + 1]; ++i) REQUIRE(d[i] == Approx(g.data()[i] * scale).epsilon(1e-5).margin(1e-6));
    if (scale < 1) REQUIRE(norm_of(d, at[v], at[v + 1]) == Approx(c).epsilon(1e-5));
  }
  REQUIRE(clipped > 0);
  REQUIRE(clipped < 4);
}

TEST_CASE("global_clipnorm scales every gradient by one factor, as Keras", "[train][clipping]") {
  const problem p;
  const net start = net::init(5);
  auto [loss, g] = value_and_grad(start, mean_squared_error{}, p.x, p.y);
  const double total = norm(g.data(), net::trainable_param_count);
  SECTION("a norm above the clip norm is scaled down to it") {
    const float c = float(total / 3);
    const std::vector<double> s = step_delta(start, sgd{.learning_rate = 1.f, .global_clipnorm = c}, p);
    for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(s[i] == Approx(g.data()[i] * c / total).epsilon(1e-5).margin(1e-6));
    REQUIRE(norm_of(s, 0, s.size()) == Approx(c).epsilon(1e-5));
  }
  SECTION("a norm below it leaves the gradient as it is") {
    const std::vector<double> s = step_delta(start, sgd{.learning_rate = 1.f, .global_clipnorm = float(total * 2)}, p);
    for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(s[i] == Approx(g.data()[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("global_clipnorm turns an infinite gradient into NaN, as Keras", "[train][clipping]") {
  using lin = sequential<input<2>, dense<2>>;
  lin m = lin::init(1);
  m.layer<0>().kernel()[0] = m.layer<0>().kernel()[1] = 0.f;
  matrix<float, 2> x(1), y(1);
  x(0, 0) = 3e38f;  // dW = xᵀ·dz overflows
  x(0, 1) = 0.5f;
  y(0, 0) = y(0, 1) = 1e10f;
  auto tr = make_trainer(m, mean_squared_error{}, sgd{.global_clipnorm = 1.f}, 1, keep_gradients);
  tr.step(x, y);
  for (float w : m.trainable_parameters()) REQUIRE(std::isnan(w));
}

TEST_CASE("clipping settings Keras refuses are refused", "[train][clipping]") {
  net m = net::init(1);
  REQUIRE_THROWS_WITH(make_trainer(m, mean_squared_error{}, adam{.clipnorm = 1.f, .global_clipnorm = 0.5f}, 4, keep_gradients),
                      "frost::make_trainer: clipping: expected at most one of clipnorm and global_clipnorm, got "
                      "clipnorm = 1 and global_clipnorm = 0.5");
  REQUIRE_THROWS_AS(make_trainer(m, mean_squared_error{}, rmsprop{.clipnorm = -1.f}, 4, keep_gradients), value_error);
  REQUIRE_THROWS_AS(make_optimizer(m, adamw{.global_clipnorm = -2.f}), value_error);
}

TEST_CASE("apply_gradients clips a copy and leaves the gradients as they were", "[train][clipping]") {
  const problem p;
  net a = net::init(5), b = net::init(5);
  auto [loss, g] = value_and_grad(a, mean_squared_error{}, p.x, p.y);
  const std::vector<float> before(g.values().begin(), g.values().end());
  auto opt = make_optimizer(a, sgd{.learning_rate = 1.f, .global_clipnorm = 0.5f});
  opt.apply_gradients(a, g);
  REQUIRE(std::equal(before.begin(), before.end(), g.values().begin()));
  // The same step as a trainer that clips.
  auto tr = make_trainer(b, mean_squared_error{}, sgd{.learning_rate = 1.f, .global_clipnorm = 0.5f}, 6, keep_gradients);
  tr.step(p.x, p.y);
  REQUIRE(frost_test::same_bytes(a.trainable_parameters(), b.trainable_parameters()));
}
