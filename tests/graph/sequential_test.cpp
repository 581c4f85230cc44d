#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

// The code block of DESIGN.md's "The public API", verbatim (the functional parts aside).
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

  matrix<float, 100> x(4);
  matrix<float, 10>  y(4);
  matrix<float, 10>  p = ft(x);

  auto [loss, grads] = value_and_grad(ft, categorical_crossentropy{}, x, y);
  static_assert(std::is_same_v<decltype(grads.layer<0>()), no_gradient>);
  static_assert(decltype(grads)::size == decltype(ft)::trainable_param_count);
  std::span<float, 32 * 10> gk = grads.layer<2>().kernel();

  auto opt = make_optimizer(ft, adam{.learning_rate = 0.01f});
  static_assert(decltype(opt)::state_size == 2 * decltype(ft)::trainable_param_count);
  opt.apply_gradients(ft, grads);

  auto tr = make_trainer(ft, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, /*max_batch=*/256);
  float l = tr.step(x, y);

  auto back = unfreeze<1>(std::move(ft));
  static_assert(std::is_same_v<decltype(back),
      sequential<input<100>, frozen<dense<64, relu>>, dense<32, relu>, dense<10, softmax>>>);

  // What the block computed, checked: x and y are zero, so the loss is 0 (no target mass) and
  // the output is softmax of the biases (zero) through relu of zero: uniform.
  REQUIRE(k.size() == 6400);
  REQUIRE(b.size() == 64);
  REQUIRE(p(0, 3) == Approx(0.1f));
  REQUIRE(loss == 0.f);
  REQUIRE(l == 0.f);
  REQUIRE(gk.size() == 320);
  REQUIRE(back.trainable_param_count == 64 * 32 + 32 + 330);
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
  const auto y = m(x);
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
