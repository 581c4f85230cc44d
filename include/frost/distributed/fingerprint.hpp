#pragma once
/// \file
/// `type_fingerprint<T>()`: a 64-bit hash of a type's full name as the compiler spells it, so
/// that processes can check, before they exchange any number, that they run the same model with
/// the same layers frozen (trainability is part of the type) and the same loss and optimizer.
/// Programs built by different compilers spell names differently: build every rank alike.

#include <cstdint>
#include <string_view>

namespace frost {

namespace detail {
template <class T>
consteval std::string_view type_name_of() {
  return __PRETTY_FUNCTION__;  // names T, and nothing else varies between two instantiations
}
}  // namespace detail

/// FNV-1a over the compiler's name for `T`.
template <class T>
consteval std::uint64_t type_fingerprint() {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : detail::type_name_of<T>()) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace frost
