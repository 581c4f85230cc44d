#pragma once
// Test helpers: central differences, byte-wise comparison, deterministic fills.

#include <frost/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace frost_test {

/// Central difference of loss() with respect to w (w restored afterwards).
inline double numeric_grad(auto&& loss, double& w, double h = 1e-6) {
  const double w0 = w;
  w = w0 + h;
  const double up = loss();
  w = w0 - h;
  const double down = loss();
  w = w0;
  return (up - down) / (2 * h);
}

/// |a − n| ≤ tol · max(1, |a|, |n|).
inline bool close(double a, double n, double tol = 1e-6) {
  return std::abs(a - n) <= tol * std::max({1.0, std::abs(a), std::abs(n)});
}

/// Bit-for-bit equality of two spans' bytes (std::memcmp, never ==).
template <class A, class B>
bool same_bytes(const A& a, const B& b) {
  // memcmp must not see the null pointer of an empty span, even for zero bytes
  return a.size_bytes() == b.size_bytes() &&
         (a.size_bytes() == 0 || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

/// Fills with uniform values in [lo, hi) from a fixed seed.
template <class Range>
void fill_uniform(Range&& r, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  frost::random_stream rng(seed);
  for (auto& v : r) v = static_cast<std::remove_reference_t<decltype(v)>>(rng.uniform(lo, hi));
}

/// Keras 3's Adam (docs/optimizers.md) applied in double to `w0` with one gradient per step:
/// an independent reference for an optimizer's result.
inline std::vector<double> adam_reference(const std::vector<float>& w0, const std::vector<std::vector<float>>& grads,
                                          double lr, double beta_1, double beta_2, double epsilon) {
  std::vector<double> w(w0.begin(), w0.end()), m(w.size()), v(w.size());
  for (std::size_t t = 1; t <= grads.size(); ++t) {
    const double alpha = lr * std::sqrt(1 - std::pow(beta_2, double(t))) / (1 - std::pow(beta_1, double(t)));
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double g = grads[t - 1][i];
      m[i] += (g - m[i]) * (1 - beta_1);
      v[i] += (g * g - v[i]) * (1 - beta_2);
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + epsilon);
    }
  }
  return w;
}

}  // namespace frost_test

#include <frost/train/value_and_grad.hpp>

#include <catch2/catch.hpp>

namespace frost_test {

/// Checks every trainable parameter's analytic gradient (value_and_grad) against a central
/// difference of the loss, in whatever scalar type the model uses (double for these checks).
/// Returns the number of parameters checked.
/// `x`: one matrix, or `std::tie(a, b)` for a model with several inputs.
/// Every evaluation restarts the random stream, so dropout draws the same mask each time.
template <class Model, class Loss, class X, class... Target>
std::size_t check_model_gradients(Model& model, Loss loss, const X& x, const Target&... y) {
  auto evaluate = [&] {
    frost::set_random_seed(0x5eed);
    return frost::value_and_grad(model, loss, x, y...);
  };
  auto [value, grads] = evaluate();
  (void)value;
  auto params = model.trainable_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    double& w = params[i];
    const double numeric = numeric_grad([&] { return evaluate().loss; }, w);
    INFO("parameter " << i << ": analytic " << grads.values()[i] << ", numeric " << numeric);
    REQUIRE(close(grads.values()[i], numeric, 1e-6));
  }
  return params.size();
}

}  // namespace frost_test
