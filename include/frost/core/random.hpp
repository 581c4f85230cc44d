#pragma once
/// \file
/// `random_stream`: a small, fully specified pseudo-random generator (SplitMix64), so that
/// `init(seed)` gives the same weights on every platform and standard library.

#include <cstdint>

namespace frost {

/// A seeded stream of 64-bit values and uniform doubles, identical everywhere.
class random_stream {
 public:
  explicit constexpr random_stream(std::uint64_t seed) noexcept : state_(seed) {}

  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [lo, hi), from the top 53 bits.
  constexpr double uniform(double lo, double hi) noexcept {
    const double u = static_cast<double>(next() >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
  }

 private:
  std::uint64_t state_;
};

}  // namespace frost
