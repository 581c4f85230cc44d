#pragma once
/// \file
/// `evaluate(e, env)`: the value of an expression for given placeholder values, on scalars or
/// on whole vectors (GNU vectors, core/simd.hpp) alike, so one loop body serves a fused
/// vectorized loop, its scalar tail, and a register block of a GEMM epilogue. Arithmetic,
/// comparisons and selection run as vector instructions; exp, log, tanh and the like run lane by
/// lane with the standard library's functions, so vector and scalar results agree (up to the
/// compiler contracting a·b + c into an FMA differently in the two). Costly subtrees that occur
/// more than once are computed once.

#include <frost/core/simd.hpp>
#include <frost/expr/expression.hpp>

#include <cmath>
#include <cstddef>
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

namespace detail {

template <class V, class F>
inline V lanewise(V a, F f) noexcept {
  return simd::map(a, f);
}

template <class... T>
struct type_list {};

// Operations worth computing once when a subtree repeats: calls into the math library, which
// the compiler's own common-subexpression elimination does not merge (arithmetic it does).
template <class Op>
inline constexpr bool costly_v = std::is_same_v<Op, exp_op> || std::is_same_v<Op, log_op> ||
                                 std::is_same_v<Op, log1p_op> || std::is_same_v<Op, sqrt_op> ||
                                 std::is_same_v<Op, tanh_op> || std::is_same_v<Op, sigmoid_op>;

template <class S, class E>
inline constexpr int count_v = std::is_same_v<S, E> ? 1 : 0;
template <class S, class Op, class... A>
inline constexpr int count_v<S, node<Op, A...>> = (std::is_same_v<S, node<Op, A...>> ? 1 : 0) + (count_v<S, A> + ...);

template <class S, class List>
inline constexpr bool contains_v = false;
template <class S, class... T>
inline constexpr bool contains_v<S, type_list<T...>> = (std::is_same_v<S, T> || ...);

template <class S, class List>
inline constexpr std::size_t index_v = 0;
template <class S, class... T>
inline constexpr std::size_t index_v<S, type_list<T...>> = [] {
  std::size_t i = 0;
  (void)((std::is_same_v<S, T> ? false : (++i, true)) && ...);
  return i;
}();

template <class List>
inline constexpr std::size_t size_v = 0;
template <class... T>
inline constexpr std::size_t size_v<type_list<T...>> = sizeof...(T);

// The costly subtrees of E... that occur at least twice in Root, children before parents.
template <class Root, class List, class... E>
struct shared;
template <class Root, class List>
struct shared<Root, List> {
  using type = List;
};
template <class Root, class List, class E, class... Rest>
struct shared<Root, List, E, Rest...> {
  using type = typename shared<Root, List, Rest...>::type;
};
template <class Root, class N, class List>
struct add_shared {
  using type = List;
};
template <class Root, class Op, class... A, class... M>
  requires(costly_v<Op> && count_v<node<Op, A...>, Root> >= 2 && !contains_v<node<Op, A...>, type_list<M...>>)
struct add_shared<Root, node<Op, A...>, type_list<M...>> {
  using type = type_list<M..., node<Op, A...>>;
};
template <class Root, class List, class Op, class... A, class... Rest>
struct shared<Root, List, node<Op, A...>, Rest...> {
  using with_children = typename shared<Root, List, A...>::type;
  using type = typename shared<Root, typename add_shared<Root, node<Op, A...>, with_children>::type, Rest...>::type;
};

template <class E>
using shared_t = typename shared<E, type_list<>, E>::type;

// Evaluation state: the placeholder values and the values of the shared subtrees.
template <class V, class Shared>
struct context {
  const bindings<V>& b;
  V cache[size_v<Shared> == 0 ? 1 : size_v<Shared>];
};

template <std::size_t Known, class V, class Shared, class E>
constexpr auto eval(E, context<V, Shared>& ctx) noexcept;

template <std::size_t Known, class V, class Shared, class Op, class... A>
constexpr auto eval_node(node<Op, A...>, context<V, Shared>& ctx) noexcept {
  using N = node<Op, A...>;
  // An operand that is a comparison counts as 1 or 0 (a bool for scalars, a lane mask for vectors).
  auto at = [&]<class E>(E e) {
    if constexpr (is_condition_v<E>) return simd::select(eval<Known>(e, ctx), simd::splat<V>(1), simd::splat<V>(0));
    else return eval<Known>(e, ctx);
  };
  if constexpr (std::is_same_v<Op, add_op>) return (at(A{}) + ...);
  else if constexpr (std::is_same_v<Op, mul_op>) return (at(A{}) * ...);
  else if constexpr (std::is_same_v<Op, sub_op>) return at(first_arg_t<N>{}) - at(second_arg_t<N>{});
  else if constexpr (std::is_same_v<Op, div_op>) return at(first_arg_t<N>{}) / at(second_arg_t<N>{});
  else if constexpr (std::is_same_v<Op, where_op>) {
    return simd::select(eval<Known>(first_arg_t<N>{}, ctx), at(second_arg_t<N>{}),
                        at(second_arg_t<typename node_args<N>::rest>{}));
  } else {
    const auto a = at(first_arg_t<N>{});
    using S = simd::element_t<V>;
    const V zero = simd::splat<V>(0), one = simd::splat<V>(1);
    if constexpr (std::is_same_v<Op, neg_op>) return -a;
    else if constexpr (std::is_same_v<Op, exp_op>) return simd::exp(a);
    else if constexpr (std::is_same_v<Op, log_op>) return lanewise(a, [](S v) { return std::log(v); });
    else if constexpr (std::is_same_v<Op, log1p_op>) return lanewise(a, [](S v) { return std::log1p(v); });
    else if constexpr (std::is_same_v<Op, sqrt_op>) {
      if constexpr (simd::is_vector_v<V>) return simd::sqrt<S, sizeof(V)>(a);  // correctly rounded, as std::sqrt
      else return std::sqrt(a);
    }
    else if constexpr (std::is_same_v<Op, tanh_op>) return simd::tanh(a);
    else if constexpr (std::is_same_v<Op, sigmoid_op>) return one / (one + simd::exp(-a));
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
    } else {
      const auto c = at(second_arg_t<N>{});
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

template <std::size_t Known, class V, class Shared, class E>
constexpr auto eval(E, context<V, Shared>& ctx) noexcept {
  if constexpr (is_constant_v<E>) return simd::splat<V>(E::value);
  else if constexpr (is_placeholder_v<E>) {
    if constexpr (E::id == 0) return ctx.b.x;
    else if constexpr (E::id == 1) return ctx.b.y_true;
    else if constexpr (E::id == 2) return ctx.b.y_pred;
    else return ctx.b.y;
  } else if constexpr (contains_v<E, Shared> && index_v<E, Shared> < Known) {
    return ctx.cache[index_v<E, Shared>];
  } else {
    return eval_node<Known>(E{}, ctx);
  }
}

}  // namespace detail

/// The value of `e` for the placeholder values `b`: a `V`, or for a comparison a bool (a lane
/// mask for vectors).
template <class V, class E>
constexpr auto evaluate(E, const bindings<V>& b) noexcept {
  using shared = detail::shared_t<E>;
  detail::context<V, shared> ctx{b, {}};
  [&]<class... S>(detail::type_list<S...>) {
    ((ctx.cache[detail::index_v<S, shared>] = detail::eval<detail::index_v<S, shared>>(S{}, ctx)), ...);
  }(shared{});
  return detail::eval<detail::size_v<shared>>(E{}, ctx);
}

}  // namespace frost::expr
