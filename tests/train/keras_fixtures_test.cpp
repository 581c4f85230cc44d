// frost against reference numbers computed independently with TensorFlow.js's Keras layers API
// (gradients) and Keras 3's optimizer formulas evaluated in double (updates):
// tests/fixtures/keras/generate.mjs wrote the headers included here.
#include <frost/frost.hpp>

#include "fixtures/keras/example1_reduce_sum.hpp"
#include "fixtures/keras/example2_adam.hpp"
#include "fixtures/keras/example2_all_trainable_adam.hpp"
#include "fixtures/keras/example3_bce_rmsprop.hpp"
#include "fixtures/keras/middle_frozen_sgd.hpp"
#include "fixtures/keras/sparse_sigmoid_sgd.hpp"
#include "fixtures/keras/tanh_mse_adamw.hpp"
#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>
#include <cmath>

namespace {

template <class View, class K, class B>
void load(View v, const K& k, const B& b) {
  REQUIRE(v.kernel().size() == k.size());
  REQUIRE(v.bias().size() == b.size());
  for (std::size_t i = 0; i < k.size(); ++i) v.kernel()[i] = static_cast<float>(k[i]);
  for (std::size_t i = 0; i < b.size(); ++i) v.bias()[i] = static_cast<float>(b[i]);
}

template <class R, class E>
void expect_close(const R& got, const E& expected, double eps = 2e-4, double margin = 2e-6) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("index " << i);
    REQUIRE(got[i] == Approx(expected[i]).epsilon(eps).margin(margin));
  }
}

template <class View, class K, class B>
void expect_layer(View v, const K& k, const B& b) {
  expect_close(v.kernel(), k);
  expect_close(v.bias(), b);
}

template <class M, class F>
void load_xy(frost::matrix<float, M::input_shape::size>& x, const F& fx) {
  for (std::size_t i = 0; i < fx.size(); ++i) x.data()[i] = static_cast<float>(fx[i]);
}

template <class M, class Loss, class Spec, class Target, class Losses, class CheckGrads>
void train_and_compare(M& m, Loss loss, Spec spec, const frost::matrix<float, M::input_shape::size>& x,
                       const Target& y, const Losses& expected_losses, CheckGrads&& check_grads) {
  auto tr = frost::make_trainer(m, loss, spec, x.rows());
  for (std::size_t s = 0; s < expected_losses.size(); ++s) {
    INFO("step " << s);
    const auto [value, grads] = frost::value_and_grad(m, loss, x, y);
    REQUIRE(value == Approx(expected_losses[s]).epsilon(1e-5));
    check_grads(s, grads);
    const float stepped = tr.step(x, y);
    REQUIRE(stepped == value);  // step returns the loss before its update, like train_on_batch
  }
}

}  // namespace

TEST_CASE("example 2 (layers 0, 1 frozen, Adam) matches the Keras reference", "[train][keras]") {
  namespace F = frost_fixtures::example2_adam;
  using net = frost::sequential<frost::input<100>, frost::frozen<frost::dense<64, frost::relu>>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<10, frost::softmax>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  load(m.layer<2>(), F::kernel_2, F::bias_2);
  frost::matrix<float, 100> x(F::rows);
  frost::matrix<float, 10> y(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::y.size(); ++i) y.data()[i] = static_cast<float>(F::y[i]);
  expect_close(m(x).values(), F::output, 1e-5, 1e-7);
  const std::array gk = {&F::grad_kernel_2_step_0, &F::grad_kernel_2_step_1};
  const std::array gb = {&F::grad_bias_2_step_0, &F::grad_bias_2_step_1};
  train_and_compare(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = float(F::learning_rate)}, x, y,
                    F::loss, [&](std::size_t s, const auto& g) {
                      STATIC_REQUIRE(std::is_same_v<decltype(g.template layer<0>()), frost::no_gradient>);
                      STATIC_REQUIRE(std::is_same_v<decltype(g.template layer<1>()), frost::no_gradient>);
                      expect_layer(g.template layer<2>(), *gk[s], *gb[s]);
                    });
  expect_layer(m.layer<0>(), F::final_kernel_0, F::final_bias_0);
  expect_layer(m.layer<1>(), F::final_kernel_1, F::final_bias_1);
  expect_layer(m.layer<2>(), F::final_kernel_2, F::final_bias_2);
}

TEST_CASE("example 2 with every layer trainable matches the Keras reference", "[train][keras]") {
  namespace F = frost_fixtures::example2_all_trainable_adam;
  using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                frost::dense<10, frost::softmax>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  load(m.layer<2>(), F::kernel_2, F::bias_2);
  frost::matrix<float, 100> x(F::rows);
  frost::matrix<float, 10> y(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::y.size(); ++i) y.data()[i] = static_cast<float>(F::y[i]);
  const std::array gk0 = {&F::grad_kernel_0_step_0, &F::grad_kernel_0_step_1};
  const std::array gb0 = {&F::grad_bias_0_step_0, &F::grad_bias_0_step_1};
  const std::array gk1 = {&F::grad_kernel_1_step_0, &F::grad_kernel_1_step_1};
  const std::array gb1 = {&F::grad_bias_1_step_0, &F::grad_bias_1_step_1};
  const std::array gk2 = {&F::grad_kernel_2_step_0, &F::grad_kernel_2_step_1};
  const std::array gb2 = {&F::grad_bias_2_step_0, &F::grad_bias_2_step_1};
  const std::vector<float> w0(m.trainable_parameters().begin(), m.trainable_parameters().end());
  std::vector<std::vector<float>> grads;  // frost's gradient of every parameter, per step
  train_and_compare(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = float(F::learning_rate)}, x, y,
                    F::loss, [&](std::size_t s, const auto& g) {
                      expect_layer(g.template layer<0>(), *gk0[s], *gb0[s]);
                      expect_layer(g.template layer<1>(), *gk1[s], *gb1[s]);
                      expect_layer(g.template layer<2>(), *gk2[s], *gb2[s]);
                      grads.emplace_back(g.values().begin(), g.values().end());
                    });
  // Adam's first steps divide by |g| + ε: where a gradient is a difference of large terms that
  // nearly cancel (|g| ~ 1e-6), a rounding that the gradient check above accepts moves the
  // weight by up to lr. So the final weights are checked twice: against Keras's formula applied
  // in double to frost's own (checked) gradients, tightly, for every weight; and against the
  // fixture where every step's gradient is well away from 0.
  const auto reference = frost_test::adam_reference(w0, grads, F::learning_rate, F::beta_1, F::beta_2, F::epsilon);
  const auto w = m.trainable_parameters();
  std::size_t conditioned = 0;
  std::vector<double> fixture(F::final_kernel_0.begin(), F::final_kernel_0.end());
  fixture.insert(fixture.end(), F::final_bias_0.begin(), F::final_bias_0.end());
  fixture.insert(fixture.end(), F::final_kernel_1.begin(), F::final_kernel_1.end());
  fixture.insert(fixture.end(), F::final_bias_1.begin(), F::final_bias_1.end());
  fixture.insert(fixture.end(), F::final_kernel_2.begin(), F::final_kernel_2.end());
  fixture.insert(fixture.end(), F::final_bias_2.begin(), F::final_bias_2.end());
  REQUIRE(fixture.size() == w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("parameter " << i);
    REQUIRE(w[i] == Approx(reference[i]).epsilon(1e-5).margin(1e-6));
    if (std::abs(grads[0][i]) > 1e-4 && std::abs(grads[1][i]) > 1e-4) {
      REQUIRE(w[i] == Approx(fixture[i]).epsilon(2e-4).margin(2e-6));
      ++conditioned;
    }
  }
  REQUIRE(conditioned > w.size() / 2);
}

TEST_CASE("a frozen middle layer passes gradient through (Nesterov SGD) as in Keras", "[train][keras]") {
  namespace F = frost_fixtures::middle_frozen_sgd;
  using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<10, frost::softmax>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  load(m.layer<2>(), F::kernel_2, F::bias_2);
  frost::matrix<float, 100> x(F::rows);
  frost::matrix<float, 10> y(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::y.size(); ++i) y.data()[i] = static_cast<float>(F::y[i]);
  const std::array gk0 = {&F::grad_kernel_0_step_0, &F::grad_kernel_0_step_1, &F::grad_kernel_0_step_2};
  const std::array gb0 = {&F::grad_bias_0_step_0, &F::grad_bias_0_step_1, &F::grad_bias_0_step_2};
  const std::array gk2 = {&F::grad_kernel_2_step_0, &F::grad_kernel_2_step_1, &F::grad_kernel_2_step_2};
  const std::array gb2 = {&F::grad_bias_2_step_0, &F::grad_bias_2_step_1, &F::grad_bias_2_step_2};
  const frost::sgd spec{.learning_rate = float(F::learning_rate), .momentum = float(F::momentum), .nesterov = F::nesterov};
  train_and_compare(m, frost::categorical_crossentropy{}, spec, x, y, F::loss, [&](std::size_t s, const auto& g) {
    expect_layer(g.template layer<0>(), *gk0[s], *gb0[s]);
    STATIC_REQUIRE(std::is_same_v<decltype(g.template layer<1>()), frost::no_gradient>);
    expect_layer(g.template layer<2>(), *gk2[s], *gb2[s]);
  });
  expect_layer(m.layer<0>(), F::final_kernel_0, F::final_bias_0);
  expect_layer(m.layer<1>(), F::final_kernel_1, F::final_bias_1);
  expect_layer(m.layer<2>(), F::final_kernel_2, F::final_bias_2);
}

TEST_CASE("example 3's network (sigmoid + binary crossentropy, centered RMSprop with momentum) matches Keras",
          "[train][keras]") {
  namespace F = frost_fixtures::example3_bce_rmsprop;
  using net = frost::sequential<frost::input<10>, frost::frozen<frost::dense<64, frost::relu>>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<1, frost::sigmoid>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  load(m.layer<2>(), F::kernel_2, F::bias_2);
  frost::matrix<float, 10> x(F::rows);
  frost::matrix<float, 1> y(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::y.size(); ++i) y.data()[i] = static_cast<float>(F::y[i]);
  const std::array gk = {&F::grad_kernel_2_step_0, &F::grad_kernel_2_step_1, &F::grad_kernel_2_step_2};
  const std::array gb = {&F::grad_bias_2_step_0, &F::grad_bias_2_step_1, &F::grad_bias_2_step_2};
  const frost::rmsprop spec{.learning_rate = float(F::learning_rate), .rho = float(F::rho),
                            .momentum = float(F::momentum), .epsilon = float(F::epsilon), .centered = F::centered};
  train_and_compare(m, frost::binary_crossentropy{}, spec, x, y, F::loss,
                    [&](std::size_t s, const auto& g) { expect_layer(g.template layer<2>(), *gk[s], *gb[s]); });
  expect_layer(m.layer<0>(), F::final_kernel_0, F::final_bias_0);
  expect_layer(m.layer<1>(), F::final_kernel_1, F::final_bias_1);
  expect_layer(m.layer<2>(), F::final_kernel_2, F::final_bias_2);
}

TEST_CASE("tanh + mean squared error with AdamW matches Keras", "[train][keras]") {
  namespace F = frost_fixtures::tanh_mse_adamw;
  using net = frost::sequential<frost::input<8>, frost::dense<16, frost::tanh_activation>, frost::dense<4>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  frost::matrix<float, 8> x(F::rows);
  frost::matrix<float, 4> y(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::y.size(); ++i) y.data()[i] = static_cast<float>(F::y[i]);
  const std::array gk0 = {&F::grad_kernel_0_step_0, &F::grad_kernel_0_step_1, &F::grad_kernel_0_step_2};
  const std::array gb0 = {&F::grad_bias_0_step_0, &F::grad_bias_0_step_1, &F::grad_bias_0_step_2};
  const std::array gk1 = {&F::grad_kernel_1_step_0, &F::grad_kernel_1_step_1, &F::grad_kernel_1_step_2};
  const std::array gb1 = {&F::grad_bias_1_step_0, &F::grad_bias_1_step_1, &F::grad_bias_1_step_2};
  const frost::adamw spec{.learning_rate = float(F::learning_rate), .weight_decay = float(F::weight_decay)};
  train_and_compare(m, frost::mean_squared_error{}, spec, x, y, F::loss, [&](std::size_t s, const auto& g) {
    expect_layer(g.template layer<0>(), *gk0[s], *gb0[s]);
    expect_layer(g.template layer<1>(), *gk1[s], *gb1[s]);
  });
  expect_layer(m.layer<0>(), F::final_kernel_0, F::final_bias_0);
  expect_layer(m.layer<1>(), F::final_kernel_1, F::final_bias_1);
}

TEST_CASE("sparse categorical crossentropy over a frozen sigmoid layer matches Keras", "[train][keras]") {
  namespace F = frost_fixtures::sparse_sigmoid_sgd;
  using net = frost::sequential<frost::input<12>, frost::frozen<frost::dense<6, frost::sigmoid>>,
                                frost::dense<5, frost::softmax>>;
  net m = net::init(0);
  load(m.layer<0>(), F::kernel_0, F::bias_0);
  load(m.layer<1>(), F::kernel_1, F::bias_1);
  frost::matrix<float, 12> x(F::rows);
  frost::matrix<int, 1> labels(F::rows);
  load_xy<net>(x, F::x);
  for (std::size_t i = 0; i < F::labels.size(); ++i) labels.data()[i] = F::labels[i];
  const std::array gk = {&F::grad_kernel_1_step_0, &F::grad_kernel_1_step_1};
  const std::array gb = {&F::grad_bias_1_step_0, &F::grad_bias_1_step_1};
  train_and_compare(m, frost::sparse_categorical_crossentropy{}, frost::sgd{.learning_rate = float(F::learning_rate)},
                    x, labels, F::loss,
                    [&](std::size_t s, const auto& g) { expect_layer(g.template layer<1>(), *gk[s], *gb[s]); });
  expect_layer(m.layer<0>(), F::final_kernel_0, F::final_bias_0);
  expect_layer(m.layer<1>(), F::final_kernel_1, F::final_bias_1);
}

TEST_CASE("example 1's layer and reduce_sum match Keras, frozen and trainable", "[train][keras]") {
  namespace F = frost_fixtures::example1_reduce_sum;
  using frozen_net = frost::sequential<frost::input<5>, frost::frozen<frost::dense<10, frost::relu>>>;
  using trainable_net = frost::sequential<frost::input<5>, frost::dense<10, frost::relu>>;
  frozen_net f = frozen_net::init(0);
  trainable_net t = trainable_net::init(0);
  load(f.layer<0>(), F::kernel_0, F::bias_0);
  load(t.layer<0>(), F::kernel_0, F::bias_0);
  frost::matrix<float, 5> x(F::rows);
  load_xy<frozen_net>(x, F::x);
  expect_close(f(x).values(), F::output, 1e-5, 1e-7);
  const auto [loss, grads] = frost::value_and_grad(f, frost::reduce_sum{}, x);
  REQUIRE(loss == Approx(F::forward_loss).epsilon(1e-6));
  STATIC_REQUIRE(std::is_same_v<decltype(grads.layer<0>()), frost::no_gradient>);
  STATIC_REQUIRE(decltype(grads)::size == 0);
  const auto [loss_t, grads_t] = frost::value_and_grad(t, frost::reduce_sum{}, x);
  REQUIRE(loss_t == loss);
  expect_layer(grads_t.layer<0>(), F::grad_kernel_0_if_trainable, F::grad_bias_0_if_trainable);
}
