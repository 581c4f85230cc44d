#pragma once
/// \file
/// `evaluate(e, env)`: the value of an expression for given placeholder values, on scalars or
/// on whole vectors (GNU vectors, core/simd.hpp) alike, so one loop body serves a fused
/// vectorized loop, its scalar tail, and a register block of a GEMM epilogue. Arithmetic,
/// comparisons and selection run as vector instructions; exp, log, tanh and the like run lane by
/// lane with the standard library's functions, so vector and scalar results agree (up to the
/// compiler contracting a·b + c into an FMA differently in the two).

#include <frost/core/simd.hpp>
#include <frost/expr/expression.hpp>

#include <cmath>
#include <type_traits>

namespace frost::expr {

/// Values of the placeholders `_x`, `_y_true`, `_y_pred`, `_y`: scalars or vectors.
template <class V>
struct bindings {
  V x{};
  V y_true{};
  V y_pred{};
  V y{};
};

template <class V, class E>
constexpr auto evaluate(E, const bindings<V>& b) noexcept;

namespace detail {

template <class V, class F>
inline V lanewise(V a, F f) noexcept {
  return simd::map(a, f);
}

template <class V, class Op, class... A>
constexpr auto evaluate_node(node<Op, A...>, const bindings<V>& b) noexcept {
  using N = node<Op, A...>;
  if constexpr (std::is_same_v<Op, add_op>) return (evaluate(A{}, b) + ...);
  else if constexpr (std::is_same_v<Op, mul_op>) return (evaluate(A{}, b) * ...);
  else if constexpr (std::is_same_v<Op, sub_op>) return evaluate(first_arg_t<N>{}, b) - evaluate(second_arg_t<N>{}, b);
  else if constexpr (std::is_same_v<Op, div_op>) return evaluate(first_arg_t<N>{}, b) / evaluate(second_arg_t<N>{}, b);
  else {
    const auto a = evaluate(first_arg_t<N>{}, b);
    using S = simd::element_t<V>;
    const V zero = simd::splat<V>(0), one = simd::splat<V>(1);
    if constexpr (std::is_same_v<Op, neg_op>) return -a;
    else if constexpr (std::is_same_v<Op, exp_op>) return lanewise(a, [](S v) { return std::exp(v); });
    else if constexpr (std::is_same_v<Op, log_op>) return lanewise(a, [](S v) { return std::log(v); });
    else if constexpr (std::is_same_v<Op, log1p_op>) return lanewise(a, [](S v) { return std::log1p(v); });
    else if constexpr (std::is_same_v<Op, sqrt_op>) return lanewise(a, [](S v) { return std::sqrt(v); });
    else if constexpr (std::is_same_v<Op, tanh_op>) return lanewise(a, [](S v) { return std::tanh(v); });
    else if constexpr (std::is_same_v<Op, sigmoid_op>) return one / (one + lanewise(-a, [](S v) { return std::exp(v); }));
    else if constexpr (std::is_same_v<Op, abs_op>) return simd::select(a < zero, -a, a);
    else if constexpr (std::is_same_v<Op, floor_op>) return lanewise(a, [](S v) { return std::floor(v); });
    else if constexpr (std::is_same_v<Op, round_op>) return lanewise(a, [](S v) { return std::round(v); });
    else if constexpr (requires { Op::exponent; }) {
      constexpr int n = Op::exponent < 0 ? -Op::exponent : Op::exponent;
      V r = a;
      for (int i = 1; i < n; ++i) r *= a;
      if constexpr (Op::exponent < 0) return one / r;
      else return r;
    } else if constexpr (std::is_same_v<Op, clip_op>) {
      const V lo = simd::splat<V>(second_arg_t<N>::value);
      const V hi = simd::splat<V>(second_arg_t<typename node_args<N>::rest>::value);
      return simd::select(a < lo, lo, simd::select(a > hi, hi, a));
    } else if constexpr (std::is_same_v<Op, where_op>) {
      return simd::select(a, evaluate(second_arg_t<N>{}, b), evaluate(second_arg_t<typename node_args<N>::rest>{}, b));
    } else {
      const auto c = evaluate(second_arg_t<N>{}, b);
      if constexpr (std::is_same_v<Op, max_op>) return simd::select(a >= c, a, c);
      else if constexpr (std::is_same_v<Op, min_op>) return simd::select(a <= c, a, c);
      else if constexpr (std::is_same_v<Op, less_op>) return a < c;
      else if constexpr (std::is_same_v<Op, greater_op>) return a > c;
      else if constexpr (std::is_same_v<Op, less_equal_op>) return a <= c;
      else if constexpr (std::is_same_v<Op, greater_equal_op>) return a >= c;
      else static_assert(always_false_v<Op>, "frost::expr::evaluate: unknown operation");
    }
  }
}

}  // namespace detail

/// The value of `e`: a `V` (a comparison gives a bool, or a lane mask for vectors).
template <class V, class E>
constexpr auto evaluate(E, const bindings<V>& b) noexcept {
  if constexpr (is_constant_v<E>) return simd::splat<V>(E::value);
  else if constexpr (is_placeholder_v<E>) {
    if constexpr (E::id == 0) return b.x;
    else if constexpr (E::id == 1) return b.y_true;
    else if constexpr (E::id == 2) return b.y_pred;
    else return b.y;
  } else {
    return detail::evaluate_node<V>(E{}, b);
  }
}

}  // namespace frost::expr
