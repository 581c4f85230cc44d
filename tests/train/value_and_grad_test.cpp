#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <type_traits>

namespace {
template <class Net, class Loss, class Y>
void check_net(Loss loss, const Y& y, std::uint64_t seed) {
  Net m = Net::init(seed);
  frost::matrix<double, Net::input_shape::size> x(y.rows());
  frost_test::fill_uniform(x.values(), seed + 1);
  REQUIRE(frost_test::check_model_gradients(m, loss, x, y) == Net::trainable_param_count);
}
}  // namespace

TEST_CASE("every loss's model gradients match finite differences in double", "[train][value_and_grad]") {
  frost::matrix<double, 3> soft(5), binary(5), real(5);
  frost::matrix<int, 1> labels(5);
  for (std::size_t i = 0; i < 5; ++i) {
    soft(i, i % 3) = 1.0;
    binary(i, 0) = double(i % 2);
    binary(i, 1) = double((i + 1) % 2);
    binary(i, 2) = 1.0;
    labels(i, 0) = int((i * 2) % 3);
  }
  frost_test::fill_uniform(real.values(), 40);
  using tail = frost::dense<3, frost::softmax>;
  using base = frost::basic_sequential<double, frost::input<4>, frost::dense<5, frost::tanh_activation>, tail>;
  check_net<base>(frost::categorical_crossentropy{}, soft, 1);
  check_net<base>(frost::sparse_categorical_crossentropy{}, labels, 2);
  using sig = frost::basic_sequential<double, frost::input<4>, frost::dense<5, frost::relu>, frost::dense<3, frost::sigmoid>>;
  check_net<sig>(frost::binary_crossentropy{}, binary, 3);
  // Crossentropy after sigmoid (not fused) and binary crossentropy after softmax (not fused).
  check_net<sig>(frost::categorical_crossentropy{}, soft, 4);
  check_net<base>(frost::binary_crossentropy{}, binary, 5);
  using lin = frost::basic_sequential<double, frost::input<4>, frost::dense<6, frost::sigmoid>, frost::dense<3>>;
  check_net<lin>(frost::mean_squared_error{}, real, 6);
}

TEST_CASE("reduce_sum takes no target and differentiates the sum of outputs", "[train][value_and_grad]") {
  using net = frost::basic_sequential<double, frost::input<3>, frost::dense<4, frost::tanh_activation>, frost::dense<2>>;
  net m = net::init(8);
  frost::matrix<double, 3> x(2);
  frost_test::fill_uniform(x.values(), 9);
  REQUIRE(frost_test::check_model_gradients(m, frost::reduce_sum{}, x) == net::trainable_param_count);
  const auto out = m(x);
  double sum = 0;
  for (double v : out.values()) sum += v;
  REQUIRE(frost::value_and_grad(m, frost::reduce_sum{}, x).loss == Approx(sum).epsilon(1e-14));
}

TEST_CASE("value_and_grad rejects x and y with different rows and empty batches", "[train][value_and_grad]") {
  using net = frost::sequential<frost::input<3>, frost::dense<2, frost::softmax>>;
  net m = net::init(1);
  frost::matrix<float, 3> x(4), empty(0);
  frost::matrix<float, 2> y(3), y0(0);
  REQUIRE_THROWS_AS(frost::value_and_grad(m, frost::categorical_crossentropy{}, x, y), frost::shape_error);
  REQUIRE_THROWS_WITH(frost::value_and_grad(m, frost::categorical_crossentropy{}, x, y),
                      "frost::value_and_grad: rows of y: expected 4 (the rows of x), got 3");
  REQUIRE_THROWS_WITH(frost::value_and_grad(m, frost::categorical_crossentropy{}, empty, y0),
                      "frost::value_and_grad: batch rows: expected at least 1, got 0");
}
