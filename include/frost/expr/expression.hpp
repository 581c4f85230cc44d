#pragma once
/// \file
/// Elementwise expressions as types: placeholders (`_x`, `_y_true`, `_y_pred`, and `_y`, the
/// forward's output), compile-time constants (`c<0.5>`, `0.5_c`), arithmetic, and the functions
/// `exp log log1p sqrt tanh sigmoid abs pow<N> max min clip where floor round` and comparisons.
///
/// An expression is an empty, constexpr, structurally comparable type: two expressions are the
/// same function exactly when their types are the same. Building one simplifies as it goes (the
/// smart constructors below fold constants and drop 0·a, 1·a, a + 0, a − a, a/1, −(−a)), so
/// derivatives built from these operators come out simplified (expr/derivative.hpp).
/// ```cpp
/// constexpr auto swish = frost::_x * frost::sigmoid(frost::_x);
/// constexpr auto se = (frost::_y_pred - frost::_y_true) * (frost::_y_pred - frost::_y_true);
/// ```

#include <concepts>
#include <cstddef>
#include <type_traits>

namespace frost {
namespace expr {

/// A variable of the expression; `Id` names it (see the `_x` ... constants below).
template <int Id>
struct placeholder {
  static constexpr int id = Id;
};

/// A compile-time constant.
template <double V>
struct constant {
  static constexpr double value = V;
};

/// An operation `Op` on argument expressions `A...`.
template <class Op, class... A>
struct node {
  using op = Op;
};

// Operation tags. `symbol` names them for diagnostics and to_string.
struct add_op {};
struct sub_op {};
struct mul_op {};
struct div_op {};
struct neg_op {};
struct exp_op {};
struct log_op {};
struct log1p_op {};
struct sqrt_op {};
struct tanh_op {};
struct sigmoid_op {};
struct abs_op {};
struct max_op {};
struct min_op {};
template <int N>
struct pow_op {
  static constexpr int exponent = N;
};
struct clip_op {};
struct where_op {};
struct floor_op {};
struct round_op {};
struct less_op {};
struct greater_op {};
struct less_equal_op {};
struct greater_equal_op {};

template <class E>
inline constexpr bool is_placeholder_v = false;
template <int Id>
inline constexpr bool is_placeholder_v<placeholder<Id>> = true;

template <class E>
inline constexpr bool is_constant_v = false;
template <double V>
inline constexpr bool is_constant_v<constant<V>> = true;

template <class E>
inline constexpr bool is_node_v = false;
template <class Op, class... A>
inline constexpr bool is_node_v<node<Op, A...>> = true;

/// Any expression: a placeholder, a constant or an operation node.
template <class E>
concept expression = is_placeholder_v<std::remove_cvref_t<E>> || is_constant_v<std::remove_cvref_t<E>> ||
                     is_node_v<std::remove_cvref_t<E>>;

namespace detail {
template <class E, class P>
inline constexpr bool uses = std::is_same_v<E, P>;
template <class Op, class... A, class P>
inline constexpr bool uses<node<Op, A...>, P> = (uses<A, P> || ...);
}  // namespace detail

/// Does expression `E` mention placeholder `P` anywhere?
template <class E, class P>
inline constexpr bool uses_v = detail::uses<std::remove_cvref_t<E>, P>;

using zero = constant<0.0>;
using one = constant<1.0>;

template <class E>
inline constexpr bool is_zero_v = false;
template <double V>
inline constexpr bool is_zero_v<constant<V>> = V == 0.0;  // 0.0 and -0.0
template <class E>
inline constexpr bool is_one_v = std::is_same_v<E, one>;

template <class N>
struct node_args;
template <class Op, class A0, class... A>
struct node_args<node<Op, A0, A...>> {
  using first = A0;
  using rest = node<Op, A...>;
};
/// First and second argument of an operation node.
template <class N>
using first_arg_t = typename node_args<N>::first;
template <class N>
using second_arg_t = typename node_args<typename node_args<N>::rest>::first;
/// `a` for the node `−a`.
template <class N>
using negated_t = first_arg_t<N>;

template <class E, class Op>
inline constexpr bool is_op_v = false;
template <class Op, class... A>
inline constexpr bool is_op_v<node<Op, A...>, Op> = true;

template <class T>
inline constexpr bool always_false_v = false;

/// `c · a` with a constant c.
template <class E>
inline constexpr bool is_scaled_v = false;
template <double V, class A>
inline constexpr bool is_scaled_v<node<mul_op, constant<V>, A>> = true;

// ---- Smart constructors: build a node, simplifying on the way. ----

template <expression A, expression B>
constexpr auto operator+(A, B) {
  if constexpr (is_constant_v<A> && is_constant_v<B>) return constant<A::value + B::value>{};
  else if constexpr (is_zero_v<A>) return B{};
  else if constexpr (is_zero_v<B>) return A{};
  else if constexpr (std::is_same_v<A, B>) return constant<2.0>{} * A{};  // a + a = 2a
  else if constexpr (is_op_v<B, neg_op>) return A{} - negated_t<B>{};  // a + (−b) = a − b
  else if constexpr (is_op_v<A, neg_op>) return B{} - negated_t<A>{};  // (−a) + b = b − a
  else return node<add_op, A, B>{};
}

template <expression A>
constexpr auto operator-(A) {
  if constexpr (is_constant_v<A>) return constant<-A::value>{};
  else if constexpr (is_op_v<A, neg_op>) return negated_t<A>{};  // −(−a) = a
  else return node<neg_op, A>{};
}

template <expression A, expression B>
constexpr auto operator-(A, B) {
  if constexpr (is_constant_v<A> && is_constant_v<B>) return constant<A::value - B::value>{};
  else if constexpr (std::is_same_v<A, B>) return zero{};  // a − a = 0
  else if constexpr (is_zero_v<B>) return A{};
  else if constexpr (is_zero_v<A>) return -B{};
  else if constexpr (is_op_v<B, neg_op>) return A{} + negated_t<B>{};
  else return node<sub_op, A, B>{};
}

template <expression A, expression B>
constexpr auto operator*(A, B) {
  if constexpr (is_constant_v<A> && is_constant_v<B>) return constant<A::value * B::value>{};
  else if constexpr (is_zero_v<A> || is_zero_v<B>) return zero{};  // 0·a = 0
  else if constexpr (is_one_v<A>) return B{};                       // 1·a = a
  else if constexpr (is_one_v<B>) return A{};
  else if constexpr (std::is_same_v<A, constant<-1.0>>) return -B{};
  else if constexpr (std::is_same_v<B, constant<-1.0>>) return -A{};
  else if constexpr (is_constant_v<B>) return B{} * A{};            // constants to the left
  else if constexpr (is_constant_v<A> && is_scaled_v<B>)
    return constant<A::value * first_arg_t<B>::value>{} * second_arg_t<B>{};  // c·(d·a) = (cd)·a
  else if constexpr (is_op_v<A, neg_op>) return -(negated_t<A>{} * B{});
  else if constexpr (is_op_v<B, neg_op>) return -(A{} * negated_t<B>{});
  else return node<mul_op, A, B>{};
}

template <expression A, expression B>
constexpr auto operator/(A, B) {
  static_assert(!is_zero_v<B>, "frost::expr: division by the constant 0");
  if constexpr (is_zero_v<B>) return A{};  // reported above; nothing more to fold
  else if constexpr (is_constant_v<A> && is_constant_v<B>) return constant<A::value / B::value>{};
  else if constexpr (is_zero_v<A>) return zero{};  // 0/a = 0
  else if constexpr (is_one_v<B>) return A{};      // a/1 = a
  else if constexpr (std::is_same_v<A, B>) return one{};
  else if constexpr (is_constant_v<B>) return constant<1.0 / B::value>{} * A{};
  else return node<div_op, A, B>{};
}

// ---- Functions ----

template <expression A>
constexpr auto exp(A) {
  return node<exp_op, A>{};
}
template <expression A>
constexpr auto log(A) {
  if constexpr (is_one_v<A>) return zero{};
  else return node<log_op, A>{};
}
template <expression A>
constexpr auto log1p(A) {
  if constexpr (is_zero_v<A>) return zero{};
  else return node<log1p_op, A>{};
}
template <expression A>
constexpr auto sqrt(A) {
  return node<sqrt_op, A>{};
}
template <expression A>
constexpr auto tanh(A) {
  if constexpr (is_zero_v<A>) return zero{};
  else return node<tanh_op, A>{};
}
template <expression A>
constexpr auto abs(A) {
  return node<abs_op, A>{};
}
/// a^N for a compile-time integer N (negative N divides).
template <int N, expression A>
constexpr auto pow(A) {
  if constexpr (N == 0) return one{};
  else if constexpr (N == 1) return A{};
  else if constexpr (is_constant_v<A> && N > 0) return A{} * pow<N - 1>(A{});
  else return node<pow_op<N>, A>{};
}
template <expression A, expression B>
constexpr auto max(A, B) {
  if constexpr (std::is_same_v<A, B>) return A{};
  else return node<max_op, A, B>{};
}
template <expression A, expression B>
constexpr auto min(A, B) {
  if constexpr (std::is_same_v<A, B>) return A{};
  else return node<min_op, A, B>{};
}
/// min(max(a, lo), hi) with constant bounds.
template <expression A, expression Lo, expression Hi>
constexpr auto clip(A, Lo, Hi) {
  static_assert(is_constant_v<Lo> && is_constant_v<Hi>, "frost::expr::clip: the bounds must be constants, e.g. clip(_x, 0_c, 6_c)");
  return node<clip_op, A, Lo, Hi>{};
}
/// Rounding, for completeness: they have no derivative, and using one where a derivative is
/// needed is a compile error.
template <expression A>
constexpr auto floor(A) {
  return node<floor_op, A>{};
}
template <expression A>
constexpr auto round(A) {
  return node<round_op, A>{};
}

// ---- Conditions and selection ----

template <class E>
inline constexpr bool is_condition_v =
    is_op_v<E, less_op> || is_op_v<E, greater_op> || is_op_v<E, less_equal_op> || is_op_v<E, greater_equal_op>;

template <expression A, expression B>
constexpr auto operator<(A, B) {
  return node<less_op, A, B>{};
}
template <expression A, expression B>
constexpr auto operator>(A, B) {
  return node<greater_op, A, B>{};
}
template <expression A, expression B>
constexpr auto operator<=(A, B) {
  return node<less_equal_op, A, B>{};
}
template <expression A, expression B>
constexpr auto operator>=(A, B) {
  return node<greater_equal_op, A, B>{};
}

/// `a` where the condition holds, else `b` (elementwise).
template <expression C, expression A, expression B>
constexpr auto where(C, A, B) {
  static_assert(is_condition_v<C>, "frost::expr::where: the first argument must be a comparison, e.g. where(_x > 0_c, a, b)");
  if constexpr (std::is_same_v<A, B>) return A{};
  else return node<where_op, C, A, B>{};
}

// ---- Composition ----

/// The node `Op(args...)` built again through the smart constructors (so it simplifies).
template <class Op, expression... A>
constexpr auto rebuild(Op, A... a) {
  if constexpr (std::is_same_v<Op, add_op>) return (a + ...);
  else if constexpr (std::is_same_v<Op, mul_op>) return (a * ...);
  else if constexpr (std::is_same_v<Op, sub_op>) return [](auto x, auto y) { return x - y; }(a...);
  else if constexpr (std::is_same_v<Op, div_op>) return [](auto x, auto y) { return x / y; }(a...);
  else if constexpr (std::is_same_v<Op, neg_op>) return (-a, ...);
  else if constexpr (std::is_same_v<Op, exp_op>) return exp(a...);
  else if constexpr (std::is_same_v<Op, log_op>) return log(a...);
  else if constexpr (std::is_same_v<Op, log1p_op>) return log1p(a...);
  else if constexpr (std::is_same_v<Op, sqrt_op>) return sqrt(a...);
  else if constexpr (std::is_same_v<Op, tanh_op>) return tanh(a...);
  else if constexpr (std::is_same_v<Op, abs_op>) return abs(a...);
  else if constexpr (std::is_same_v<Op, floor_op>) return floor(a...);
  else if constexpr (std::is_same_v<Op, round_op>) return round(a...);
  else if constexpr (requires { Op::exponent; }) return pow<Op::exponent>(a...);
  else if constexpr (std::is_same_v<Op, max_op>) return max(a...);
  else if constexpr (std::is_same_v<Op, min_op>) return min(a...);
  else if constexpr (std::is_same_v<Op, clip_op>) return clip(a...);
  else if constexpr (std::is_same_v<Op, where_op>) return where(a...);
  else if constexpr (std::is_same_v<Op, less_op>) return [](auto x, auto y) { return x < y; }(a...);
  else if constexpr (std::is_same_v<Op, greater_op>) return [](auto x, auto y) { return x > y; }(a...);
  else if constexpr (std::is_same_v<Op, less_equal_op>) return [](auto x, auto y) { return x <= y; }(a...);
  else if constexpr (std::is_same_v<Op, greater_equal_op>) return [](auto x, auto y) { return x >= y; }(a...);
  else return node<Op, A...>{};  // sigmoid and any other operation without a constructor here
}

/// f(e): the expression `f` with `_x` replaced by `e`, rebuilt (and so simplified) bottom-up.
/// `compose(softplus, -2_c * (_y_pred - _y_true))` applies an activation to a loss term.
template <expression F, expression E>
constexpr auto compose(F, E e) {
  if constexpr (std::is_same_v<F, placeholder<0>>) return e;
  else if constexpr (!is_node_v<F>) return F{};
  else {
    return [e]<class Op, class... A>(node<Op, A...>) {
      return rebuild(Op{}, compose(A{}, e)...);
    }(F{});
  }
}

// ---- Plain numbers are not expressions ----
// Write constants as compile-time values (2.0_c, c<2.0>), so that an expression stays an empty
// type whose value is its type.
template <class N>
concept plain_number = std::is_arithmetic_v<N>;

template <class N>
constexpr void reject_number() {
  static_assert(always_false_v<N>, "frost::expr: write numbers in expressions as compile-time constants, e.g. 2.0_c or c<2.0>");
}
template <expression A, plain_number N>
constexpr auto operator+(A a, N) {
  return reject_number<N>(), a + one{};
}
template <plain_number N, expression A>
constexpr auto operator+(N, A a) {
  return reject_number<N>(), one{} + a;
}
template <expression A, plain_number N>
constexpr auto operator-(A a, N) {
  return reject_number<N>(), a - one{};
}
template <plain_number N, expression A>
constexpr auto operator-(N, A a) {
  return reject_number<N>(), one{} - a;
}
template <expression A, plain_number N>
constexpr auto operator*(A a, N) {
  return reject_number<N>(), a * one{};
}
template <plain_number N, expression A>
constexpr auto operator*(N, A a) {
  return reject_number<N>(), one{} * a;
}
template <expression A, plain_number N>
constexpr auto operator/(A a, N) {
  return reject_number<N>(), a / one{};
}
template <plain_number N, expression A>
constexpr auto operator/(N, A a) {
  return reject_number<N>(), one{} / a;
}
template <expression A, plain_number N>
constexpr auto operator<(A a, N) {
  return reject_number<N>(), a < one{};
}
template <plain_number N, expression A>
constexpr auto operator<(N, A a) {
  return reject_number<N>(), one{} < a;
}
template <expression A, plain_number N>
constexpr auto operator>(A a, N) {
  return reject_number<N>(), a > one{};
}
template <plain_number N, expression A>
constexpr auto operator>(N, A a) {
  return reject_number<N>(), one{} > a;
}
template <expression A, plain_number N>
constexpr auto operator<=(A a, N) {
  return reject_number<N>(), a <= one{};
}
template <plain_number N, expression A>
constexpr auto operator<=(N, A a) {
  return reject_number<N>(), one{} <= a;
}
template <expression A, plain_number N>
constexpr auto operator>=(A a, N) {
  return reject_number<N>(), a >= one{};
}
template <plain_number N, expression A>
constexpr auto operator>=(N, A a) {
  return reject_number<N>(), one{} >= a;
}

// ---- Literals ----

namespace detail {
/// Compile-error predicate: the `_c` literal is a decimal number (no hex, octal or binary prefix).
template <char C0, char C1>
inline constexpr bool decimal_literal = !(C0 == '0' && (C1 == 'x' || C1 == 'X' || C1 == 'b' || C1 == 'B'));

// Decimal text → double. Up to 19 significant digits are kept (more only shift the exponent);
// with at most 15 digits and |exponent| ≤ 22 the result is one correctly rounded operation on
// exact operands, as the compiler's own literal; beyond that it is within one unit in the last place.
template <char... Cs>
constexpr double parse_literal() {
  constexpr char text[] = {Cs..., '\0'};
  static_assert(decimal_literal<text[0], text[sizeof...(Cs) > 1 ? 1 : 0]>,
                "frost: _c literals are decimal numbers, e.g. 0.5_c or 1e-3_c");
  unsigned long long mantissa = 0;
  int digits = 0, scale = 0, exponent = 0, exponent_sign = 1;
  bool fraction = false, in_exponent = false;
  for (const char* p = text; *p != '\0'; ++p) {
    const char ch = *p;
    if (ch == '\'') continue;  // digit separator
    if (in_exponent) {
      if (ch == '-') exponent_sign = -1;
      else if (ch != '+') exponent = exponent * 10 + (ch - '0');
    } else if (ch == '.') {
      fraction = true;
    } else if (ch == 'e' || ch == 'E') {
      in_exponent = true;
    } else if (mantissa == 0 && ch == '0') {
      if (fraction) --scale;  // leading zeros carry no digits
    } else if (digits < 19) {
      mantissa = mantissa * 10 + static_cast<unsigned long long>(ch - '0');
      ++digits;
      if (fraction) --scale;
    } else if (!fraction) {
      ++scale;  // digits past the 19th only scale the value
    }
  }
  const int e = scale + exponent_sign * exponent;
  const int magnitude = e < 0 ? -e : e;
  if (mantissa < (1ULL << 53) && magnitude <= 22) {
    double power = 1;
    for (int i = 0; i < magnitude; ++i) power *= 10;  // exact up to 1e22
    return e < 0 ? static_cast<double>(mantissa) / power : static_cast<double>(mantissa) * power;
  }
  long double power = 1;
  for (int i = 0; i < magnitude; ++i) power *= 10;
  const long double m = static_cast<long double>(mantissa);
  return static_cast<double>(e < 0 ? m / power : m * power);
}
}  // namespace detail

}  // namespace expr

/// A compile-time constant in an expression: `c<0.5>`, `c<std::numbers::pi>`.
template <double V>
inline constexpr expr::constant<V> c{};

inline namespace literals {
/// `2.0_c`, `0.044715_c`, `3_c`: a compile-time constant in an expression.
template <char... Cs>
constexpr auto operator""_c() {
  return expr::constant<expr::detail::parse_literal<Cs...>()>{};
}
}  // namespace literals

/// The activation's input (pre-activation z).
inline constexpr expr::placeholder<0> _x{};
/// A loss's target.
inline constexpr expr::placeholder<1> _y_true{};
/// A loss's prediction (the model output).
inline constexpr expr::placeholder<2> _y_pred{};
/// The activation's output f(x), as kept from the forward pass; derivatives use it to reuse
/// what forward computed (sigmoid' = _y · (1 − _y)).
inline constexpr expr::placeholder<3> _y{};

using expr::abs;
using expr::clip;
using expr::compose;
using expr::exp;
using expr::floor;
using expr::log;
using expr::log1p;
using expr::max;
using expr::min;
using expr::pow;
using expr::round;
using expr::sqrt;
using expr::tanh;
using expr::where;

}  // namespace frost
