#include <frost/expr/activations.hpp>
#include <frost/expr/derivative.hpp>
#include <frost/expr/evaluate.hpp>
#include <frost/expr/to_string.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <type_traits>

using namespace frost;
using expr::constant;
using expr::node;
using X = expr::placeholder<0>;
using Y = expr::placeholder<3>;

namespace {

// d(e, _x) against a central difference of e, in double, at points away from kinks.
template <class E>
void check_derivative(E e, std::initializer_list<double> points) {
  const auto de = d(e, _x);
  for (double x0 : points) {
    expr::bindings<double> b;
    b.x = x0;
    const double analytic = expr::evaluate(de, b);
    double x = x0;
    const double numeric = frost_test::numeric_grad(
        [&] {
          expr::bindings<double> bb;
          bb.x = x;
          return double(expr::evaluate(e, bb));
        },
        x);
    INFO(expr::to_string(e) << " at " << x0 << ": d = " << expr::to_string(de));
    REQUIRE(frost_test::close(analytic, numeric, 1e-6));
  }
}

}  // namespace

TEST_CASE("derivatives of the built-in activations, simplified, reuse the kept output", "[expr][derivative]") {
  // sigmoid' = y (1 − y); tanh' = 1 − y²; exp' = y: read from the output, like the hand-written ones.
  STATIC_REQUIRE(std::is_same_v<expr::activation_derivative_t<decltype(sigmoid(_x))>,
                                node<expr::mul_op, Y, node<expr::sub_op, constant<1.0>, Y>>>);
  STATIC_REQUIRE(std::is_same_v<expr::activation_derivative_t<decltype(tanh(_x))>,
                                node<expr::sub_op, constant<1.0>, node<expr::mul_op, Y, Y>>>);
  STATIC_REQUIRE(std::is_same_v<expr::activation_derivative_t<decltype(exp(_x))>, Y>);
  // relu(_x)' = [x > 0], written where(x <= 0, 0, 1): 0 at 0 like the built-in and TensorFlow
  // (and NaN passes relu itself); reads the input.
  STATIC_REQUIRE(std::is_same_v<expr::activation_derivative_t<decltype(relu(_x))>,
                                node<expr::where_op, node<expr::less_equal_op, X, constant<0.0>>, constant<0.0>,
                                     constant<1.0>>>);
  // linear' = 1: reads nothing.
  STATIC_REQUIRE(std::is_same_v<decltype(d(_x, _x)), constant<1.0>>);
  STATIC_REQUIRE(std::is_same_v<decltype(d(3_c * _x, _x)), constant<3.0>>);
  STATIC_REQUIRE(std::is_same_v<decltype(d(_y_true, _x)), constant<0.0>>);
}

TEST_CASE("swish's derivative is what the docs show", "[expr][derivative]") {
  REQUIRE(expr::to_string(d(swish, _x)) == "sigmoid(x) + (x * (sigmoid(x) * (1 - sigmoid(x))))");
  REQUIRE(expr::to_string(d((_y_pred - _y_true) * (_y_pred - _y_true), _y_pred)) == "2 * (y_pred - y_true)");
}

TEST_CASE("every primitive's derivative matches finite differences in double", "[expr][derivative]") {
  const auto pts = {-1.7, -0.6, 0.35, 1.2, 2.5};
  const auto positive = {0.2, 0.9, 1.6, 3.3};
  check_derivative(_x + 2_c, pts);
  check_derivative(3_c - _x, pts);
  check_derivative(_x * _x, pts);
  check_derivative(1_c / (2_c + _x * _x), pts);
  check_derivative(-_x, pts);
  check_derivative(exp(_x), pts);
  check_derivative(log(_x), positive);
  check_derivative(log1p(_x), positive);
  check_derivative(sqrt(_x), positive);
  check_derivative(tanh(_x), pts);
  check_derivative(sigmoid(_x), pts);
  check_derivative(abs(_x), pts);
  check_derivative(pow<3>(_x), pts);
  check_derivative(pow<-2>(_x), positive);
  check_derivative(max(_x, 0.1_c), pts);
  check_derivative(min(_x, 0.1_c), pts);
  check_derivative(clip(_x, -1_c, 1_c), pts);
  check_derivative(where(_x > 0_c, exp(_x), _x * _x), pts);
}

TEST_CASE("compositions and the provided activations match finite differences", "[expr][derivative]") {
  const auto pts = {-3.1, -1.3, -0.45, 0.27, 0.9, 2.2};
  check_derivative(swish, pts);
  check_derivative(gelu, pts);
  check_derivative(softplus, pts);
  check_derivative(elu, pts);
  check_derivative(selu, pts);
  check_derivative(leaky_relu, pts);
  check_derivative(hard_sigmoid, {-3.4, -1.0, 0.3, 2.1, 3.5});
  check_derivative(log(1_c + exp(2_c * _x)), pts);
  check_derivative(sqrt(1_c + _x * _x) * tanh(0.5_c * _x) - exp(-abs(_x)) / (2_c + sigmoid(_x)), pts);
  check_derivative(pow<2>(tanh(_x)) + max(_x * 0.3_c, sigmoid(_x)), pts);
}

TEST_CASE("costly subtrees a derivative repeats are evaluated once", "[expr][evaluate]") {
  // swish' mentions sigmoid(x) three times: it is computed once, then read from the cache.
  using ds = decltype(d(swish, _x));
  STATIC_REQUIRE(std::is_same_v<expr::detail::shared_t<ds>, expr::detail::type_list<decltype(sigmoid(_x))>>);
  // gelu' repeats its tanh(...); the argument of the tanh is arithmetic, left to the compiler.
  using dg = decltype(d(gelu, _x));
  STATIC_REQUIRE(expr::detail::size_v<expr::detail::shared_t<dg>> == 1);
  STATIC_REQUIRE(expr::detail::size_v<expr::detail::shared_t<decltype(swish)>> == 0);
}

TEST_CASE("derivatives at ties follow TensorFlow's conventions", "[expr][derivative]") {
  expr::bindings<double> b;
  b.x = 0.0;
  REQUIRE(expr::evaluate(d(relu(_x), _x), b) == 0.0);        // tf.nn.relu: 0 at 0
  REQUIRE(expr::evaluate(d(leaky_relu, _x), b) == 0.2);      // tf.nn.leaky_relu: alpha at 0
  REQUIRE(expr::evaluate(d(abs(_x), _x), b) == 0.0);         // sign(0) = 0
  REQUIRE(expr::evaluate(d(max(_x, 0_c), _x), b) == 1.0);    // tf.maximum: to the first argument at ties
  REQUIRE(expr::evaluate(d(softplus, _x), b) == 0.5);         // smooth: sigmoid(0)
  b.x = 3.0;                                                  // hard_sigmoid's upper bound: relu6 gives 0
  REQUIRE(expr::evaluate(d(hard_sigmoid, _x), b) == 0.0);
  b.x = 2.9;
  REQUIRE(expr::evaluate(d(hard_sigmoid, _x), b) == Approx(1.0 / 6.0));
}

TEST_CASE("a constant part may round: only what depends on _x needs a derivative", "[expr][derivative]") {
  STATIC_REQUIRE(expr::differentiable_v<decltype(_x * round(c<2.5>))>);
  STATIC_REQUIRE(!expr::differentiable_v<decltype(_x * round(_x))>);
  STATIC_REQUIRE(expr::differentiable_v<decltype(where(round(_x) > 1_c, _x, 2_c * _x))>);
  STATIC_REQUIRE(std::is_same_v<decltype(d(_x * round(c<2.5>), _x)), decltype(round(c<2.5>))>);
}
