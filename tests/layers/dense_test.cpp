#include <frost/graph/freeze.hpp>
#include <frost/layers/dense.hpp>
#include <frost/train/value_and_grad.hpp>

#include "support/layer_laws.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <type_traits>


TEST_CASE("dense passes the layer laws with every activation", "[layers][dense]") {
  frost_test::check_layer_laws<frost::dense<3>, 5, 3>();
  frost_test::check_layer_laws<frost::dense<3, frost::relu>, 5, 3>();
  frost_test::check_layer_laws<frost::dense<7, frost::sigmoid>, 2, 7>();
  frost_test::check_layer_laws<frost::dense<3, frost::tanh_activation>, 5, 3>();
  frost_test::check_layer_laws<frost::dense<4, frost::softmax>, 6, 4>();
}

TEST_CASE("dense computes f(x W + b) with the kernel in Keras [in][out] layout", "[layers][dense]") {
  using net = frost::basic_sequential<double, frost::input<2>, frost::dense<3, frost::relu>>;
  net m = net::init(1);
  auto k = m.layer<0>().kernel();
  auto b = m.layer<0>().bias();
  const double kv[] = {1, -2, 3, 4, 5, -6};  // k[i][j] = kv[i * 3 + j]
  std::copy(std::begin(kv), std::end(kv), k.begin());
  b[0] = 0.5;
  b[1] = 0.25;
  b[2] = -1;
  frost::matrix<double, 2> x(1);
  x(0, 0) = 2;
  x(0, 1) = -1;
  const auto y = m(x);
  // z = [2·1 − 4 + 0.5, 2·(−2) − 5 + 0.25, 2·3 + 6 − 1] = [−1.5, −8.75, 11]
  REQUIRE(y(0, 0) == 0.0);
  REQUIRE(y(0, 1) == 0.0);
  REQUIRE(y(0, 2) == 11.0);
}

TEST_CASE("dense initializes its kernel glorot-uniform and its bias to zero", "[layers][dense]") {
  using net = frost::sequential<frost::input<100>, frost::dense<64>>;
  net m = net::init(3);
  const double limit = std::sqrt(6.0 / (100 + 64));
  double sum = 0, sq = 0;
  for (float w : m.layer<0>().kernel()) {
    REQUIRE(std::abs(w) <= limit);
    sum += w;
    sq += double(w) * w;
  }
  const double mean = sum / 6400, var = sq / 6400 - mean * mean;
  REQUIRE(std::abs(mean) < 0.01);
  REQUIRE(var == Approx(limit * limit / 3).epsilon(0.05));  // variance of U(−l, l)
  for (float b : m.layer<0>().bias()) REQUIRE(b == 0.f);
  net again = net::init(3), other = net::init(4);
  REQUIRE(std::memcmp(again.layer<0>().kernel().data(), m.layer<0>().kernel().data(), 6400 * sizeof(float)) == 0);
  REQUIRE(std::memcmp(other.layer<0>().kernel().data(), m.layer<0>().kernel().data(), 6400 * sizeof(float)) != 0);
}
