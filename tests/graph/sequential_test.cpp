#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace {
using rows = std::vector<std::vector<double>>;

// One dense layer by hand in double, from the layer's public views (kernel [in][out], row-major):
// out(i, j) = act(bias[j] + Σₖ in(i, k) · kernel[k · units + j]).
template <class Layer>
rows dense_by_hand(const rows& in, const Layer& layer, double (*act)(double)) {
  const auto kernel = layer.kernel();
  const auto bias = layer.bias();
  const std::size_t units = bias.size(), inputs = kernel.size() / units;
  rows out(in.size(), std::vector<double>(units));
  for (std::size_t i = 0; i < in.size(); ++i) {
    for (std::size_t j = 0; j < units; ++j) {
      double z = bias[j];
      for (std::size_t k = 0; k < inputs; ++k) z += in[i][k] * double(kernel[k * units + j]);
      out[i][j] = act(z);
    }
  }
  return out;
}

double relu_by_hand(double z) { return z > 0 ? z : 0; }
double linear_by_hand(double z) { return z; }

// The 100-64-32-10 network of the public API by hand: the last hidden layer's output h2 and the
// softmax probabilities p.
struct api_forward {
  rows h2, p;
};
template <class Model>
api_forward api_forward_by_hand(const Model& m, const frost::matrix<float, 100>& x) {
  rows in(x.rows(), std::vector<double>(100));
  for (std::size_t i = 0; i < x.rows(); ++i)
    for (std::size_t k = 0; k < 100; ++k) in[i][k] = x(i, k);
  const rows h1 = dense_by_hand(in, m.template layer<0>(), relu_by_hand);
  rows h2 = dense_by_hand(h1, m.template layer<1>(), relu_by_hand);
  rows p = dense_by_hand(h2, m.template layer<2>(), linear_by_hand);
  for (auto& row : p) {
    const double top = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (double& v : row) sum += v = std::exp(v - top);
    for (double& v : row) v /= sum;
  }
  return {std::move(h2), std::move(p)};
}

// Keras's categorical crossentropy for one-hot rows: the mean of −log clip(p of the label).
double crossentropy_by_hand(const rows& p, const std::vector<std::size_t>& labels) {
  double sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) sum -= std::log(std::clamp(p[i][labels[i]], 1e-7, 1 - 1e-7));
  return sum / double(p.size());
}

// Softmax + crossentropy: dL/dz = (p − y)/N, so dL/dW2[k][j] = Σᵢ h2(i, k) (p(i, j) − y(i, j)) / N
// and dL/db2[j] = Σᵢ (p(i, j) − y(i, j)) / N.
std::vector<double> head_gradient_by_hand(const api_forward& f, const std::vector<std::size_t>& labels) {
  const std::size_t n = f.p.size();
  std::vector<double> g(32 * 10 + 10, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 10; ++j) {
      const double dz = (f.p[i][j] - (labels[i] == j ? 1.0 : 0.0)) / double(n);
      for (std::size_t k = 0; k < 32; ++k) g[k * 10 + j] += f.h2[i][k] * dz;
      g[320 + j] += dz;
    }
  }
  return g;
}

// Keras's first Adam step (t = 1, m = v = 0 before): w − α·m/(√v + ε) with m = (1 − β₁)g,
// v = (1 − β₂)g², α = lr·√(1 − β₂)/(1 − β₁).
double adam_first_step_by_hand(double w, double g, double lr) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
  const double m = (1 - b1) * g, v = (1 - b2) * g * g;
  return w - lr * std::sqrt(1 - b2) / (1 - b1) * m / (std::sqrt(v) + eps);
}

template <class Span>
std::vector<float> copy_of(Span s) {
  return {s.begin(), s.end()};
}
}  // namespace

// The code block of DESIGN.md's "The public API" (the functional parts aside), with x and y
// filled and every result checked against a computation by hand in double from the layers'
// weights.
TEST_CASE("the public API compiles and runs as documented", "[graph][sequential]") {
  using namespace frost;

  using Net = sequential<input<100>,
                         dense<64, relu>,
                         dense<32, relu>,
                         dense<10, softmax>>;
  Net net = Net::init(42);

  auto ft = freeze<0, 1>(std::move(net));
  static_assert(std::is_same_v<decltype(ft),
      sequential<input<100>, frozen<dense<64, relu>>, frozen<dense<32, relu>>, dense<10, softmax>>>);

  static_assert(decltype(ft)::trainable_param_count == 32 * 10 + 10);
  static_assert(decltype(ft)::frozen_param_count == 100 * 64 + 64 + 64 * 32 + 32);

  std::span<float, 100 * 64> k = ft.layer<0>().kernel();
  std::span<float, 64>       b = ft.layer<0>().bias();
  REQUIRE(k.data() == ft.frozen_parameters().data());
  REQUIRE(b.data() == ft.frozen_parameters().data() + 100 * 64);

  matrix<float, 100> x(4);
  matrix<float, 10>  y(4);
  frost_test::fill_uniform(x.values(), 17);
  const std::vector<std::size_t> labels = {3, 7, 0, 9};
  for (std::size_t i = 0; i < 4; ++i) y(i, labels[i]) = 1.f;
  matrix<float, 10>  p = ft(x);

  const api_forward before = api_forward_by_hand(ft, x);
  REQUIRE(p.rows() == 4);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 10; ++j) REQUIRE(p(i, j) == Approx(before.p[i][j]).epsilon(1e-4));

  auto [loss, grads] = value_and_grad(ft, categorical_crossentropy{}, x, y);
  static_assert(std::is_same_v<decltype(grads.layer<0>()), no_gradient>);
  static_assert(decltype(grads)::size == decltype(ft)::trainable_param_count);
  std::span<float, 32 * 10> gk = grads.layer<2>().kernel();

  REQUIRE(loss == Approx(crossentropy_by_hand(before.p, labels)).epsilon(1e-5));
  const std::vector<double> g = head_gradient_by_hand(before, labels);
  for (std::size_t i = 0; i < 320; ++i) REQUIRE(gk[i] == Approx(g[i]).epsilon(1e-4).margin(1e-6));
  for (std::size_t j = 0; j < 10; ++j) REQUIRE(grads.layer<2>().bias()[j] == Approx(g[320 + j]).epsilon(1e-4).margin(1e-6));

  const std::vector<float> frozen_before = copy_of(ft.frozen_parameters());
  const std::vector<float> head_before = copy_of(ft.trainable_parameters());

  auto opt = make_optimizer(ft, adam{.learning_rate = 0.01f});
  static_assert(decltype(opt)::state_size == 2 * decltype(ft)::trainable_param_count);
  opt.apply_gradients(ft, grads);

  REQUIRE(frost_test::same_bytes(ft.frozen_parameters(), std::span(frozen_before)));
  // Keras's first Adam step, from the gradients checked above. (From frost's gradients rather than
  // the hand-computed ones: the step is lr·g/(|g| + 3.2e-6), so float rounding in a g near zero
  // would move the expected weight by more than the update's own error.)
  for (std::size_t i = 0; i < head_before.size(); ++i)
    REQUIRE(ft.trainable_parameters()[i] ==
            Approx(adam_first_step_by_hand(head_before[i], grads.values()[i], 0.01)).margin(1e-6));

  const api_forward after_adam = api_forward_by_hand(ft, x);
  const std::vector<float> head_after_adam = copy_of(ft.trainable_parameters());

  auto tr = make_trainer(ft, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, /*max_batch=*/256,
                         keep_gradients);
  float l = tr.step(x, y);

  // The step returns the loss before its update, computes the gradients at the weights Adam
  // left, and applies a fresh Adam's first step with them.
  REQUIRE(l == Approx(crossentropy_by_hand(after_adam.p, labels)).epsilon(1e-5));
  REQUIRE(l < loss);  // one Adam step on these 4 samples lowered the loss
  const auto step_grads = tr.last_gradients().values();
  const std::vector<double> g_after_adam = head_gradient_by_hand(after_adam, labels);
  for (std::size_t i = 0; i < g_after_adam.size(); ++i)
    REQUIRE(step_grads[i] == Approx(g_after_adam[i]).epsilon(1e-4).margin(1e-6));
  REQUIRE(frost_test::same_bytes(ft.frozen_parameters(), std::span(frozen_before)));
  for (std::size_t i = 0; i < head_after_adam.size(); ++i)
    REQUIRE(ft.trainable_parameters()[i] ==
            Approx(adam_first_step_by_hand(head_after_adam[i], step_grads[i], 0.01)).margin(1e-6));
  const std::vector<float> trainable_before_unfreeze = copy_of(ft.trainable_parameters());

  auto back = unfreeze<1>(std::move(ft));
  static_assert(std::is_same_v<decltype(back),
      sequential<input<100>, frozen<dense<64, relu>>, dense<32, relu>, dense<10, softmax>>>);

  // Unfreezing moves the weights over unchanged: layer 1's go from the frozen arena to the
  // trainable one, in front of layer 2's.
  REQUIRE(k.size() == 6400);
  REQUIRE(b.size() == 64);
  REQUIRE(gk.size() == 320);
  REQUIRE(back.trainable_param_count == 64 * 32 + 32 + 330);
  const std::span<const float> frozen_all(frozen_before);
  REQUIRE(frost_test::same_bytes(back.frozen_parameters(), frozen_all.first(100 * 64 + 64)));
  REQUIRE(frost_test::same_bytes(back.trainable_parameters().first(64 * 32 + 32), frozen_all.subspan(100 * 64 + 64)));
  REQUIRE(frost_test::same_bytes(back.trainable_parameters().subspan(64 * 32 + 32), std::span(trainable_before_unfreeze)));
}

TEST_CASE("init(seed) is deterministic per layer, whatever is frozen", "[graph][sequential]") {
  using net = frost::sequential<frost::input<5>, frost::dense<4, frost::relu>, frost::dense<3>>;
  using half = frost::sequential<frost::input<5>, frost::frozen<frost::dense<4, frost::relu>>, frost::dense<3>>;
  net a = net::init(9);
  half b = half::init(9);
  REQUIRE(frost_test::same_bytes(a.layer<0>().kernel(), b.layer<0>().kernel()));
  REQUIRE(frost_test::same_bytes(a.layer<1>().kernel(), b.layer<1>().kernel()));
  net c;  // default: init(0)
  net d = net::init(0);
  REQUIRE(frost_test::same_bytes(c.layer<1>().kernel(), d.layer<1>().kernel()));
  // ... and the seed matters: another seed gives other kernels, and the kernels are Keras's
  // glorot_uniform (within ±√(6 / (fan_in + fan_out)), filling that range) with zero biases.
  REQUIRE_FALSE(frost_test::same_bytes(a.layer<0>().kernel(), c.layer<0>().kernel()));
  REQUIRE_FALSE(frost_test::same_bytes(a.layer<1>().kernel(), c.layer<1>().kernel()));
  const auto check_glorot = [](auto kernel, auto bias, double fan_in, double fan_out) {
    const double limit = std::sqrt(6 / (fan_in + fan_out));
    double largest = 0;
    for (float w : kernel) largest = std::max(largest, double(std::abs(w)));
    CAPTURE(limit, largest);
    REQUIRE(largest <= limit);
    REQUIRE(largest > limit / 2);
    for (float v : bias) REQUIRE(v == 0.f);
  };
  check_glorot(a.layer<0>().kernel(), a.layer<0>().bias(), 5, 4);
  check_glorot(a.layer<1>().kernel(), a.layer<1>().bias(), 4, 3);
  check_glorot(c.layer<0>().kernel(), c.layer<0>().bias(), 5, 4);
}

TEST_CASE("layer views point into the trainable and frozen arenas", "[graph][sequential]") {
  using net = frost::sequential<frost::input<3>, frost::frozen<frost::dense<2>>, frost::dense<4>>;
  net m = net::init(1);
  REQUIRE(m.layer<0>().kernel().data() == m.frozen_parameters().data());
  REQUIRE(m.layer<0>().bias().data() == m.frozen_parameters().data() + 6);
  REQUIRE(m.layer<1>().kernel().data() == m.trainable_parameters().data());
  REQUIRE(m.layer<1>().bias().data() == m.trainable_parameters().data() + 8);
  STATIC_REQUIRE(decltype(m.trainable_parameters())::extent == 12);
}

TEST_CASE("inference writes the model output and leaves the model unchanged", "[graph][sequential]") {
  using net = frost::sequential<frost::input<6>, frost::dense<5, frost::tanh_activation>, frost::dense<2, frost::sigmoid>>;
  const net m = net::init(2);
  frost::matrix<float, 6> x(7);
  frost_test::fill_uniform(x.values(), 3);
  const std::vector<float> trainable_before = copy_of(m.trainable_parameters());
  const auto y = m(x);
  REQUIRE(frost_test::same_bytes(m.trainable_parameters(), std::span(trainable_before)));
  REQUIRE(y.rows() == 7);
  // Recompute by hand in double.
  for (std::size_t i = 0; i < 7; ++i) {
    double h[5];
    for (std::size_t j = 0; j < 5; ++j) {
      double z = m.layer<0>().bias()[j];
      for (std::size_t k = 0; k < 6; ++k) z += double(x(i, k)) * m.layer<0>().kernel()[k * 5 + j];
      h[j] = std::tanh(z);
    }
    for (std::size_t j = 0; j < 2; ++j) {
      double z = m.layer<1>().bias()[j];
      for (std::size_t k = 0; k < 5; ++k) z += h[k] * m.layer<1>().kernel()[k * 2 + j];
      REQUIRE(y(i, j) == Approx(1 / (1 + std::exp(-z))).epsilon(1e-5));
    }
  }
}
