#pragma once
/// \file
/// `d(e, p)`: the derivative of expression `e` with respect to placeholder `p`, as another
/// expression type, computed and simplified at compile time; and `reuse_output<f>(e)`, which
/// rewrites a derivative to read f's kept output `_y` wherever it recomputes f.
/// ```cpp
/// constexpr auto swish = _x * sigmoid(_x);
/// constexpr auto ds = d(swish, _x);   // sigmoid(x) + x * (sigmoid(x) * (1 - sigmoid(x)))
/// ```

#include <frost/expr/expression.hpp>

#include <type_traits>

namespace frost::expr {

/// Compile-error predicate: operation `Op` has a derivative. floor, round and comparisons used
/// as values do not.
template <class Op>
inline constexpr bool has_derivative = !(std::is_same_v<Op, floor_op> || std::is_same_v<Op, round_op> ||
                                         std::is_same_v<Op, less_op> || std::is_same_v<Op, greater_op> ||
                                         std::is_same_v<Op, less_equal_op> || std::is_same_v<Op, greater_equal_op>);

/// Can `E` be differentiated with respect to `P`? Parts that do not use P are constants, and the
/// conditions of `where` are not differentiated, so they may round or compare.
template <class E, class P = placeholder<0>>
inline constexpr bool differentiable_v = true;
template <class Op, class... A, class P>
inline constexpr bool differentiable_v<node<Op, A...>, P> =
    !uses_v<node<Op, A...>, P> || (has_derivative<Op> && (differentiable_v<A, P> && ...));
template <class C, class A, class B, class P>
inline constexpr bool differentiable_v<node<where_op, C, A, B>, P> = differentiable_v<A, P> && differentiable_v<B, P>;

template <class E, int Id>
constexpr auto d(E, placeholder<Id>);

namespace detail {

template <class Op, class N, class A, class DA, int Id>
constexpr auto d_unary_or_binary(A a, DA da, placeholder<Id> p);

template <class Op, class... A, int Id>
constexpr auto d_node(node<Op, A...>, placeholder<Id> p) {
  using N = node<Op, A...>;
  using a_t = first_arg_t<N>;
  constexpr a_t a{};
  static_assert(has_derivative<Op>, "frost::expr::d: the expression uses an operation that has no derivative "
                                    "(floor, round, or a comparison used as a value)");
  if constexpr (!has_derivative<Op>) {
    return zero{};
  } else if constexpr (std::is_same_v<Op, where_op>) {
    // The condition selects; it is not differentiated.
    using then_t = second_arg_t<N>;
    using else_t = second_arg_t<typename node_args<N>::rest>;
    return where(a, d(then_t{}, p), d(else_t{}, p));
  } else {
    constexpr auto da = d(a, p);
    return d_unary_or_binary<Op, N>(a, da, p);
  }
}

template <class Op, class N, class A, class DA, int Id>
constexpr auto d_unary_or_binary(A a, DA da, placeholder<Id> p) {
  if constexpr (std::is_same_v<Op, neg_op>) {
    return -da;
  } else if constexpr (std::is_same_v<Op, exp_op>) {
    return N{} * da;
  } else if constexpr (std::is_same_v<Op, log_op>) {
    return da / a;
  } else if constexpr (std::is_same_v<Op, log1p_op>) {
    return da / (one{} + a);
  } else if constexpr (std::is_same_v<Op, sqrt_op>) {
    return da / (constant<2.0>{} * N{});
  } else if constexpr (std::is_same_v<Op, tanh_op>) {
    return (one{} - N{} * N{}) * da;
  } else if constexpr (std::is_same_v<Op, sigmoid_op>) {
    return (N{} * (one{} - N{})) * da;
  } else if constexpr (std::is_same_v<Op, abs_op>) {
    return where(a < zero{}, -da, where(a > zero{}, da, zero{}));  // sign(a)·da: 0 at 0, as TensorFlow
  } else if constexpr (requires { Op::exponent; }) {
    return constant<double(Op::exponent)>{} * pow<Op::exponent - 1>(a) * da;
  } else if constexpr (std::is_same_v<Op, clip_op>) {
    using lo = second_arg_t<N>;
    using hi = second_arg_t<typename node_args<N>::rest>;
    return where(a < lo{}, zero{}, where(a > hi{}, zero{}, da));
  } else {
    using b_t = second_arg_t<N>;
    constexpr b_t b{};
    constexpr auto db = d(b, p);
    if constexpr (std::is_same_v<Op, add_op>) return da + db;
    else if constexpr (std::is_same_v<Op, sub_op>) return da - db;
    else if constexpr (std::is_same_v<Op, mul_op>) return da * b + a * db;
    else if constexpr (std::is_same_v<Op, div_op>) return da / b - a * db / (b * b);
    // TensorFlow's convention at ties: the gradient goes to the first argument.
    else if constexpr (std::is_same_v<Op, max_op>) return where(a >= b, da, db);
    else if constexpr (std::is_same_v<Op, min_op>) return where(a <= b, da, db);
    else static_assert(always_false_v<Op>, "frost::expr::d: unknown operation");
  }
}

}  // namespace detail

/// ∂e/∂p, simplified. Placeholders other than p are constants here.
template <class E, int Id>
constexpr auto d(E, placeholder<Id> p) {
  if constexpr (is_placeholder_v<E>) return constant<E::id == Id ? 1.0 : 0.0>{};
  else if constexpr (is_constant_v<E>) return zero{};
  else if constexpr (!uses_v<E, placeholder<Id>>) return zero{};
  else return detail::d_node(E{}, p);
}

/// `e` with every occurrence of the expression `F` replaced by `_y` (F's kept output).
template <class F, class E>
constexpr auto reuse_output(E) {
  if constexpr (std::is_same_v<E, F>) return placeholder<3>{};
  else if constexpr (is_node_v<E>) {
    return []<class Op, class... A>(node<Op, A...>) { return node<Op, decltype(reuse_output<F>(A{}))...>{}; }(E{});
  } else {
    return E{};
  }
}

/// The derivative an activation f's backward evaluates: d f/d x, reading f's output `_y` where
/// it would recompute f.
template <class F>
using activation_derivative_t = decltype(reuse_output<F>(d(F{}, placeholder<0>{})));

}  // namespace frost::expr

namespace frost {
using expr::d;
}  // namespace frost
