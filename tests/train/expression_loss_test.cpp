// Losses written as expressions of _y_true and _y_pred: averaged over the last axis and the
// batch, their gradients derived at compile time.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace frost;

namespace {
using net = basic_sequential<double, input<5>, dense<6, tanh_activation>, dense<3, sigmoid>>;

struct data {
  matrix<double, 5> x{4};
  matrix<double, 3> y{4};
  data() {
    frost_test::fill_uniform(x.values(), 31);
    frost_test::fill_uniform(y.values(), 32, 0.05, 0.95);
  }
};

template <class A, class B>
void same_value_and_gradients(const A& a, const B& b, double factor = 1.0) {
  REQUIRE(a.loss == Approx(factor * b.loss).epsilon(1e-13));
  for (std::size_t i = 0; i < a.grads.size; ++i)
    REQUIRE(a.grads.values()[i] == Approx(factor * b.grads.values()[i]).epsilon(1e-12).margin(1e-15));
}
}  // namespace

TEST_CASE("squared error as an expression equals mean_squared_error", "[train][expression_loss]") {
  constexpr auto se = (_y_pred - _y_true) * (_y_pred - _y_true);
  data d;
  const net m = net::init(1);
  same_value_and_gradients(value_and_grad(m, se, d.x, d.y), value_and_grad(m, mean_squared_error{}, d.x, d.y));
  // And in a trainer: the same steps as the built-in.
  net a = net::init(2), b = net::init(2);
  auto ta = make_trainer(a, se, adam{}, 256);
  auto tb = make_trainer(b, mean_squared_error{}, adam{}, 256);
  for (int s = 0; s < 5; ++s) REQUIRE(ta.step(d.x, d.y) == Approx(tb.step(d.x, d.y)).epsilon(1e-13));
  for (std::size_t i = 0; i < net::trainable_param_count; ++i)
    REQUIRE(a.trainable_parameters()[i] == Approx(b.trainable_parameters()[i]).epsilon(1e-12));
}

TEST_CASE("crossentropies as expressions agree with the built-ins where nothing is clipped", "[train][expression_loss]") {
  data d;
  const net m = net::init(3);
  constexpr auto bce = -(_y_true * log(_y_pred) + (1_c - _y_true) * log(1_c - _y_pred));
  same_value_and_gradients(value_and_grad(m, bce, d.x, d.y), value_and_grad(m, binary_crossentropy{}, d.x, d.y));
  // Keras's categorical crossentropy sums over the last axis (and normalizes p): for outputs that
  // sum to 1 it is K times the mean of −y log p.
  using soft = basic_sequential<double, input<5>, dense<3, softmax>>;
  const soft s = soft::init(4);
  constexpr auto cce = -(_y_true * log(_y_pred));
  same_value_and_gradients(value_and_grad(s, categorical_crossentropy{}, d.x, d.y),
                           value_and_grad(s, cce, d.x, d.y), 3.0);
}

TEST_CASE("Huber and log-cosh losses get correct gradients", "[train][expression_loss]") {
  data d;
  constexpr auto e = _y_pred - _y_true;
  constexpr auto huber = where(abs(e) <= 0.1_c, 0.5_c * e * e, 0.1_c * (abs(e) - 0.05_c));
  constexpr auto log_cosh = log(0.5_c * (exp(e) + exp(-e)));
  net m = net::init(5);
  frost_test::check_model_gradients(m, huber, d.x, d.y);
  frost_test::check_model_gradients(m, log_cosh, d.x, d.y);
  // Values by hand, for one output: huber(0.3) = 0.1 (0.3 − 0.05), log-cosh(0.3) = log cosh 0.3.
  expr::bindings<double> b;
  b.y_pred = 0.8;
  b.y_true = 0.5;
  REQUIRE(expr::evaluate(huber, b) == Approx(0.1 * 0.25));
  REQUIRE(expr::evaluate(log_cosh, b) == Approx(std::log(std::cosh(0.3))));
}

TEST_CASE("a loss expression without _y_true takes no target", "[train][expression_loss]") {
  data d;
  constexpr auto energy = _y_pred * _y_pred;
  net m = net::init(6);
  frost_test::check_model_gradients(m, energy, d.x);
  STATIC_REQUIRE(!expression_loss<std::remove_const_t<decltype(energy)>>::needs_target);
}
