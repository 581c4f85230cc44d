// Convolutional networks with batch normalization, pooling and dropout against reference numbers
// computed independently with TensorFlow.js's Keras layers API and Keras 3's update formulas
// (tests/fixtures/keras/generate.mjs): losses, gradients, moving statistics after every step,
// updated weights, and inference outputs before and after training.
#include <frost/frost.hpp>

#include "fixtures/keras/cnn_all_trainable_sgd.hpp"
#include "fixtures/keras/cnn_b_rmsprop.hpp"
#include "fixtures/keras/cnn_frozen_base_adam.hpp"
#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace {

using dspan = std::span<const double>;

// The arrays `<base>0`, `<base>1`, ... of a fixture, one per training step.
#define FROST_STEPS2(F, base) std::array<dspan, 2>{dspan(F::base##0), dspan(F::base##1)}
#define FROST_STEPS3(F, base) std::array<dspan, 3>{dspan(F::base##0), dspan(F::base##1), dspan(F::base##2)}

template <class R>
void expect_close(const R& got, dspan expected, double eps = 2e-4, double margin = 2e-6) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("index " << i);
    REQUIRE(got[i] == Approx(expected[i]).epsilon(eps).margin(margin));
  }
}

template <class Dst>
void copy_in(Dst&& dst, dspan src) {
  REQUIRE(dst.size() == src.size());
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<float>(src[i]);
}

template <class View>
void load_kernel(View v, dspan kernel, dspan bias) {
  copy_in(v.kernel(), kernel);
  copy_in(v.bias(), bias);
}

template <class View>
void load_bn(View v, dspan gamma, dspan beta, dspan mean, dspan var) {
  copy_in(v.gamma(), gamma);
  copy_in(v.beta(), beta);
  copy_in(v.moving_mean(), mean);
  copy_in(v.moving_variance(), var);
}

// cnn_a: Conv2D(4, 3x3) -> BatchNormalization(momentum 0.9) -> relu -> MaxPooling2D(2) ->
// Flatten -> Dropout(0) -> Dense(3, softmax), on 7x7x2.
template <template <class> class Frozen>
using cnn_a = frost::sequential<frost::input<7, 7, 2>, Frozen<frost::conv2d<4, 3, 3>>, Frozen<frost::batch_normalization<0.9f>>,
                                frost::activation<frost::relu>, frost::max_pooling2d<2, 2>, frost::flatten,
                                frost::dropout<0.f>, frost::dense<3, frost::softmax>>;
template <class L>
using as_is = L;


}  // namespace

TEST_CASE("Keras CNN, convolutional base frozen (Adam): outputs, losses, gradients, statistics and weights",
          "[train][keras][cnn]") {
  namespace F = frost_fixtures::cnn_frozen_base_adam;
  using net = cnn_a<frost::frozen>;
  STATIC_REQUIRE(net::trainable_param_count == 16 * 3 + 3);
  net m{net::init(0)};
  load_kernel(m.layer<0>(), F::kernel_0, F::bias_0);
  load_bn(m.layer<1>(), F::gamma_1, F::beta_1, F::moving_mean_1, F::moving_variance_1);
  load_kernel(m.layer<6>(), F::kernel_6, F::bias_6);
  frost::matrix<float, 7, 7, 2> x(F::rows);
  frost::matrix<float, 3> y(F::rows);
  copy_in(x.values(), F::x);
  copy_in(y.values(), F::y);
  expect_close(m(x).values(), F::output);

  const auto grad_kernel = FROST_STEPS3(F, grad_kernel_6_step_), grad_bias = FROST_STEPS3(F, grad_bias_6_step_);
  const auto mean = FROST_STEPS3(F, moving_mean_1_after_step_), var = FROST_STEPS3(F, moving_variance_1_after_step_);
  const auto kernel6 = FROST_STEPS3(F, kernel_6_after_step_), bias6 = FROST_STEPS3(F, bias_6_after_step_);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = float(F::optimizer::learning_rate)},
                                F::rows, frost::keep_gradients);
  // The same steps on the fused path (the default trainer): the same bits, so the fixtures hold
  // for it too.
  net fused_model = m;
  auto fused = frost::make_trainer(fused_model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = float(F::optimizer::learning_rate)}, F::rows);
  for (std::size_t s = 0; s < F::steps; ++s) {
    INFO("step " << s);
    const float loss = tr.step(x, y);
    REQUIRE(fused.step(x, y) == loss);
    REQUIRE(frost_test::same_bytes(fused_model.trainable_parameters(), m.trainable_parameters()));
    REQUIRE(frost_test::same_bytes(fused_model.state(), m.state()));
    REQUIRE(loss == Approx(F::loss[s]).epsilon(1e-5));
    expect_close(tr.last_gradients().layer<6>().kernel(), grad_kernel[s]);
    expect_close(tr.last_gradients().layer<6>().bias(), grad_bias[s]);
    STATIC_REQUIRE(std::is_same_v<decltype(tr.last_gradients().layer<1>()), frost::no_gradient>);
    // The frozen batch normalization ran in inference mode: its statistics are the initial ones.
    expect_close(m.layer<1>().moving_mean(), mean[s], 0, 0);
    expect_close(m.layer<1>().moving_variance(), var[s], 0, 0);
    expect_close(m.layer<6>().kernel(), kernel6[s]);
    expect_close(m.layer<6>().bias(), bias6[s]);
  }
  expect_close(m.layer<0>().kernel(), F::final_kernel_0, 0, 0);
  expect_close(m.layer<1>().gamma(), F::final_gamma_1, 0, 0);
  expect_close(m(x).values(), F::final_output);
}

TEST_CASE("Keras CNN, everything trainable (SGD with momentum): batch statistics and their moving averages",
          "[train][keras][cnn]") {
  namespace F = frost_fixtures::cnn_all_trainable_sgd;
  using net = cnn_a<as_is>;
  net m{net::init(0)};
  load_kernel(m.layer<0>(), F::kernel_0, F::bias_0);
  load_bn(m.layer<1>(), F::gamma_1, F::beta_1, F::moving_mean_1, F::moving_variance_1);
  load_kernel(m.layer<6>(), F::kernel_6, F::bias_6);
  frost::matrix<float, 7, 7, 2> x(F::rows);
  frost::matrix<float, 3> y(F::rows);
  copy_in(x.values(), F::x);
  copy_in(y.values(), F::y);
  expect_close(m(x).values(), F::output);

  const auto gk0 = FROST_STEPS3(F, grad_kernel_0_step_), gb0 = FROST_STEPS3(F, grad_bias_0_step_);
  const auto gg1 = FROST_STEPS3(F, grad_gamma_1_step_), gbe1 = FROST_STEPS3(F, grad_beta_1_step_);
  const auto gk6 = FROST_STEPS3(F, grad_kernel_6_step_), gb6 = FROST_STEPS3(F, grad_bias_6_step_);
  const auto mean = FROST_STEPS3(F, moving_mean_1_after_step_), var = FROST_STEPS3(F, moving_variance_1_after_step_);
  const auto k0 = FROST_STEPS3(F, kernel_0_after_step_), g1 = FROST_STEPS3(F, gamma_1_after_step_);
  const auto b1 = FROST_STEPS3(F, beta_1_after_step_), k6 = FROST_STEPS3(F, kernel_6_after_step_);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{},
                                frost::sgd{.learning_rate = float(F::optimizer::learning_rate),
                                           .momentum = float(F::optimizer::momentum)},
                                F::rows, frost::keep_gradients);
  // The same steps on the fused path (the default trainer): the same bits, so the fixtures hold
  // for it too.
  net fused_model = m;
  auto fused = frost::make_trainer(fused_model, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = float(F::optimizer::learning_rate), .momentum = float(F::optimizer::momentum)}, F::rows);
  for (std::size_t s = 0; s < F::steps; ++s) {
    INFO("step " << s);
    const float loss = tr.step(x, y);
    REQUIRE(fused.step(x, y) == loss);
    REQUIRE(frost_test::same_bytes(fused_model.trainable_parameters(), m.trainable_parameters()));
    REQUIRE(frost_test::same_bytes(fused_model.state(), m.state()));
    REQUIRE(loss == Approx(F::loss[s]).epsilon(1e-5));
    const auto& g = tr.last_gradients();
    expect_close(g.layer<0>().kernel(), gk0[s]);
    // The conv bias feeds a training-mode batch normalization: its gradient is 0 up to rounding.
    expect_close(g.layer<0>().bias(), gb0[s], 0, 1e-5);
    expect_close(g.layer<1>().gamma(), gg1[s]);
    expect_close(g.layer<1>().beta(), gbe1[s]);
    expect_close(g.layer<6>().kernel(), gk6[s]);
    expect_close(g.layer<6>().bias(), gb6[s]);
    expect_close(m.layer<1>().moving_mean(), mean[s], 1e-5, 1e-7);
    expect_close(m.layer<1>().moving_variance(), var[s], 1e-5, 1e-7);
    expect_close(m.layer<0>().kernel(), k0[s]);
    expect_close(m.layer<1>().gamma(), g1[s]);
    expect_close(m.layer<1>().beta(), b1[s]);
    expect_close(m.layer<6>().kernel(), k6[s]);
  }
  expect_close(m(x).values(), F::final_output);
}

TEST_CASE("Keras CNN with strides, same padding, average and global pooling (RMSprop)", "[train][keras][cnn]") {
  namespace F = frost_fixtures::cnn_b_rmsprop;
  using net = frost::sequential<frost::input<8, 8, 1>, frost::conv2d<3, 3, 3, frost::relu, frost::strides<2>, frost::padding::same>,
                                frost::batch_normalization<>, frost::average_pooling2d<2, 2>,
                                frost::conv2d<4, 2, 2, frost::tanh_activation, frost::padding::same>,
                                frost::global_average_pooling2d, frost::dense<2, frost::sigmoid>>;
  STATIC_REQUIRE(std::is_same_v<net::node_output_shape<4>, frost::shape<2, 2, 4>>);
  net m{net::init(0)};
  load_kernel(m.layer<0>(), F::kernel_0, F::bias_0);
  load_bn(m.layer<1>(), F::gamma_1, F::beta_1, F::moving_mean_1, F::moving_variance_1);
  load_kernel(m.layer<3>(), F::kernel_3, F::bias_3);
  load_kernel(m.layer<5>(), F::kernel_5, F::bias_5);
  frost::matrix<float, 8, 8, 1> x(F::rows);
  frost::matrix<float, 2> y(F::rows);
  copy_in(x.values(), F::x);
  copy_in(y.values(), F::y);
  expect_close(m(x).values(), F::output);

  const auto gk0 = FROST_STEPS2(F, grad_kernel_0_step_), gg1 = FROST_STEPS2(F, grad_gamma_1_step_);
  const auto gk3 = FROST_STEPS2(F, grad_kernel_3_step_), gk5 = FROST_STEPS2(F, grad_kernel_5_step_);
  const auto mean = FROST_STEPS2(F, moving_mean_1_after_step_), var = FROST_STEPS2(F, moving_variance_1_after_step_);
  const auto k3 = FROST_STEPS2(F, kernel_3_after_step_), b1 = FROST_STEPS2(F, beta_1_after_step_);
  auto tr = frost::make_trainer(m, frost::binary_crossentropy{}, frost::rmsprop{.learning_rate = float(F::optimizer::learning_rate)},
                                F::rows, frost::keep_gradients);
  // The same steps on the fused path (the default trainer): the same bits, so the fixtures hold
  // for it too.
  net fused_model = m;
  auto fused = frost::make_trainer(fused_model, frost::binary_crossentropy{}, frost::rmsprop{.learning_rate = float(F::optimizer::learning_rate)}, F::rows);
  for (std::size_t s = 0; s < F::steps; ++s) {
    INFO("step " << s);
    const float loss = tr.step(x, y);
    REQUIRE(fused.step(x, y) == loss);
    REQUIRE(frost_test::same_bytes(fused_model.trainable_parameters(), m.trainable_parameters()));
    REQUIRE(frost_test::same_bytes(fused_model.state(), m.state()));
    REQUIRE(loss == Approx(F::loss[s]).epsilon(1e-5));
    const auto& g = tr.last_gradients();
    expect_close(g.layer<0>().kernel(), gk0[s]);
    expect_close(g.layer<1>().gamma(), gg1[s]);
    expect_close(g.layer<3>().kernel(), gk3[s]);
    expect_close(g.layer<5>().kernel(), gk5[s]);
    expect_close(m.layer<1>().moving_mean(), mean[s], 1e-5, 1e-7);
    expect_close(m.layer<1>().moving_variance(), var[s], 1e-5, 1e-7);
    expect_close(m.layer<3>().kernel(), k3[s]);
    expect_close(m.layer<1>().beta(), b1[s]);
  }
  expect_close(m.layer<0>().kernel(), F::final_kernel_0);
  expect_close(m(x).values(), F::final_output);
}
