#pragma once
/// \file
/// `to_string(e)`: an expression as readable text, e.g. "sigmoid(x) * (1 - sigmoid(x))".

#include <frost/expr/expression.hpp>

#include <charconv>
#include <string>
#include <type_traits>

namespace frost::expr {

namespace detail {
inline std::string number_text(double v) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;  // shortest round-trip form
  return std::string(buffer, end);
}
template <class Op>
constexpr const char* function_name() {
  if constexpr (std::is_same_v<Op, exp_op>) return "exp";
  else if constexpr (std::is_same_v<Op, log_op>) return "log";
  else if constexpr (std::is_same_v<Op, log1p_op>) return "log1p";
  else if constexpr (std::is_same_v<Op, sqrt_op>) return "sqrt";
  else if constexpr (std::is_same_v<Op, tanh_op>) return "tanh";
  else if constexpr (std::is_same_v<Op, sigmoid_op>) return "sigmoid";
  else if constexpr (std::is_same_v<Op, abs_op>) return "abs";
  else if constexpr (std::is_same_v<Op, floor_op>) return "floor";
  else if constexpr (std::is_same_v<Op, round_op>) return "round";
  else if constexpr (std::is_same_v<Op, max_op>) return "max";
  else if constexpr (std::is_same_v<Op, min_op>) return "min";
  else if constexpr (std::is_same_v<Op, clip_op>) return "clip";
  else if constexpr (std::is_same_v<Op, where_op>) return "where";
  else return nullptr;
}
template <class Op>
constexpr const char* infix() {
  if constexpr (std::is_same_v<Op, add_op>) return " + ";
  else if constexpr (std::is_same_v<Op, sub_op>) return " - ";
  else if constexpr (std::is_same_v<Op, mul_op>) return " * ";
  else if constexpr (std::is_same_v<Op, div_op>) return " / ";
  else if constexpr (std::is_same_v<Op, less_op>) return " < ";
  else if constexpr (std::is_same_v<Op, greater_op>) return " > ";
  else if constexpr (std::is_same_v<Op, less_equal_op>) return " <= ";
  else if constexpr (std::is_same_v<Op, greater_equal_op>) return " >= ";
  else return nullptr;
}
template <class E>
inline constexpr bool is_call_v = false;
template <class Op, class... A>
inline constexpr bool is_call_v<node<Op, A...>> = function_name<Op>() != nullptr || requires { Op::exponent; };
template <class E>
inline constexpr bool is_nonnegative_constant_v = false;
template <double V>
inline constexpr bool is_nonnegative_constant_v<constant<V>> = V >= 0;
template <class E>
inline constexpr bool is_atom_v = is_placeholder_v<E> || is_nonnegative_constant_v<E> || is_call_v<E>;
}  // namespace detail

/// Readable text of `e`: placeholders print as x, y_true, y_pred and y (the kept output).
template <class E>
std::string to_string(E) {
  if constexpr (is_constant_v<E>) return detail::number_text(E::value);
  else if constexpr (is_placeholder_v<E>) {
    constexpr const char* names[] = {"x", "y_true", "y_pred", "y"};
    return names[E::id];
  } else {
    return []<class Op, class... A>(node<Op, A...>) {
      auto wrap = []<class S>(S s) {
        std::string t = to_string(s);
        return detail::is_atom_v<S> ? t : "(" + t + ")";
      };
      if constexpr (std::is_same_v<Op, neg_op>) {
        return ("-" + ... + wrap(A{}));
      } else if constexpr (requires { Op::exponent; }) {
        return ("pow(" + ... + to_string(A{})) + ", " + std::to_string(Op::exponent) + ")";
      } else if constexpr (detail::infix<Op>() != nullptr) {
        std::string out;
        ((out += (out.empty() ? "" : detail::infix<Op>()) + wrap(A{})), ...);
        return out;
      } else {
        std::string out;
        ((out += (out.empty() ? "" : ", ") + to_string(A{})), ...);
        return std::string(detail::function_name<Op>()) + "(" + out + ")";
      }
    }(E{});
  }
}

}  // namespace frost::expr
