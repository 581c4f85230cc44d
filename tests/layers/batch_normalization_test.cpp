// Batch normalization with Keras's semantics: batch statistics and the momentum update in a
// training-mode pass, moving statistics in inference, and a frozen layer that is the fixed
// affine of its weights, never updated. Expected values are computed here in double from the
// definitions.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

namespace {

using conv_bn = frost::sequential<frost::input<6, 5, 2>, frost::conv2d<3, 2, 2>, frost::batch_normalization<0.9f>,
                                  frost::activation<frost::tanh_activation>, frost::flatten, frost::dense<2, frost::softmax>>;

template <class Model>
void set_bn_weights(Model& m) {
  auto bn = m.template layer<1>();
  for (std::size_t c = 0; c < 3; ++c) {
    bn.gamma()[c] = 0.6f + 0.3f * float(c);
    bn.beta()[c] = -0.1f + 0.1f * float(c);
    bn.moving_mean()[c] = 0.05f * float(c + 1);
    bn.moving_variance()[c] = 0.7f + 0.2f * float(c);
  }
}

frost::matrix<float, 6, 5, 2> data(std::size_t rows, std::uint64_t seed) {
  frost::matrix<float, 6, 5, 2> x(rows);
  frost_test::fill_uniform(x.values(), seed);
  return x;
}

frost::matrix<float, 2> targets(std::size_t rows) {
  frost::matrix<float, 2> y(rows);
  for (std::size_t i = 0; i < rows; ++i) y(i, i % 2) = 1.f;
  return y;
}

// The conv layer's output (BN's input) for x, as double: the model's first layer alone.
template <class Model>
std::vector<double> conv_output(const Model& m, const frost::matrix<float, 6, 5, 2>& x) {
  frost::sequential<frost::input<6, 5, 2>, frost::conv2d<3, 2, 2>> first{frost::sequential<frost::input<6, 5, 2>, frost::conv2d<3, 2, 2>>::init(0)};
  std::copy(m.template layer<0>().kernel().begin(), m.template layer<0>().kernel().end(), first.layer<0>().kernel().begin());
  std::copy(m.template layer<0>().bias().begin(), m.template layer<0>().bias().end(), first.layer<0>().bias().begin());
  const auto z = first(x);
  return std::vector<double>(z.data(), z.data() + z.size());
}

}  // namespace

TEST_CASE("batch_normalization: weights, Keras defaults, parameter and state counts", "[layers][batch_normalization]") {
  using d = frost::batch_normalization<>;
  STATIC_REQUIRE(d::momentum == 0.99f);
  STATIC_REQUIRE(d::epsilon == 1e-3f);
  auto m = conv_bn::init(1);
  STATIC_REQUIRE(conv_bn::state_count == 2 * 3);
  STATIC_REQUIRE(conv_bn::trainable_param_count == (2 * 2 * 2 * 3 + 3) + 2 * 3 + (5 * 4 * 3 * 2 + 2));
  auto bn = m.layer<1>();
  STATIC_REQUIRE(std::is_same_v<decltype(bn.gamma()), std::span<float, 3>>);
  STATIC_REQUIRE(std::is_same_v<decltype(bn.moving_variance()), std::span<float, 3>>);
  for (std::size_t c = 0; c < 3; ++c) {
    REQUIRE(bn.gamma()[c] == 1.f);
    REQUIRE(bn.beta()[c] == 0.f);
    REQUIRE(bn.moving_mean()[c] == 0.f);
    REQUIRE(bn.moving_variance()[c] == 1.f);
  }
  // Keras counts the moving statistics as non-trainable parameters.
  const std::string s = frost::summary_string(m);
  REQUIRE(s.find("batch_normalization (BatchNormalization)") != std::string::npos);
  REQUIRE(s.find("Non-trainable params: 6\n") != std::string::npos);
  auto f = frost::freeze<0, 1>(std::move(m));
  const std::string sf = frost::summary_string(f);
  REQUIRE(sf.find("Non-trainable params: " + std::to_string(27 + 6 + 6) + "\n") != std::string::npos);
  // Gradients of a trainable batch normalization: gamma and beta only.
  auto g = frost::value_and_grad(conv_bn::init(1), frost::categorical_crossentropy{}, data(3, 1), targets(3)).grads;
  STATIC_REQUIRE(std::is_same_v<decltype(g.layer<1>()), frost::batch_normalization_gradients<float, 3>>);
}

TEST_CASE("batch_normalization: a training-mode pass uses batch statistics and updates the moving ones with the momentum formula",
          "[layers][batch_normalization][semantics]") {
  auto m = conv_bn::init(2);
  set_bn_weights(m);
  const auto x = data(4, 3);
  const std::vector<float> mean0(m.layer<1>().moving_mean().begin(), m.layer<1>().moving_mean().end());
  const std::vector<float> var0(m.layer<1>().moving_variance().begin(), m.layer<1>().moving_variance().end());
  const auto z = conv_output(m, x);  // rows × 5 × 4 × 3
  const std::size_t positions = z.size() / 3;
  std::vector<double> mean(3), var(3);
  for (std::size_t i = 0; i < positions; ++i)
    for (std::size_t c = 0; c < 3; ++c) mean[c] += z[i * 3 + c] / double(positions);
  for (std::size_t i = 0; i < positions; ++i)
    for (std::size_t c = 0; c < 3; ++c) var[c] += (z[i * 3 + c] - mean[c]) * (z[i * 3 + c] - mean[c]) / double(positions);

  frost::value_and_grad(m, frost::categorical_crossentropy{}, x, targets(4));
  for (std::size_t c = 0; c < 3; ++c) {
    INFO("channel " << c);
    REQUIRE(frost_test::close(m.layer<1>().moving_mean()[c], 0.9 * mean0[c] + 0.1 * mean[c], 1e-5));
    REQUIRE(frost_test::close(m.layer<1>().moving_variance()[c], 0.9 * var0[c] + 0.1 * var[c], 1e-5));
  }
  // Inference reads the moving statistics and changes nothing.
  const std::vector<float> state(m.state().begin(), m.state().end());
  (void)m(x);
  REQUIRE(frost_test::same_bytes(std::span<const float>(state), std::span<const float>(m.state())));
  // A trainer step updates them once more.
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 8);
  tr.step(x, targets(4));
  REQUIRE_FALSE(frost_test::same_bytes(std::span<const float>(state), std::span<const float>(m.state())));
}

TEST_CASE("batch_normalization: inference and the frozen layer are the per-channel affine of the weights",
          "[layers][batch_normalization][semantics]") {
  auto m = conv_bn::init(3);
  set_bn_weights(m);
  const auto x = data(3, 4);
  using just_bn = frost::basic_sequential<double, frost::input<5, 4, 3>, frost::batch_normalization<0.9f>>;
  using just_frozen = frost::basic_sequential<double, frost::input<5, 4, 3>, frost::frozen<frost::batch_normalization<0.9f>>>;
  STATIC_REQUIRE(std::is_same_v<just_frozen::node_spec<1>, frost::detail::frozen_batch_normalization<0.9f, 1e-3f>>);
  auto bn = just_bn::init(0);
  auto fbn = just_frozen::init(0);
  frost::matrix<double, 5, 4, 3> z(3);
  frost_test::fill_uniform(z.values(), 7, -2, 2);
  const double gamma[3] = {0.5, 1.5, -0.75}, beta[3] = {0.1, -0.2, 0.3}, mean[3] = {0.2, -0.1, 0.4}, var[3] = {0.5, 2.0, 1.1};
  for (std::size_t c = 0; c < 3; ++c) {
    bn.layer<0>().gamma()[c] = fbn.layer<0>().gamma()[c] = gamma[c];
    bn.layer<0>().beta()[c] = fbn.layer<0>().beta()[c] = beta[c];
    bn.layer<0>().moving_mean()[c] = fbn.layer<0>().moving_mean()[c] = mean[c];
    bn.layer<0>().moving_variance()[c] = fbn.layer<0>().moving_variance()[c] = var[c];
  }
  const auto a = bn(z), b = fbn(z);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const std::size_t c = i % 3;
    const double expected = (z.data()[i] - mean[c]) / std::sqrt(var[c] + double(1e-3f)) * gamma[c] + beta[c];
    REQUIRE(frost_test::close(a.data()[i], expected, 1e-12));
    REQUIRE(frost_test::close(b.data()[i], expected, 1e-12));
  }
  // In a training-mode pass the frozen layer is still that affine: the gradient it passes down
  // is dL/dy · gamma / sqrt(var + eps), and its statistics do not move.
  auto [loss, grads] = frost::value_and_grad(fbn, frost::reduce_sum{}, z);
  (void)loss;
  STATIC_REQUIRE(std::is_same_v<decltype(grads.layer<0>()), frost::no_gradient>);
  REQUIRE(fbn.layer<0>().moving_mean()[1] == mean[1]);
  REQUIRE(fbn.layer<0>().moving_variance()[2] == var[2]);
}

TEST_CASE("batch_normalization: frozen, its statistics and weights stay bit-unchanged through training steps",
          "[layers][batch_normalization][semantics]") {
  auto m = conv_bn::init(4);
  set_bn_weights(m);
  auto f = frost::freeze<0, 1>(std::move(m));
  using F = decltype(f);
  STATIC_REQUIRE(F::state_count == 6);
  STATIC_REQUIRE(F::trainable_param_count == 5 * 4 * 3 * 2 + 2);
  const std::vector<float> state(f.state().begin(), f.state().end());
  const std::vector<float> frozen(f.frozen_parameters().begin(), f.frozen_parameters().end());
  auto tr = frost::make_trainer(f, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.05f}, 8);
  for (int s = 0; s < 5; ++s) tr.step(data(5, 10 + s), targets(5));
  REQUIRE(frost_test::same_bytes(std::span<const float>(state), std::span<const float>(f.state())));
  REQUIRE(frost_test::same_bytes(std::span<const float>(frozen), std::span<const float>(f.frozen_parameters())));
  // Its forward in a training pass is its inference forward: the loss a step reports equals the
  // inference loss of the same model.
  const auto x = data(5, 99);
  const auto p = f(x);
  double expected = 0;
  for (std::size_t i = 0; i < 5; ++i) expected -= std::log(double(p(i, i % 2))) / 5;
  auto tr2 = frost::make_trainer(f, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.f}, 8);
  REQUIRE(frost_test::close(tr2.step(x, targets(5)), expected, 1e-5));
}

TEST_CASE("batch_normalization: gradients match finite differences in double, trainable and frozen",
          "[layers][batch_normalization][gradients]") {
  frost::matrix<double, 6, 5, 2> x(4);
  frost_test::fill_uniform(x.values(), 12);
  frost::matrix<double, 2> y(4);
  frost_test::fill_uniform(y.values(), 13, 0.1, 0.9);
  using net = frost::basic_sequential<double, frost::input<6, 5, 2>, frost::conv2d<3, 2, 2>, frost::batch_normalization<>,
                                      frost::activation<frost::tanh_activation>, frost::conv2d<2, 2, 2>,
                                      frost::batch_normalization<0.9f, 1e-2f>, frost::flatten, frost::dense<2>>;
  auto m = net::init(5);
  auto bn = m.layer<1>();
  for (std::size_t c = 0; c < 3; ++c) {
    bn.gamma()[c] = 0.7 + 0.2 * double(c);
    bn.beta()[c] = 0.1 * double(c);
  }
  REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  // Frozen in the middle: the gradient flows through its affine to the trainable conv below.
  auto f = frost::freeze<1>(net::init(5));
  f.layer<1>().moving_mean()[0] = 0.3;
  f.layer<1>().moving_variance()[2] = 2.5;
  REQUIRE(frost_test::check_model_gradients(f, frost::mean_squared_error{}, x, y) == decltype(f)::trainable_param_count);
  // Dense-layer inputs (rank 1): one channel per feature.
  using flat = frost::basic_sequential<double, frost::input<5>, frost::dense<4, frost::tanh_activation>, frost::batch_normalization<>,
                                       frost::dense<2>>;
  frost::matrix<double, 5> xf(6);
  frost_test::fill_uniform(xf.values(), 14);
  frost::matrix<double, 2> yf(6);
  auto mf = flat::init(6);
  REQUIRE(frost_test::check_model_gradients(mf, frost::mean_squared_error{}, xf, yf) == flat::trainable_param_count);
}

TEST_CASE("batch_normalization: a const model cannot run a training-mode pass (its statistics would change)",
          "[layers][batch_normalization]") {
  using plain = frost::sequential<frost::input<4>, frost::dense<2>>;
  STATIC_REQUIRE(frost::detail::model_state_writable<const plain, plain::state_count>);
  STATIC_REQUIRE_FALSE(frost::detail::model_state_writable<const conv_bn, conv_bn::state_count>);
  STATIC_REQUIRE(frost::detail::model_state_writable<conv_bn, conv_bn::state_count>);
}
