// Each optimizer's first steps against closed forms derived by hand from Keras's equations.
#include <frost/train/optimizers.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>

namespace {
struct run {
  std::array<double, 2> w{1.0, -2.0};
  std::array<double, 2> g{0.5, -0.25};
  std::array<double, 6> state{};
  template <class Spec>
  void step(const Spec& spec, std::uint64_t t) {
    spec.update(w.data(), g.data(), state.data(), 2, 2, t);
  }
};
}  // namespace

TEST_CASE("sgd: plain, momentum and Nesterov steps", "[train][optimizers]") {
  run r;
  r.step(frost::sgd{.learning_rate = 0.1f}, 1);
  REQUIRE(r.w[0] == Approx(1.0 - 0.1 * 0.5));
  const double lr = 0.1, mu = double(0.9f);
  run m;
  const frost::sgd mom{.learning_rate = 0.1f, .momentum = 0.9f};
  m.step(mom, 1);
  m.step(mom, 2);
  // m1 = −lr g, w1 = w0 − lr g; m2 = μ m1 − lr g, w2 = w1 + m2
  REQUIRE(m.w[0] == Approx(1.0 - lr * 0.5 + (-mu * lr * 0.5 - lr * 0.5)).epsilon(1e-6));
  run n;
  const frost::sgd nes{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true};
  n.step(nes, 1);
  // w1 = w0 + μ m1 − lr g = w0 − (μ + 1) lr g
  REQUIRE(n.w[1] == Approx(-2.0 + (mu + 1) * lr * 0.25).epsilon(1e-6));
}

TEST_CASE("adam: the first step is lr g / (|g| + eps / sqrt(1 - beta_2))", "[train][optimizers]") {
  run r;
  r.step(frost::adam{.learning_rate = 0.01f}, 1);
  const double lr = double(0.01f), eps = double(1e-7f), b2 = double(0.999f);
  REQUIRE(r.w[0] == Approx(1.0 - lr * 0.5 / (0.5 + eps / std::sqrt(1 - b2))).epsilon(1e-6));
  REQUIRE(r.w[1] == Approx(-2.0 + lr * 0.25 / (0.25 + eps / std::sqrt(1 - b2))).epsilon(1e-6));
  // With a constant gradient, m̂ = g and v̂ = g² at every step: each step moves by ≈ lr.
  r.step(frost::adam{.learning_rate = 0.01f}, 2);
  REQUIRE(r.w[0] == Approx(1.0 - 2 * lr).epsilon(1e-5));
}

TEST_CASE("adamw decays the weights by lr times weight_decay before the Adam step", "[train][optimizers]") {
  run r;
  r.step(frost::adamw{.learning_rate = 0.01f, .weight_decay = 0.1f}, 1);
  const double lr = double(0.01f), wd = double(0.1f), eps = double(1e-7f), b2 = double(0.999f);
  REQUIRE(r.w[0] == Approx(1.0 * (1 - wd * lr) - lr * 0.5 / (0.5 + eps / std::sqrt(1 - b2))).epsilon(1e-6));
}

TEST_CASE("rmsprop: plain, centered and with momentum", "[train][optimizers]") {
  const double lr = double(0.01f), rho = double(0.9f), eps = double(1e-7f);
  run r;
  r.step(frost::rmsprop{.learning_rate = 0.01f}, 1);
  // v = (1 − ρ) g²; w −= lr g / √(v + ε)
  REQUIRE(r.w[0] == Approx(1.0 - lr * 0.5 / std::sqrt((1 - rho) * 0.25 + eps)).epsilon(1e-6));
  run c;
  c.step(frost::rmsprop{.learning_rate = 0.01f, .centered = true}, 1);
  // a = (1 − ρ) g; v − a² = ρ (1 − ρ) g²
  REQUIRE(c.w[0] == Approx(1.0 - lr * 0.5 / std::sqrt(rho * (1 - rho) * 0.25 + eps)).epsilon(1e-6));
  run m;
  const frost::rmsprop mom{.learning_rate = 0.01f, .momentum = 0.5f};
  m.step(mom, 1);
  m.step(mom, 2);
  const double d1 = lr * 0.5 / std::sqrt((1 - rho) * 0.25 + eps);
  const double v2 = rho * (1 - rho) * 0.25 + (1 - rho) * 0.25;
  const double d2 = lr * 0.5 / std::sqrt(v2 + eps);
  REQUIRE(m.w[0] == Approx(1.0 - d1 - (0.5 * d1 + d2)).epsilon(1e-6));
}

TEST_CASE("optimizer specs carry Keras's defaults", "[train][optimizers]") {
  STATIC_REQUIRE(frost::sgd{}.learning_rate == 0.01f);
  STATIC_REQUIRE(frost::adam{}.learning_rate == 0.001f);
  STATIC_REQUIRE(frost::adam{}.beta_1 == 0.9f);
  STATIC_REQUIRE(frost::adam{}.beta_2 == 0.999f);
  STATIC_REQUIRE(frost::adam{}.epsilon == 1e-7f);
  STATIC_REQUIRE(frost::adamw{}.weight_decay == 0.004f);
  STATIC_REQUIRE(frost::rmsprop{}.rho == 0.9f);
  STATIC_REQUIRE(frost::rmsprop{}.learning_rate == 0.001f);
  STATIC_REQUIRE(!frost::sgd{}.nesterov);
}
