#include <frost/frost.hpp>

#include "support/layer_laws.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <type_traits>

using namespace frost;

TEST_CASE("dense with expression activations passes the layer laws", "[layers][activation]") {
  frost_test::check_layer_laws<dense<3, swish>, 5, 3>();
  frost_test::check_layer_laws<dense<3, gelu>, 5, 3>();
  frost_test::check_layer_laws<dense<3, softplus>, 5, 3>();
  frost_test::check_layer_laws<dense<3, elu>, 5, 3>();
  frost_test::check_layer_laws<dense<3, selu>, 5, 3>();
  frost_test::check_layer_laws<dense<3, leaky_relu>, 5, 3>();
  frost_test::check_layer_laws<dense<3, hard_sigmoid>, 5, 3>();
  frost_test::check_layer_laws<dense<3, relu(_x)>, 5, 3>();
  frost_test::check_layer_laws<dense<3, sigmoid(_x)>, 5, 3>();
  frost_test::check_layer_laws<dense<3, _x * tanh(log1p(exp(_x)))>, 5, 3>();  // mish
}

TEST_CASE("activation<f> passes the layer laws with built-ins and expressions", "[layers][activation]") {
  frost_test::check_layer_laws<activation<swish>, 5, 5>();
  frost_test::check_layer_laws<activation<gelu>, 4, 4>();
  frost_test::check_layer_laws<activation<tanh_activation>, 4, 4>();
  frost_test::check_layer_laws<activation<sigmoid>, 4, 4>();
  frost_test::check_layer_laws<activation<softmax>, 4, 4>();
  frost_test::check_layer_laws<activation<exp(_x)>, 3, 3>();
}

TEST_CASE("the plan keeps what each activation's derivative reads", "[layers][activation]") {
  // Built-in sigmoid and sigmoid written as an expression both read only the output y.
  using builtin = sequential<input<6>, dense<8, sigmoid>, dense<2>>;
  using written = sequential<input<6>, dense<8, sigmoid(_x)>, dense<2>>;
  STATIC_REQUIRE(builtin::plan.kept_per_sample == 8 + 2);
  STATIC_REQUIRE(written::plan.kept_per_sample == builtin::plan.kept_per_sample);
  // relu(_x)' = [x ≥ 0] reads z: the layer keeps z (8) besides its output.
  using relu_expr = sequential<input<6>, dense<8, relu(_x)>, dense<2>>;
  STATIC_REQUIRE(relu_expr::plan.kept_per_sample == 8 + 8 + 2);
  STATIC_REQUIRE(relu_expr::plan.extra_offset[1] != relu_expr::plan.npos);
  // swish reads z: kept, and its output is kept only because the next layer's dW reads it.
  using swish_net = sequential<input<6>, dense<8, swish>, dense<2>>;
  STATIC_REQUIRE(swish_net::plan.kept_per_sample == 8 + 8 + 2);
  using swish_frozen_head = sequential<input<6>, dense<8, swish>, frozen<dense<2>>>;
  STATIC_REQUIRE(swish_frozen_head::plan.kept_per_sample == 8 + 2);  // z and the output, not y of layer 0
  // exp reads its own output, not its input: the dense layer before it (node 1) computes its
  // weight gradient from the model input, so its output z is not kept; exp's output (node 2) is.
  using exp_layer = sequential<input<6>, dense<8>, activation<exp(_x)>, dense<2>>;
  STATIC_REQUIRE(exp_layer::plan.keeps_output[2]);
  STATIC_REQUIRE(!exp_layer::plan.keeps_output[1]);
  STATIC_REQUIRE(exp_layer::plan.kept_per_sample == 8 + 2);
  // A derivative that reads its input keeps it: activation<swish> after a trainable dense.
  using swish_layer = sequential<input<6>, dense<8>, activation<swish>, dense<2>>;
  STATIC_REQUIRE(swish_layer::plan.keeps_output[1]);
  using frozen_prefix = sequential<input<6>, frozen<dense<8, swish>>, activation<swish>, dense<2>>;
  STATIC_REQUIRE(frozen_prefix::plan.kept_per_sample == 8 + 2);  // the head's input and the output
  STATIC_REQUIRE(!frozen_prefix::plan.backward_active[1] && !frozen_prefix::plan.backward_active[2]);
}

TEST_CASE("built-ins and their expression forms compute the same", "[layers][activation]") {
  matrix<double, 6> x(5);
  matrix<double, 3> y(5);
  frost_test::fill_uniform(x.values(), 3);
  frost_test::fill_uniform(y.values(), 4);
  auto same = [&]<auto A, auto B>() {
    using a_net = basic_sequential<double, input<6>, dense<7, A>, dense<3>>;
    using b_net = basic_sequential<double, input<6>, dense<7, B>, dense<3>>;
    const a_net a = a_net::init(9);
    const b_net b = b_net::init(9);
    const auto pa = a(x), pb = b(x);
    for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(pa.data()[i] == Approx(pb.data()[i]).epsilon(1e-14));
    const auto ga = value_and_grad(a, mean_squared_error{}, x, y).grads;
    const auto gb = value_and_grad(b, mean_squared_error{}, x, y).grads;
    for (std::size_t i = 0; i < ga.size; ++i) REQUIRE(ga.values()[i] == Approx(gb.values()[i]).epsilon(1e-12).margin(1e-15));
  };
  same.template operator()<relu, relu(_x)>();
  // At z = 0 exactly (a zero input row and zero biases) both give the gradient 0, as TensorFlow.
  {
    using a_net = basic_sequential<double, input<6>, dense<7, relu>, dense<3>>;
    using b_net = basic_sequential<double, input<6>, dense<7, relu(_x)>, dense<3>>;
    matrix<double, 6> zeros(5);
    const auto ga = value_and_grad(a_net::init(9), mean_squared_error{}, zeros, y).grads;
    const auto gb = value_and_grad(b_net::init(9), mean_squared_error{}, zeros, y).grads;
    for (double v : gb.layer<0>().bias()) REQUIRE(v == 0.0);
    for (std::size_t i = 0; i < ga.size; ++i) REQUIRE(ga.values()[i] == gb.values()[i]);
  }
  same.template operator()<sigmoid, sigmoid(_x)>();
  same.template operator()<tanh_activation, tanh(_x)>();
  same.template operator()<linear, _x>();
}

TEST_CASE("softmax and sigmoid as separate layers fuse with their crossentropy", "[layers][activation]") {
  matrix<double, 5> x(4);
  matrix<double, 3> y(4);
  matrix<double, 1> yb(4);
  frost_test::fill_uniform(x.values(), 5);
  for (std::size_t i = 0; i < 4; ++i) {
    y(i, i % 3) = 1;
    yb(i, 0) = double(i % 2);
  }
  using joined = basic_sequential<double, input<5>, dense<4, tanh_activation>, dense<3, softmax>>;
  using split = basic_sequential<double, input<5>, dense<4, tanh_activation>, dense<3>, activation<softmax>>;
  const auto gj = value_and_grad(joined::init(2), categorical_crossentropy{}, x, y);
  const auto gs = value_and_grad(split::init(2), categorical_crossentropy{}, x, y);
  REQUIRE(gj.loss == Approx(gs.loss).epsilon(1e-14));
  for (std::size_t i = 0; i < gj.grads.size; ++i)
    REQUIRE(gj.grads.values()[i] == Approx(gs.grads.values()[i]).epsilon(1e-12).margin(1e-15));
  auto m = split::init(3);
  frost_test::check_model_gradients(m, categorical_crossentropy{}, x, y);
  using split_sigmoid = basic_sequential<double, input<5>, dense<1>, activation<sigmoid>>;
  auto s = split_sigmoid::init(4);
  frost_test::check_model_gradients(s, binary_crossentropy{}, x, yb);
}

TEST_CASE("an activation without a derivative works where no gradient flows through it", "[layers][activation]") {
  // A rounding input stage, below every trainable layer: forward only.
  using quantized = sequential<input<4>, activation<round(4_c * _x) / 4_c>, dense<3, softmax>>;
  quantized m = quantized::init(1);
  matrix<float, 4> x(2);
  matrix<float, 3> y(2);
  x(0, 0) = 0.3f;  // rounds to 0.25
  y(0, 0) = y(1, 1) = 1.f;
  auto tr = make_trainer(m, categorical_crossentropy{}, sgd{}, 2);
  REQUIRE(tr.step(x, y) > 0.f);
  STATIC_REQUIRE(!quantized::plan.backward_active[1]);
}
