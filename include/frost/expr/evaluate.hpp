#pragma once
/// \file
/// `evaluate(e, env)`: the value of an expression for given placeholder values. Inlines to the
/// straight-line code a hand-written loop body would contain.

#include <frost/expr/expression.hpp>

#include <cmath>
#include <type_traits>

namespace frost::expr {

/// Values of the placeholders: `_x`, `_y_true`, `_y_pred`, `_y`.
template <class T>
struct bindings {
  T x{};
  T y_true{};
  T y_pred{};
  T y{};
};

template <class T, class E>
constexpr auto evaluate(E, const bindings<T>& b) noexcept;

namespace detail {

template <class T, class Op, class... A>
constexpr auto evaluate_node(node<Op, A...>, const bindings<T>& b) noexcept {
  if constexpr (std::is_same_v<Op, add_op>) return (evaluate(A{}, b) + ...);
  else if constexpr (std::is_same_v<Op, sub_op>) return evaluate(first_arg_t<node<Op, A...>>{}, b) - evaluate(second_arg_t<node<Op, A...>>{}, b);
  else if constexpr (std::is_same_v<Op, mul_op>) return (evaluate(A{}, b) * ...);
  else if constexpr (std::is_same_v<Op, div_op>) return evaluate(first_arg_t<node<Op, A...>>{}, b) / evaluate(second_arg_t<node<Op, A...>>{}, b);
  else {
    const auto a = evaluate(first_arg_t<node<Op, A...>>{}, b);
    if constexpr (std::is_same_v<Op, neg_op>) return -a;
    else if constexpr (std::is_same_v<Op, exp_op>) return std::exp(a);
    else if constexpr (std::is_same_v<Op, log_op>) return std::log(a);
    else if constexpr (std::is_same_v<Op, log1p_op>) return std::log1p(a);
    else if constexpr (std::is_same_v<Op, sqrt_op>) return std::sqrt(a);
    else if constexpr (std::is_same_v<Op, tanh_op>) return std::tanh(a);
    else if constexpr (std::is_same_v<Op, sigmoid_op>) return T(1) / (T(1) + std::exp(-a));
    else if constexpr (std::is_same_v<Op, abs_op>) return std::abs(a);
    else if constexpr (std::is_same_v<Op, floor_op>) return std::floor(a);
    else if constexpr (std::is_same_v<Op, round_op>) return std::round(a);
    else if constexpr (requires { Op::exponent; }) {
      constexpr int n = Op::exponent < 0 ? -Op::exponent : Op::exponent;
      T r = a;
      for (int i = 1; i < n; ++i) r *= a;
      if constexpr (Op::exponent < 0) return T(1) / r;
      else return r;
    } else if constexpr (std::is_same_v<Op, clip_op>) {
      using N = node<Op, A...>;
      constexpr T lo = T(second_arg_t<N>::value), hi = T(second_arg_t<typename node_args<N>::rest>::value);
      return a < lo ? lo : (a > hi ? hi : a);
    } else if constexpr (std::is_same_v<Op, where_op>) {
      using N = node<Op, A...>;
      return a ? evaluate(second_arg_t<N>{}, b) : evaluate(second_arg_t<typename node_args<N>::rest>{}, b);
    } else {
      const auto c = evaluate(second_arg_t<node<Op, A...>>{}, b);
      if constexpr (std::is_same_v<Op, max_op>) return a >= c ? a : c;
      else if constexpr (std::is_same_v<Op, min_op>) return a <= c ? a : c;
      else if constexpr (std::is_same_v<Op, less_op>) return a < c;
      else if constexpr (std::is_same_v<Op, greater_op>) return a > c;
      else if constexpr (std::is_same_v<Op, less_equal_op>) return a <= c;
      else if constexpr (std::is_same_v<Op, greater_equal_op>) return a >= c;
      else static_assert(always_false_v<Op>, "frost::expr::evaluate: unknown operation");
    }
  }
}

}  // namespace detail

/// The value of `e` (a number of type T, or a bool for a comparison).
template <class T, class E>
constexpr auto evaluate(E, const bindings<T>& b) noexcept {
  if constexpr (is_constant_v<E>) return T(E::value);
  else if constexpr (is_placeholder_v<E>) {
    if constexpr (E::id == 0) return b.x;
    else if constexpr (E::id == 1) return b.y_true;
    else if constexpr (E::id == 2) return b.y_pred;
    else return b.y;
  } else {
    return detail::evaluate_node<T>(E{}, b);
  }
}

}  // namespace frost::expr
