#pragma once
/// \file
/// `shape<D...>`: a compile-time feature shape (the batch is never part of it).

#include <array>
#include <cstddef>

namespace frost {

/// A compile-time feature shape, e.g. `shape<8, 8, 1>` (Keras channels_last, HWC).
/// `size` is the number of scalars per sample; `rank` the number of dimensions.
template <std::size_t... Dims>
struct shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
};

/// The result of a failed shape computation. Every later check accepts it, so one mistake
/// gives one compile error.
struct invalid_shape {
  static constexpr std::size_t rank = 0;
  static constexpr std::size_t size = 0;
};

/// Requirement types that read as expected shapes in compile errors.
template <std::size_t Rank>
struct any_of_rank {};
struct any_shape {};

}  // namespace frost
