#pragma once
/// \file
/// `part` and `index_range`: one share of a job split across threads, and the indices it covers.

#include <algorithm>
#include <cstddef>

namespace frost {

/// A half-open range of indices.
struct index_range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const noexcept { return end - begin; }
  bool empty() const noexcept { return end <= begin; }
};

/// Share `index` of a job split `count` ways.
struct part {
  std::size_t index = 0;
  std::size_t count = 1;
  /// This share of [0, n), cut at multiples of `grain` so that every share but the last starts
  /// and ends on a grain boundary; shares differ by at most one grain.
  index_range of(std::size_t n, std::size_t grain = 1) const noexcept {
    const std::size_t grains = (n + grain - 1) / grain;
    const std::size_t first = grains * index / count, last = grains * (index + 1) / count;
    return {std::min(n, first * grain), std::min(n, last * grain)};
  }
  /// The whole job, undivided.
  static constexpr part whole() noexcept { return {0, 1}; }
};

}  // namespace frost
