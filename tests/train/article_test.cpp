// The reference article's examples, asserting what each prints.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

TEST_CASE("article example 1: a frozen dense layer has no gradient", "[train][article]") {
  using model = frost::sequential<frost::input<5>, frost::frozen<frost::dense<10, frost::relu>>>;
  model layer = model::init(0);
  frost::matrix<float, 5> x(1);
  frost_test::fill_uniform(x.values(), 1);
  const auto output = layer(x);
  const auto [loss, gradients] = frost::value_and_grad(layer, frost::reduce_sum{}, x);
  // "Gradients (should be None)": a compile-time fact, and there is nothing to store.
  STATIC_REQUIRE(std::is_same_v<decltype(gradients.layer<0>()), frost::no_gradient>);
  STATIC_REQUIRE(decltype(gradients)::size == 0);
  double sum = 0;
  for (float v : output.values()) sum += v;
  REQUIRE(loss == Approx(sum));
}

TEST_CASE("article example 2: frozen layers keep their weights, the last layer changes", "[train][article]") {
  using Net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                frost::dense<10, frost::softmax>>;
  auto model = frost::freeze<0, 1>(Net::init(1));
  frost::matrix<float, 100> x(1);
  frost_test::fill_uniform(x.values(), 2);
  const auto before = model;
  auto opt = frost::make_optimizer(model, frost::adam{.learning_rate = 0.01f});
  frost::random_stream rng(3);
  for (int step = 0; step < 2; ++step) {
    frost::matrix<float, 10> y(1);
    y(0, rng.next() % 10) = 1.f;  // tf.one_hot(tf.random.uniform([1], 0, 10))
    auto [loss, grads] = frost::value_and_grad(model, frost::categorical_crossentropy{}, x, y);
    opt.apply_gradients(model, grads);
  }
  REQUIRE(frost_test::same_bytes(before.layer<0>().kernel(), model.layer<0>().kernel()));
  REQUIRE(frost_test::same_bytes(before.layer<1>().kernel(), model.layer<1>().kernel()));
  REQUIRE_FALSE(frost_test::same_bytes(before.layer<2>().kernel(), model.layer<2>().kernel()));
}

TEST_CASE("article example 3 (as a sequential model): frozen layers unchanged after a BCE step", "[train][article]") {
  using Net = frost::sequential<frost::input<10>, frost::frozen<frost::dense<64, frost::relu>>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<1, frost::sigmoid>>;
  Net model = Net::init(5);
  const Net before = model;
  frost::matrix<float, 10> x(1);
  frost_test::fill_uniform(x.values(), 6);
  frost::matrix<float, 1> y(1);  // tf.constant([[0.]])
  auto opt = frost::make_optimizer(model, frost::adam{.learning_rate = 0.01f});
  auto [loss, grads] = frost::value_and_grad(model, frost::binary_crossentropy{}, x, y);
  opt.apply_gradients(model, grads);
  REQUIRE(loss > 0.f);
  REQUIRE(frost_test::same_bytes(before.frozen_parameters(), model.frozen_parameters()));
  REQUIRE_FALSE(frost_test::same_bytes(before.trainable_parameters(), model.trainable_parameters()));
}

TEST_CASE("article example 3: a functional model frozen by index keeps its Dense layers, the output changes",
          "[train][article]") {
  auto inputs = frost::input<10>{};
  auto x = frost::dense<64, frost::relu>{}(inputs);
  auto outputs = frost::dense<1, frost::sigmoid>{}(frost::dense<32, frost::relu>{}(x));
  // model.get_layer(index=1) and index=2: the input layer is index 0.
  auto model = frost::freeze<1, 2>(frost::make_model(inputs, outputs));
  using M = decltype(model);
  STATIC_REQUIRE(std::is_same_v<M::layer_type<0>, frost::input<10>>);
  STATIC_REQUIRE(std::is_same_v<M::layer_type<1>, frost::frozen<frost::dense<64, frost::relu>>>);
  STATIC_REQUIRE(std::is_same_v<M::layer_type<2>, frost::frozen<frost::dense<32, frost::relu>>>);
  STATIC_REQUIRE(M::trainable_param_count == 33);
  STATIC_REQUIRE(std::is_same_v<decltype(std::declval<frost::gradients<M>&>().layer<2>()), frost::no_gradient>);
  const M before = model;
  frost::matrix<float, 10> input_data(1);
  frost_test::fill_uniform(input_data.values(), 6);
  frost::matrix<float, 1> y(1);  // tf.constant([[0.]])
  auto opt = frost::make_optimizer(model, frost::adam{.learning_rate = 0.01f});
  auto [loss, grads] = frost::value_and_grad(model, frost::binary_crossentropy{}, input_data, y);
  // binary crossentropy against 0 is −log(1 − p), p the model's output.
  REQUIRE(loss == Approx(-std::log(1.0 - double(model(input_data)(0, 0)))).epsilon(1e-5));
  opt.apply_gradients(model, grads);
  REQUIRE(frost_test::same_bytes(before.layer<1>().kernel(), model.layer<1>().kernel()));
  REQUIRE(frost_test::same_bytes(before.layer<1>().bias(), model.layer<1>().bias()));
  REQUIRE(frost_test::same_bytes(before.layer<2>().kernel(), model.layer<2>().kernel()));
  REQUIRE(frost_test::same_bytes(before.layer<2>().bias(), model.layer<2>().bias()));
  REQUIRE_FALSE(frost_test::same_bytes(before.layer<3>().kernel(), model.layer<3>().kernel()));
}
