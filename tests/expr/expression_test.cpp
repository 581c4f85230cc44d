#include <frost/core/simd.hpp>
#include <frost/expr/activations.hpp>
#include <frost/expr/derivative.hpp>
#include <frost/expr/evaluate.hpp>
#include <frost/expr/expression.hpp>
#include <frost/expr/to_string.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

using namespace frost;
using expr::constant;
using expr::node;
using expr::placeholder;
using X = placeholder<0>;

TEST_CASE("expressions are empty, constexpr and compared by type", "[expr][expression]") {
  constexpr auto a = _x * sigmoid(_x);
  constexpr auto b = _x * sigmoid(_x);
  STATIC_REQUIRE(std::is_empty_v<decltype(a)>);
  STATIC_REQUIRE(std::is_same_v<decltype(a), decltype(b)>);
  STATIC_REQUIRE(std::is_same_v<decltype(a), const decltype(swish)>);
  STATIC_REQUIRE(!std::is_same_v<decltype(_x * sigmoid(_x)), decltype(sigmoid(_x) * _x)>);
  STATIC_REQUIRE(expr::expression<decltype(gelu)>);
  STATIC_REQUIRE(!expr::expression<double>);
}

TEST_CASE("building an expression simplifies it", "[expr][expression]") {
  using zero = constant<0.0>;
  STATIC_REQUIRE(std::is_same_v<decltype(_x * 0_c), zero>);         // a·0 = 0
  STATIC_REQUIRE(std::is_same_v<decltype(0_c * _x), zero>);         // 0·a = 0
  STATIC_REQUIRE(std::is_same_v<decltype(1_c * _x), X>);            // 1·a = a
  STATIC_REQUIRE(std::is_same_v<decltype(_x + 0_c), X>);            // a + 0 = a
  STATIC_REQUIRE(std::is_same_v<decltype(_x - _x), zero>);          // a − a = 0
  STATIC_REQUIRE(std::is_same_v<decltype(_x / 1_c), X>);            // a/1 = a
  STATIC_REQUIRE(std::is_same_v<decltype(-(-_x)), X>);              // −(−a) = a
  STATIC_REQUIRE(std::is_same_v<decltype(2_c * 3_c), constant<6.0>>);  // folding
  STATIC_REQUIRE(std::is_same_v<decltype(1_c - 0.25_c), constant<0.75>>);
  STATIC_REQUIRE(std::is_same_v<decltype(2_c * (3_c * _x)), node<expr::mul_op, constant<6.0>, X>>);
  STATIC_REQUIRE(std::is_same_v<decltype(_x * 2_c), node<expr::mul_op, constant<2.0>, X>>);  // constants lead
  STATIC_REQUIRE(std::is_same_v<decltype(_x + _x), node<expr::mul_op, constant<2.0>, X>>);
  STATIC_REQUIRE(std::is_same_v<decltype(_x / 4_c), node<expr::mul_op, constant<0.25>, X>>);
  STATIC_REQUIRE(std::is_same_v<decltype(where(_x > 0_c, _x, _x)), X>);
  STATIC_REQUIRE(std::is_same_v<decltype(pow<1>(_x)), X>);
  STATIC_REQUIRE(std::is_same_v<decltype(pow<0>(_x)), constant<1.0>>);
}

TEST_CASE("the _c literal and c<v> are exact compile-time constants", "[expr][expression]") {
  // Up to 15 digits and |exponent| ≤ 22: exactly the compiler's own double.
  STATIC_REQUIRE(decltype(0.1_c)::value == 0.1);
  STATIC_REQUIRE(decltype(0.7978845608028_c)::value == 0.7978845608028);
  STATIC_REQUIRE(decltype(123456789012345_c)::value == 123456789012345.0);
  STATIC_REQUIRE(decltype(6.02214076e22_c)::value == 6.02214076e22);
  // More digits than a double holds: within one unit in the last place, never wrapped around.
  constexpr double pi = decltype(3.14159265358979323846264338_c)::value;
  STATIC_REQUIRE(pi >= 3.1415926535897927 && pi <= 3.1415926535897936);
  constexpr double g = decltype(0.79788456080286535588_c)::value;
  STATIC_REQUIRE(g >= 0.7978845608028653 && g <= 0.7978845608028655);  // the literal's double ± 1 ulp
  STATIC_REQUIRE(decltype(0.044715_c)::value == 0.044715);
  STATIC_REQUIRE(decltype(3_c)::value == 3.0);
  STATIC_REQUIRE(decltype(2.5e2_c)::value == 250.0);
  STATIC_REQUIRE(decltype(1e-3_c)::value == 1e-3);
  STATIC_REQUIRE(decltype(1'000_c)::value == 1000.0);
  STATIC_REQUIRE(decltype(c<0.7978845608028654>)::value == 0.7978845608028654);
}

TEST_CASE("uses_v sees which placeholders an expression reads", "[expr][expression]") {
  constexpr auto se = (_y_pred - _y_true) * (_y_pred - _y_true);
  STATIC_REQUIRE(expr::uses_v<decltype(se), placeholder<1>>);
  STATIC_REQUIRE(expr::uses_v<decltype(se), placeholder<2>>);
  STATIC_REQUIRE(!expr::uses_v<decltype(se), X>);
  STATIC_REQUIRE(!expr::uses_v<decltype(2_c), X>);
}

TEST_CASE("evaluate computes every primitive", "[expr][evaluate]") {
  expr::bindings<double> b;
  for (double x : {-2.5, -0.4, 0.0, 0.3, 1.7}) {
    b.x = x;
    CAPTURE(x);
    REQUIRE(expr::evaluate(_x + 2_c, b) == x + 2);
    REQUIRE(expr::evaluate(_x - 2_c, b) == x - 2);
    REQUIRE(expr::evaluate(_x * _x, b) == x * x);
    REQUIRE(expr::evaluate(_x / 4_c, b) == Approx(x / 4));
    REQUIRE(expr::evaluate(-_x, b) == -x);
    REQUIRE(expr::evaluate(exp(_x), b) == std::exp(x));
    REQUIRE(expr::evaluate(tanh(_x), b) == std::tanh(x));
    REQUIRE(expr::evaluate(sigmoid(_x), b) == Approx(1 / (1 + std::exp(-x))));
    REQUIRE(expr::evaluate(abs(_x), b) == std::abs(x));
    REQUIRE(expr::evaluate(pow<3>(_x), b) == Approx(x * x * x));
    REQUIRE(expr::evaluate(max(_x, 0_c), b) == std::max(x, 0.0));
    REQUIRE(expr::evaluate(min(_x, 0_c), b) == std::min(x, 0.0));
    REQUIRE(expr::evaluate(clip(_x, -1_c, 1_c), b) == std::clamp(x, -1.0, 1.0));
    REQUIRE(expr::evaluate(where(_x > 0_c, _x, 2_c * _x), b) == (x > 0 ? x : 2 * x));
    REQUIRE(expr::evaluate(floor(_x), b) == std::floor(x));
    REQUIRE(expr::evaluate(round(_x), b) == std::round(x));
    b.x = std::abs(x) + 0.5;
    REQUIRE(expr::evaluate(log(_x), b) == std::log(b.x));
    REQUIRE(expr::evaluate(log1p(_x), b) == std::log1p(b.x));
    REQUIRE(expr::evaluate(sqrt(_x), b) == std::sqrt(b.x));
    REQUIRE(expr::evaluate(pow<-2>(_x), b) == Approx(1 / (b.x * b.x)));
  }
}

TEST_CASE("the provided activations follow Keras's definitions", "[expr][activations]") {
  expr::bindings<double> b;
  for (double x : {-3.5, -1.0, -0.2, 0.1, 0.8, 4.0}) {
    b.x = x;
    CAPTURE(x);
    const double s = 1 / (1 + std::exp(-x));
    REQUIRE(expr::evaluate(swish, b) == Approx(x * s));
    REQUIRE(expr::evaluate(gelu, b) ==
            Approx(0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)))));
    REQUIRE(expr::evaluate(softplus, b) == Approx(std::log(std::exp(x) + 1)));
    REQUIRE(expr::evaluate(elu, b) == Approx(x > 0 ? x : std::exp(x) - 1));
    REQUIRE(expr::evaluate(selu, b) ==
            Approx(1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (std::exp(x) - 1))));
    REQUIRE(expr::evaluate(leaky_relu, b) == Approx(x >= 0 ? x : 0.2 * x));
    REQUIRE(expr::evaluate(hard_sigmoid, b) == Approx(std::clamp(x / 6 + 0.5, 0.0, 1.0)));
    REQUIRE(expr::evaluate(relu(_x), b) == std::max(x, 0.0));
    REQUIRE(expr::evaluate(elu_with<0.5>, b) == Approx(x > 0 ? x : 0.5 * (std::exp(x) - 1)));
  }
  b.x = std::numeric_limits<double>::quiet_NaN();  // relu(_x) passes NaN on, as the built-in does
  REQUIRE(std::isnan(expr::evaluate(relu(_x), b)));
  b.x = 800;  // the softplus form never overflows
  REQUIRE(expr::evaluate(softplus, b) == Approx(800.0));
}

TEST_CASE("to_string writes expressions readably", "[expr][to_string]") {
  REQUIRE(expr::to_string(swish) == "x * sigmoid(x)");
  REQUIRE(expr::to_string((_y_pred - _y_true) * (_y_pred - _y_true)) == "(y_pred - y_true) * (y_pred - y_true)");
  REQUIRE(expr::to_string(-abs(_x) + 0.5_c) == "0.5 - abs(x)");
  REQUIRE(expr::to_string(where(_x > 0_c, _x, 0.2_c * _x)) == "where(x > 0, x, 0.2 * x)");
}

TEST_CASE("evaluate on whole vectors equals evaluate lane by lane", "[expr][evaluate]") {
  using V = simd::native_t<float>;
  constexpr std::size_t lanes = simd::native<float>::width;
  V x{};
  for (std::size_t l = 0; l < lanes; ++l) x[l] = -2.0f + 0.61f * float(l);
  auto check = [&](auto e) {
    expr::bindings<V> bv;
    bv.x = x;
    const V r = expr::evaluate(e, bv);
    for (std::size_t l = 0; l < lanes; ++l) {
      expr::bindings<float> bs;
      bs.x = x[l];
      INFO(expr::to_string(e) << " lane " << l);
      // The same operations per lane; with FMA enabled the compiler may contract a·b + c
      // differently in the vector and the scalar code, hence a tolerance of a few ulp.
      REQUIRE(r[l] == Approx(expr::evaluate(e, bs)).epsilon(1e-6).margin(1e-7));
    }
  };
  check(swish);
  check(gelu);
  check(softplus);
  check(elu);
  check(selu);
  check(leaky_relu);
  check(hard_sigmoid);
  check(relu(_x));
  check(abs(_x) + min(_x, 0.5_c) * pow<2>(_x) / (1_c + exp(_x)));
  check(d(gelu, _x));
}

TEST_CASE("compose applies an expression of _x to another expression", "[expr][expression]") {
  STATIC_REQUIRE(std::is_same_v<decltype(compose(swish, _x)), const decltype(swish)>
                 || std::is_same_v<decltype(compose(swish, _x)), std::remove_const_t<decltype(swish)>>);
  constexpr auto e = _y_pred - _y_true;
  constexpr auto log_cosh = e + compose(softplus, -2_c * e) - c<0.6931471805599453>;
  expr::bindings<double> b;
  for (double v : {-2.0, -0.3, 0.0, 0.7, 3.0}) {
    b.y_pred = v;
    b.y_true = 0.25;
    REQUIRE(expr::evaluate(log_cosh, b) == Approx(std::log(std::cosh(v - 0.25))).margin(1e-12));
  }
  STATIC_REQUIRE(std::is_same_v<decltype(compose(_x * 0_c, e)), constant<0.0>>);
}

TEST_CASE("a comparison used as a value counts as 1 or 0, on scalars and vectors", "[expr][evaluate]") {
  constexpr auto step = _x * (_x > 0_c);
  using V = simd::native_t<float>;
  V x{};
  for (std::size_t l = 0; l < simd::native<float>::width; ++l) x[l] = l % 2 == 0 ? 1.5f : -1.5f;
  expr::bindings<V> bv;
  bv.x = x;
  const V r = expr::evaluate(step, bv);
  for (std::size_t l = 0; l < simd::native<float>::width; ++l) REQUIRE(r[l] == (l % 2 == 0 ? 1.5f : 0.f));
  expr::bindings<double> b;
  b.x = -2.0;
  REQUIRE(expr::evaluate(step, b) == 0.0);
  b.x = 2.0;
  REQUIRE(expr::evaluate(step, b) == 2.0);
}

TEST_CASE("to_string prints constants in their shortest exact form", "[expr][to_string]") {
  REQUIRE(expr::to_string(c<1e-7> * _x) == "1e-07 * x");
  REQUIRE(expr::to_string(c<0.7978845608028654> * _x) == "0.7978845608028654 * x");
}
