#pragma once
/// \file
/// `random_stream`: a small, fully specified pseudo-random generator (SplitMix64), so that
/// `init(seed)` gives the same weights on every platform and standard library.

#include <atomic>
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

/// A 64-bit value that depends on every bit of `a` and `b` (SplitMix64's finalizer over
/// a combination of them): keys of independent random streams, e.g. per pass and per layer.
constexpr std::uint64_t mix_keys(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Uniform in [0, 1) for element `index` of the stream `key`: a counter-based generator, so any
/// element can be drawn without the ones before it (threads drawing disjoint rows give the same
/// values as one thread drawing them all).
constexpr float uniform_at(std::uint64_t key, std::uint64_t index) noexcept {
  return static_cast<float>(mix_keys(key, index) >> 40) * 0x1.0p-24f;
}

/// The seed of a trainer's random stream (dropout masks): `make_trainer(..., threads{2}, seed{7})`.
/// Steps of trainers with the same seed draw the same masks, whatever the thread count.
struct seed {
  std::uint64_t value = 0;
};

namespace detail {
struct global_stream {
  std::atomic<std::uint64_t> seed{0};
  std::atomic<std::uint64_t> count{0};
};
inline global_stream& global_random() noexcept {
  static global_stream s;
  return s;
}
/// The key of the next pass that draws from the process-wide stream (`value_and_grad`).
inline std::uint64_t next_global_key() noexcept {
  global_stream& g = global_random();
  return mix_keys(g.seed.load(std::memory_order_relaxed), g.count.fetch_add(1, std::memory_order_relaxed));
}
}  // namespace detail

/// Restarts the process-wide random stream that `value_and_grad`'s training-mode passes draw
/// dropout masks from (Keras `keras.utils.set_random_seed`): the same seed and the same calls
/// give the same masks. Trainers draw from their own stream (`seed{}` of `make_trainer`).
inline void set_random_seed(std::uint64_t value) noexcept {
  detail::global_random().seed.store(value, std::memory_order_relaxed);
  detail::global_random().count.store(0, std::memory_order_relaxed);
}

}  // namespace frost
