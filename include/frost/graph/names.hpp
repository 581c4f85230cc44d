#pragma once
/// \file
/// Layer names: the name a user gave (`named<"encoder", ...>`) or Keras's default — the layer's
/// snake_case class name, then `_1`, `_2`, ... for later layers of the same kind, counted in
/// `model.layers` order — and the name-to-index map of a model (a `boost::hana::map` from
/// `hana::string` to `hana::size_t`), built only when a name is looked up.

#include <frost/core/fixed_string.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/named.hpp>
#include <frost/graph/node.hpp>

#include <boost/hana/find.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/map.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace frost {

/// A layer's name as parts: `base` (the given name, or Keras's class name) and, for default
/// names, the `_N` suffix (0: none).
struct layer_name {
  std::string_view base{};
  std::size_t suffix = 0;
  bool given = false;

  constexpr std::size_t length() const noexcept {
    std::size_t n = base.size();
    if (suffix != 0) {
      ++n;
      for (std::size_t s = suffix; s != 0; s /= 10) ++n;
    }
    return n;
  }
  /// Character i of the full name (`dense_12`).
  constexpr char at(std::size_t i) const noexcept {
    if (i < base.size()) return base[i];
    if (i == base.size()) return '_';
    std::size_t digits = length() - base.size() - 1, s = suffix;
    for (std::size_t k = digits - 1 - (i - base.size() - 1); k != 0; --k) s /= 10;
    return static_cast<char>('0' + s % 10);
  }
  constexpr bool operator==(std::string_view other) const noexcept {
    if (other.size() != length()) return false;
    for (std::size_t i = 0; i < other.size(); ++i)
      if (other[i] != at(i)) return false;
    return true;
  }
  std::string str() const {
    std::string s(base);
    if (suffix != 0) {
      s += '_';
      s += std::to_string(suffix);
    }
    return s;
  }
};

namespace detail {

template <class L>
constexpr std::string_view keras_name_of() {
  if constexpr (requires { spec_t<L>::keras_name; }) return spec_t<L>::keras_name;
  else return "layer";
}

constexpr std::uint64_t text_hash(std::string_view text, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// Every node's name, in node order. `Hidden` nodes (a sequential model's input) take no name.
/// Kinds are compared by a hash of their name, so counting is one integer comparison per pair.
template <class... Nodes>
constexpr std::array<layer_name, sizeof...(Nodes)> names_of(std::size_t hidden) {
  std::array<layer_name, sizeof...(Nodes)> out{
      layer_name{given_name_v<typename Nodes::layer_type>.empty() ? keras_name_of<typename Nodes::layer_type>()
                                                                  : given_name_v<typename Nodes::layer_type>,
                 0, !given_name_v<typename Nodes::layer_type>.empty()}...};
  std::array<std::uint64_t, sizeof...(Nodes)> kind{};
  for (std::size_t i = 0; i < out.size(); ++i) kind[i] = out[i].given ? 0 : text_hash(out[i].base);
  for (std::size_t i = hidden; i < out.size(); ++i) {
    if (out[i].given) continue;
    std::size_t before = 0;
    for (std::size_t j = hidden; j < i; ++j)
      if (kind[j] == kind[i] && !out[j].given) ++before;
    out[i].suffix = before;
  }
  return out;
}

/// A hash of a name's full text (`dense_12`).
constexpr std::uint64_t name_hash(const layer_name& n) {
  std::uint64_t h = text_hash(n.base);
  if (n.suffix != 0) {
    char digits[24]{};
    std::size_t k = 0;
    for (std::size_t s = n.suffix; s != 0; s /= 10) digits[k++] = static_cast<char>('0' + s % 10);
    h = text_hash("_", h);
    while (k != 0) h = text_hash(std::string_view(&digits[--k], 1), h);
  }
  return h;
}

/// The first node whose name equals another's (npos: all distinct).
template <std::size_t N>
constexpr std::size_t first_duplicate_name(const std::array<layer_name, N>& names, std::size_t hidden) {
  std::array<std::uint64_t, N> h{};
  for (std::size_t i = hidden; i < N; ++i) h[i] = name_hash(names[i]);
  for (std::size_t i = hidden; i < N; ++i)
    for (std::size_t j = hidden; j < i; ++j)
      if (h[i] == h[j]) {
        bool same = names[i].length() == names[j].length();
        for (std::size_t k = 0; same && k < names[i].length(); ++k) same = names[i].at(k) == names[j].at(k);
        if (same) return i;
      }
  return static_cast<std::size_t>(-1);
}

template <const auto& Names, std::size_t I, std::size_t... C>
constexpr auto hana_name(std::index_sequence<C...>) {
  return boost::hana::string_c<Names[I].at(C)...>;
}

/// The name-to-index map of a model whose names are `Names`, from node `Hidden` on.
template <const auto& Names, std::size_t Hidden, std::size_t... I>
constexpr auto name_map(std::index_sequence<I...>) {
  return boost::hana::make_map(boost::hana::make_pair(
      hana_name<Names, Hidden + I>(std::make_index_sequence<Names[Hidden + I].length()>{}),
      boost::hana::size_c<Hidden + I>)...);
}

template <fixed_string Name, std::size_t... C>
constexpr auto hana_string_of(std::index_sequence<C...>) {
  return boost::hana::string_c<Name.value[C]...>;
}

/// The node named `Name` in a model whose names are `Names` (npos: none).
template <const auto& Names, std::size_t Hidden, fixed_string Name>
constexpr std::size_t node_named() {
  constexpr auto map = name_map<Names, Hidden>(std::make_index_sequence<Names.size() - Hidden>{});
  constexpr auto found = boost::hana::find(map, hana_string_of<Name>(std::make_index_sequence<Name.length>{}));
  if constexpr (decltype(boost::hana::is_just(found))::value) return std::remove_cvref_t<decltype(*found)>::value;
  else return static_cast<std::size_t>(-1);
}

}  // namespace detail

/// Compile-error predicate: the model has no layer named `Name`.
template <fixed_string Name, std::size_t Found>
inline constexpr bool layer_name_exists = Found != static_cast<std::size_t>(-1);

/// Compile-error predicate: layer `Index` (a `Layer`) has a name no earlier layer has (`Unique`).
template <std::size_t Index, class Layer, bool Unique>
inline constexpr bool layer_name_unique = Unique;

namespace detail {
/// What `layer<"name">()` gives after reporting a name that does not exist: empty views, so the
/// one error is the only one.
struct no_such_layer {
  std::span<float, 0> kernel() const noexcept { return {}; }
  std::span<float, 0> bias() const noexcept { return {}; }
};
}  // namespace detail

}  // namespace frost
