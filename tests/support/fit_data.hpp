// Data and helpers shared by the fit and callback tests: an easy three-class problem, a small
// network for it, and every weight of a model as one vector.
#pragma once

#include <frost/frost.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace frost_test {

using blob_net = frost::sequential<frost::input<4>, frost::dense<8, frost::relu>, frost::dense<3, frost::softmax>>;

/// n samples of 3 classes, class c shifting feature c by 2: easy to learn, deterministic.
struct blobs {
  frost::matrix<float, 4> x;
  frost::matrix<int, 1> y;
  explicit blobs(std::size_t n, std::uint64_t seed = 3) : x(n), y(n) {
    frost::random_stream r(seed);
    for (std::size_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(r.next() % 3);
      y(i, 0) = c;
      for (std::size_t j = 0; j < 4; ++j) x(i, j) = static_cast<float>(r.uniform(-1, 1)) + (j == std::size_t(c) ? 2.f : 0.f);
    }
  }
};

/// The trainable then the frozen parameters of `m`.
template <class M>
std::vector<float> weights_of(const M& m) {
  std::vector<float> w(m.trainable_parameters().begin(), m.trainable_parameters().end());
  w.insert(w.end(), m.frozen_parameters().begin(), m.frozen_parameters().end());
  return w;
}

}  // namespace frost_test
