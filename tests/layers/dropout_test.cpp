// Dropout: the identity in inference, inverted dropout in training from a seeded stream that
// does not depend on the thread count, and a mask kept only when backward needs it.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

namespace {
using net = frost::sequential<frost::input<64>, frost::dropout<0.25f>, frost::dense<8, frost::softmax>>;
using deep = frost::sequential<frost::input<64>, frost::dense<256, frost::relu>, frost::dropout<0.4f>,
                               frost::dense<256, frost::relu>, frost::dense<8, frost::softmax>>;
frost::matrix<float, 8> targets(std::size_t rows) {
  frost::matrix<float, 8> y(rows);
  for (std::size_t i = 0; i < rows; ++i) y(i, i % 8) = 1.f;
  return y;
}
}  // namespace

TEST_CASE("dropout: the identity in inference", "[layers][dropout]") {
  frost::matrix<double, 5> x(7);
  frost_test::fill_uniform(x.values(), 1);
  const auto y = frost::basic_sequential<double, frost::input<5>, frost::dropout<0.5f>>::init(0)(x);
  REQUIRE(frost_test::same_bytes(y.values(), x.values()));
}

TEST_CASE("dropout: training drops about Rate of the values and scales the rest by 1 / (1 - Rate)",
          "[layers][dropout][semantics]") {
  // A dense identity after dropout shows the dropped input: the reduce_sum gradient of the
  // dense kernel row k is the dropout output at k, summed over the batch.
  using probe = frost::basic_sequential<double, frost::input<200>, frost::dropout<0.3f>, frost::dense<1>>;
  auto m = probe::init(0);
  frost::matrix<double, 200> x(50);
  for (double& v : x.values()) v = 1.0;
  frost::set_random_seed(7);
  auto [loss, grads] = frost::value_and_grad(m, frost::reduce_sum{}, x);
  (void)loss;
  // Per column k the kernel gradient is Σ_rows y(i, k), each y either 0 or 1 / (1 - 0.3f).
  std::size_t kept = 0;
  for (std::size_t k = 0; k < 200; ++k) {
    const double g = grads.layer<1>().kernel()[k];
    const double count = g * (1.0 - double(0.3f));
    REQUIRE(std::abs(count - std::round(count)) < 1e-9);
    kept += static_cast<std::size_t>(std::round(count));
  }
  const double fraction_dropped = 1.0 - double(kept) / (200.0 * 50.0);
  REQUIRE(fraction_dropped > 0.27);
  REQUIRE(fraction_dropped < 0.33);
}

TEST_CASE("dropout: the same seed gives the same mask, other seeds others, on any thread count",
          "[layers][dropout][semantics]") {
  frost::matrix<float, 64> x(96);
  frost_test::fill_uniform(x.values(), 2);
  const auto y = targets(96);
  auto run = [&](std::uint64_t seed, std::size_t threads) {
    auto m = deep::init(3);
    auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 96,
                                  frost::threads{threads}, frost::seed{seed});
    std::vector<float> losses;
    for (int s = 0; s < 3; ++s) losses.push_back(tr.step(x, y));
    return std::make_pair(losses, std::vector<float>(m.trainable_parameters().begin(), m.trainable_parameters().end()));
  };
  const auto a = run(11, 1), b = run(11, 1), c = run(12, 1), d = run(11, 2);
  REQUIRE(a.first == b.first);
  REQUIRE(a.second == b.second);
  REQUIRE(a.first[0] != c.first[0]);
  REQUIRE(std::memcmp(a.first.data(), d.first.data(), a.first.size() * sizeof(float)) == 0);
  REQUIRE(std::memcmp(a.second.data(), d.second.data(), a.second.size() * sizeof(float)) == 0);
  // Steps draw new masks: the same batch gives another training loss at learning rate 0.
  auto m = deep::init(3);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.f}, 96);
  REQUIRE(tr.step(x, y) != tr.step(x, y));
}

TEST_CASE("dropout: the mask is kept only when backward needs it", "[layers][dropout][plan]") {
  // Below the first trainable layer, dropout needs no backward and keeps nothing.
  using frozen_below = frost::frozen_model_t<deep, 0, 2>;
  STATIC_REQUIRE(frozen_below::plan.extra_offset[2] == frozen_below::plan.npos);
  STATIC_REQUIRE(deep::plan.extra_offset[2] != deep::plan.npos);
  STATIC_REQUIRE(net::plan.extra_offset[1] == net::plan.npos);  // input below: no gradient flows into it
}

TEST_CASE("dropout: gradients match finite differences in double under a fixed mask", "[layers][dropout][gradients]") {
  using d = frost::basic_sequential<double, frost::input<6>, frost::dense<9, frost::tanh_activation>, frost::dropout<0.35f>,
                                    frost::dense<3>>;
  frost::matrix<double, 6> x(5);
  frost_test::fill_uniform(x.values(), 4);
  frost::matrix<double, 3> y(5);
  auto m = d::init(2);
  REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == d::trainable_param_count);
}
