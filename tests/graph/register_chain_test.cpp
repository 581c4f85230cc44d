// Batch-1 inference of a model's closing chain of small layers in registers
// (graph/detail/register_chain.hpp): which nodes the chain takes, and its outputs against a
// computation by hand in double and against the same rows run in a batch (the tiled kernels).
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

using namespace frost;

namespace {

using row = std::vector<double>;

double relu_by_hand(double z) { return z > 0 ? z : 0; }
double linear_by_hand(double z) { return z; }
double tanh_by_hand(double z) { return std::tanh(z); }
double sigmoid_by_hand(double z) { return 1 / (1 + std::exp(-z)); }
double softmax_marker(double z) { return z; }  // the whole row, in forward_by_hand

// Layer L of a sequential model of dense layers (layer<L>() views), by hand in double.
template <std::size_t L, class Model>
row dense_by_hand(const Model& m, const row& in, double (*f)(double)) {
  const auto kernel = m.template layer<L>().kernel();
  const auto bias = m.template layer<L>().bias();
  const std::size_t units = bias.size();
  row out(units);
  for (std::size_t j = 0; j < units; ++j) {
    double z = bias[j];
    for (std::size_t k = 0; k < in.size(); ++k) z += in[k] * double(kernel[k * units + j]);
    out[j] = f == softmax_marker ? z : f(z);
  }
  if (f == softmax_marker) {
    const double top = *std::max_element(out.begin(), out.end());
    double sum = 0;
    for (double& v : out) sum += v = std::exp(v - top);
    for (double& v : out) v /= sum;
  }
  return out;
}

// A sequential model of dense layers with activations `f`, by hand.
template <class Model, std::size_t... L>
row forward_by_hand(const Model& m, const row& x, std::index_sequence<L...>,
                    const std::array<double (*)(double), sizeof...(L)>& f) {
  row h = x;
  ((h = dense_by_hand<L>(m, h, f[L])), ...);
  return h;
}

// Every row of x, one call each through a batch-1 inference object, against the same rows in
// one batch (the tiled kernels) and against `by_hand` (a row of doubles from a row of doubles).
template <class Model, class ByHand>
void check_rows(const Model& m, ByHand by_hand, double tol = 2e-6) {
  constexpr std::size_t in = Model::input_shape::size, out = Model::output_shape::size, rows = 13;
  matrix<typename Model::scalar_type, in> x(rows);
  frost_test::fill_uniform(x.values(), 17, -2.0, 2.0);
  const auto batch = m(x);
  auto run = make_inference<1>(m);
  matrix<typename Model::scalar_type, out> y(1);
  for (std::size_t i = 0; i < rows; ++i) {
    run(matrix_view<const typename Model::scalar_type, in>(x.data() + i * in, 1), y);
    row xi(in);
    for (std::size_t k = 0; k < in; ++k) xi[k] = double(x(i, k));
    const row expected = by_hand(xi);
    for (std::size_t j = 0; j < out; ++j) {
      CAPTURE(i, j);
      REQUIRE(frost_test::close(y(0, j), expected[j], tol));
      REQUIRE(frost_test::close(y(0, j), batch(i, j), tol));
    }
  }
}

}  // namespace

TEST_CASE("the register chain takes the closing run of small dense layers that read each other",
          "[graph][register_chain]") {
  using detail::register_chain_start;
  // Every layer small: the whole model from the input's row on.
  STATIC_REQUIRE(register_chain_start<sequential<input<4>, dense<16, relu>, dense<16, relu>, dense<4>>>() == 1);
  STATIC_REQUIRE(register_chain_start<sequential<input<1>, dense<8, tanh_activation>, dense<8, tanh_activation>,
                                                 dense<1>, storage::inline_>>() == 1);
  // 100 × 64 is past the size where unrolled code pays (kernels::small_layer): it runs as
  // before, and the chain starts from its output. With narrower vectors than AVX-512's there is
  // no chain: a softmax over 10 units then spans two vectors and runs as a pass over rows.
  using article = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
  STATIC_REQUIRE(register_chain_start<article>() == (simd::simd_bytes == 64 ? 2 : article::node_count));
  // A chain of one layer (70 units are more than 4 vectors of any width).
  STATIC_REQUIRE(register_chain_start<sequential<input<6>, dense<70, relu>, dense<3>>>() == 2);
  // An activation layer fused into the product before it: the chain starts after both.
  STATIC_REQUIRE(register_chain_start<sequential<input<6>, dense<16>, activation<relu>, dense<3>>>() == 3);
  // Frozen layers infer alike.
  STATIC_REQUIRE(register_chain_start<sequential<input<6>, frozen<dense<16, relu>>, dense<3>>>() == 1);
  // No chain: the output is not a small dense layer (batch normalization; a softmax wider than
  // one vector runs as a pass over rows; a layer too big).
  using bn = sequential<input<6>, dense<8>, batch_normalization<>>;
  STATIC_REQUIRE(register_chain_start<bn>() == bn::node_count);
  using wide_softmax = sequential<input<6>, dense<8, relu>, dense<100, softmax>>;
  STATIC_REQUIRE(register_chain_start<wide_softmax>() == wide_softmax::node_count);
  using big = sequential<input<300>, dense<200>>;
  STATIC_REQUIRE(register_chain_start<big>() == big::node_count);
}

TEST_CASE("batch-1 inference through the register chain matches a computation by hand and the batch",
          "[graph][register_chain]") {
  SECTION("4 → 16 relu → 16 relu → 4, all in registers") {
    using net = sequential<input<4>, dense<16, relu>, dense<16, relu>, dense<4>>;
    const net m = net::init(3);
    check_rows(m, [&](const row& x) {
      return forward_by_hand(m, x, std::make_index_sequence<3>{}, {relu_by_hand, relu_by_hand, linear_by_hand});
    });
  }
  SECTION("1 → 8 tanh → 8 tanh → 1, inline storage") {
    using net = sequential<input<1>, dense<8, tanh_activation>, dense<8, tanh_activation>, dense<1>, storage::inline_>;
    const net m = net::init(4);
    check_rows(m, [&](const row& x) {
      return forward_by_hand(m, x, std::make_index_sequence<3>{}, {tanh_by_hand, tanh_by_hand, linear_by_hand});
    });
  }
  SECTION("rows of several vectors and partial vectors: 3 → 40 relu → 12 sigmoid → 5 tanh") {
    using net = sequential<input<3>, dense<40, relu>, dense<12, sigmoid>, dense<5, tanh_activation>>;
    const net m = net::init(5);
    check_rows(m, [&](const row& x) {
      return forward_by_hand(m, x, std::make_index_sequence<3>{}, {relu_by_hand, sigmoid_by_hand, tanh_by_hand});
    });
  }
  SECTION("the article's network: the first layer as before, then the chain, softmax last") {
    using net = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
    const net m = net::init(6);
    check_rows(m, [&](const row& x) {
      return forward_by_hand(m, x, std::make_index_sequence<3>{}, {relu_by_hand, relu_by_hand, softmax_marker});
    });
  }
  SECTION("a chain of one layer after a wide one") {
    using net = sequential<input<6>, dense<70, relu>, dense<3, sigmoid>>;
    const net m = net::init(9);
    check_rows(m, [&](const row& x) {
      return forward_by_hand(m, x, std::make_index_sequence<2>{}, {relu_by_hand, sigmoid_by_hand});
    });
  }
  SECTION("a fused activation layer before the chain") {
    using net = sequential<input<6>, dense<16>, activation<relu>, dense<3>>;
    const net m = net::init(7);
    check_rows(m, [&](const row& x) {
      row h(16);
      for (std::size_t j = 0; j < 16; ++j) {
        double z = m.layer<0>().bias()[j];
        for (std::size_t k = 0; k < 6; ++k) z += x[k] * double(m.layer<0>().kernel()[k * 16 + j]);
        h[j] = relu_by_hand(z);
      }
      row y(3);
      for (std::size_t j = 0; j < 3; ++j) {
        y[j] = m.layer<2>().bias()[j];
        for (std::size_t k = 0; k < 16; ++k) y[j] += h[k] * double(m.layer<2>().kernel()[k * 3 + j]);
      }
      return y;
    });
  }
  SECTION("doubles: 5 → 9 tanh → 2 sigmoid") {
    using net = basic_sequential<double, input<5>, dense<9, tanh_activation>, dense<2, sigmoid>>;
    const net m = net::init(8);
    check_rows(
        m,
        [&](const row& x) {
          return forward_by_hand(m, x, std::make_index_sequence<2>{}, {tanh_by_hand, sigmoid_by_hand});
        },
        1e-12);
  }
}
