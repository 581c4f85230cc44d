#pragma once
/// \file
/// `fixed_string<N>`: a string usable as a template argument, for layer names
/// (`named<"encoder", dense<64, relu>>`, `model.layer<"encoder">()`).

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace frost {

/// A string literal as a structural value: `fixed_string{"encoder"}`. `N` counts the final '\0'.
template <std::size_t N>
struct fixed_string {
  char value[N]{};

  constexpr fixed_string(const char (&s)[N]) noexcept { std::copy_n(s, N, value); }  // NOLINT: implicit on purpose

  static constexpr std::size_t length = N - 1;
  constexpr std::string_view view() const noexcept { return std::string_view(value, N - 1); }
  constexpr operator std::string_view() const noexcept { return view(); }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

}  // namespace frost
