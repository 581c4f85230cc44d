#include <frost/train/losses.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>

namespace {

// ∂loss/∂p of each loss against central differences of its value, in double.
template <class Loss, std::size_t K, class Y>
void check_output_gradient(std::array<double, 2 * K> p, const Y& y) {
  std::array<double, 2 * K> g{};
  Loss::template evaluate<K, false>(p.data(), y.data(), 2, g.data());
  for (std::size_t i = 0; i < 2 * K; ++i) {
    std::array<double, 2 * K> scratch{};
    const double numeric = frost_test::numeric_grad(
        [&] { return Loss::template evaluate<K, false>(p.data(), y.data(), 2, scratch.data()); }, p[i], 1e-7);
    INFO(Loss::name << " output " << i);
    REQUIRE(frost_test::close(g[i], numeric, 1e-6));
  }
}

// The fused gradient (w.r.t. the pre-activation) equals the unfused loss gradient pushed
// through the activation's backward.
template <class Loss, class Act, std::size_t K, class Y>
void check_fused(std::array<double, 2 * K> z, const Y& y) {
  std::array<double, 2 * K> p = z;
  Act::template forward<K>(p.data(), 2);
  std::array<double, 2 * K> fused{}, chained{};
  const double a = Loss::template evaluate<K, true>(p.data(), y.data(), 2, fused.data());
  const double b = Loss::template evaluate<K, false>(p.data(), y.data(), 2, chained.data());
  Act::template backward<K>(p.data(), chained.data(), 2);
  REQUIRE(a == b);
  for (std::size_t i = 0; i < 2 * K; ++i) REQUIRE(frost_test::close(fused[i], chained[i], 1e-12));
}

}  // namespace

TEST_CASE("losses give Keras's values on hand-computed cases", "[train][losses]") {
  double g[6];
  {  // mean over the batch of mean_j (y − p)²: ((0.04 + 0.04)/2 + (0.25 + 0)/2) / 2
    const double p[] = {0.2, 0.8, 0.5, 1.0}, y[] = {0, 1, 0, 1};
    REQUIRE(frost::mean_squared_error::evaluate<2, false>(p, y, 2, g) == Approx((0.04 + 0.125) / 2));
  }
  {  // −log 0.9 and −log(1 − 0.3), averaged
    const double p[] = {0.9, 0.3}, y[] = {1, 0};
    REQUIRE(frost::binary_crossentropy::evaluate<1, false>(p, y, 2, g) ==
            Approx((-std::log(0.9) - std::log(0.7)) / 2));
  }
  {  // −log 0.2 for the one-hot target, −log 0.7 for the second row
    const double p[] = {0.7, 0.2, 0.1, 0.7, 0.2, 0.1}, y[] = {0, 1, 0, 1, 0, 0};
    REQUIRE(frost::categorical_crossentropy::evaluate<3, false>(p, y, 2, g) ==
            Approx((-std::log(0.2) - std::log(0.7)) / 2));
    const int labels[] = {1, 0};
    REQUIRE(frost::sparse_categorical_crossentropy::evaluate<3, false>(p, labels, 2, g) ==
            Approx((-std::log(0.2) - std::log(0.7)) / 2));
  }
  {  // Keras normalizes by the row sum: p = (2, 1, 1) acts as (0.5, 0.25, 0.25)
    const double p[] = {2, 1, 1}, y[] = {1, 0, 0};
    REQUIRE(frost::categorical_crossentropy::evaluate<3, false>(p, y, 1, g) == Approx(-std::log(0.5)));
  }
  {  // the sum of every output, not a mean
    const double p[] = {0.5, -1.0, 2.0, 3.0};
    REQUIRE(frost::reduce_sum::evaluate<2, false>(p, nullptr, 2, g) == 4.5);
    for (int i = 0; i < 4; ++i) REQUIRE(g[i] == 1.0);
  }
}

TEST_CASE("crossentropies clip probabilities at 1e-7 as Keras does", "[train][losses]") {
  float g[3];
  const float p[] = {1.f, 0.f, 0.f}, y[] = {0.f, 1.f, 0.f};
  // log(clip(0)) = log(1e-7): −log(1e-7) ≈ 16.118
  REQUIRE(frost::categorical_crossentropy::evaluate<3, false>(p, y, 1, g) == Approx(16.1181f).epsilon(1e-4));
  const float pb[] = {0.f}, yb[] = {1.f};
  REQUIRE(frost::binary_crossentropy::evaluate<1, false>(pb, yb, 1, g) == Approx(16.1181f).epsilon(1e-4));
  REQUIRE(g[0] == 0.f);  // the clip has zero gradient outside [ε, 1 − ε]
}

TEST_CASE("loss gradients match finite differences in double", "[train][losses]") {
  const std::array<double, 6> p = {0.2, 0.5, 0.3, 0.6, 0.15, 0.25};
  check_output_gradient<frost::mean_squared_error, 3>(p, std::array<double, 6>{0.1, 0.9, 0.4, -0.2, 0.3, 1.0});
  check_output_gradient<frost::binary_crossentropy, 3>(p, std::array<double, 6>{1, 0, 1, 0, 0, 1});
  check_output_gradient<frost::categorical_crossentropy, 3>(p, std::array<double, 6>{0, 1, 0, 0.2, 0.3, 0.5});
  check_output_gradient<frost::sparse_categorical_crossentropy, 3>(p, std::array<int, 2>{2, 0});
  check_output_gradient<frost::reduce_sum, 3>(p, std::array<double, 6>{});
  // Unnormalized inputs exercise the row-sum term of Keras's crossentropy.
  check_output_gradient<frost::categorical_crossentropy, 3>({0.4, 1.5, 0.3, 2.0, 0.1, 0.7},
                                                            std::array<double, 6>{0, 1, 0, 1, 0, 0});
}

TEST_CASE("fused softmax + crossentropy and sigmoid + binary crossentropy equal the chain rule", "[train][losses]") {
  const std::array<double, 6> z = {0.3, -1.2, 2.0, 0.7, 0.1, -0.4};
  check_fused<frost::categorical_crossentropy, frost::activations::softmax, 3>(z, std::array<double, 6>{0, 0, 1, 0.5, 0.5, 0});
  check_fused<frost::sparse_categorical_crossentropy, frost::activations::softmax, 3>(z, std::array<int, 2>{1, 2});
  check_fused<frost::binary_crossentropy, frost::activations::sigmoid, 3>(z, std::array<double, 6>{1, 0, 1, 0, 0, 1});
}

TEST_CASE("sparse labels outside 0..K-1 are rejected with a value_error", "[train][losses]") {
  const int labels[] = {0, 3};
  REQUIRE_THROWS_AS(frost::sparse_categorical_crossentropy::check_labels<3>("f", labels, 2), frost::value_error);
  REQUIRE_THROWS_WITH(frost::sparse_categorical_crossentropy::check_labels<3>("f", labels, 2),
                      "f: label of row 1: expected a class index in [0, 3), got 3");
  const int negative[] = {-1};
  REQUIRE_THROWS_AS(frost::sparse_categorical_crossentropy::check_labels<3>("f", negative, 1), frost::value_error);
}
