// Convolution and pooling layers: forward against direct loops written here from Keras's
// definitions (valid and same padding, strides, odd sizes), gradients against finite differences
// in double, and the image shapes.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace {

// Keras's output size and leading padding of one axis (independent of spatial.hpp).
struct axis {
  std::size_t out, pad;
};
axis keras_axis(std::size_t in, std::size_t k, std::size_t s, bool same) {
  if (!same) return {(in - k) / s + 1, 0};
  const std::size_t out = (in + s - 1) / s;
  const long total = static_cast<long>((out - 1) * s + k) - static_cast<long>(in);
  return {out, total > 0 ? static_cast<std::size_t>(total) / 2 : 0};
}

// y[n][oh][ow][f] = b[f] + Σ x[n][oh·sh + kh − pt][ow·sw + kw − pl][c] · W[kh][kw][c][f].
template <std::size_t H, std::size_t W, std::size_t C, std::size_t F, std::size_t KH, std::size_t KW>
std::vector<double> direct_conv(const frost::matrix<double, H, W, C>& x, const double* w, const double* b, std::size_t sh,
                                std::size_t sw, bool same) {
  const axis r = keras_axis(H, KH, sh, same), c = keras_axis(W, KW, sw, same);
  std::vector<double> y(x.rows() * r.out * c.out * F);
  std::size_t at = 0;
  for (std::size_t n = 0; n < x.rows(); ++n)
    for (std::size_t oh = 0; oh < r.out; ++oh)
      for (std::size_t ow = 0; ow < c.out; ++ow)
        for (std::size_t f = 0; f < F; ++f) {
          double s = b[f];
          for (std::size_t kh = 0; kh < KH; ++kh)
            for (std::size_t kw = 0; kw < KW; ++kw) {
              const long h = long(oh * sh + kh) - long(r.pad), v = long(ow * sw + kw) - long(c.pad);
              if (h < 0 || v < 0 || h >= long(H) || v >= long(W)) continue;
              for (std::size_t ch = 0; ch < C; ++ch) s += x(n, h, v, ch) * w[((kh * KW + kw) * C + ch) * F + f];
            }
          y[at++] = s;
        }
  return y;
}

// Max or mean over each window (positions inside the image only).
template <std::size_t H, std::size_t W, std::size_t C>
std::vector<double> direct_pool(const frost::matrix<double, H, W, C>& x, std::size_t ph, std::size_t pw, std::size_t sh,
                                std::size_t sw, bool same, bool max) {
  const axis r = keras_axis(H, ph, sh, same), c = keras_axis(W, pw, sw, same);
  std::vector<double> y;
  for (std::size_t n = 0; n < x.rows(); ++n)
    for (std::size_t oh = 0; oh < r.out; ++oh)
      for (std::size_t ow = 0; ow < c.out; ++ow)
        for (std::size_t ch = 0; ch < C; ++ch) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          std::size_t count = 0;
          for (std::size_t kh = 0; kh < ph; ++kh)
            for (std::size_t kw = 0; kw < pw; ++kw) {
              const long h = long(oh * sh + kh) - long(r.pad), v = long(ow * sw + kw) - long(c.pad);
              if (h < 0 || v < 0 || h >= long(H) || v >= long(W)) continue;
              acc = max ? std::max(acc, x(n, h, v, ch)) : acc + x(n, h, v, ch);
              ++count;
            }
          y.push_back(max ? acc : acc / double(count));
        }
  return y;
}

template <class Y>
void require_close(const Y& y, const std::vector<double>& expected, double tol = 1e-12) {
  REQUIRE(y.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("value " << i);
    REQUIRE(frost_test::close(y.data()[i], expected[i], tol));
  }
}

}  // namespace

TEST_CASE("conv2d: Keras output shapes, HWIO kernel and glorot_uniform limits", "[layers][conv2d]") {
  using valid = frost::sequential<frost::input<28, 28, 1>, frost::conv2d<32, 3, 3, frost::relu>>;
  STATIC_REQUIRE(std::is_same_v<valid::output_shape, frost::shape<26, 26, 32>>);
  STATIC_REQUIRE(valid::trainable_param_count == 3 * 3 * 1 * 32 + 32);
  using same = frost::sequential<frost::input<7, 6, 3>, frost::conv2d<4, 3, 2, frost::linear, frost::strides<2>, frost::padding::same>>;
  STATIC_REQUIRE(std::is_same_v<same::output_shape, frost::shape<4, 3, 4>>);
  using rect = frost::sequential<frost::input<9, 8, 2>, frost::conv2d<5, 2, 3, frost::linear, frost::strides<3, 2>>>;
  STATIC_REQUIRE(std::is_same_v<rect::output_shape, frost::shape<3, 3, 5>>);
  using pooled = frost::sequential<frost::input<13, 13, 4>, frost::max_pooling2d<2, 2>, frost::average_pooling2d<3, 3, frost::padding::same>,
                                   frost::global_average_pooling2d>;
  STATIC_REQUIRE(std::is_same_v<pooled::output_shape, frost::shape<4>>);
  STATIC_REQUIRE(std::is_same_v<pooled::node_output_shape<1>, frost::shape<6, 6, 4>>);
  STATIC_REQUIRE(std::is_same_v<pooled::node_output_shape<2>, frost::shape<2, 2, 4>>);

  const auto m = frost::sequential<frost::input<5, 5, 3>, frost::conv2d<4, 3, 3>>::init(3);
  const auto p = m.layer<0>();
  const double limit = std::sqrt(6.0 / (9.0 * (3 + 4)));
  for (float v : p.kernel()) REQUIRE(std::abs(v) <= limit);
  for (float v : p.bias()) REQUIRE(v == 0.f);
  REQUIRE(&p.kernel(1, 2, 0, 3) == &p.kernel()[((1 * 3 + 2) * 3 + 0) * 4 + 3]);
}

TEST_CASE("conv2d: forward equals the direct convolution", "[layers][conv2d]") {
  frost::matrix<double, 7, 6, 3> x(3);
  frost_test::fill_uniform(x.values(), 21);
  SECTION("valid, stride 1") {
    auto m = frost::basic_sequential<double, frost::input<7, 6, 3>, frost::conv2d<4, 3, 2>>::init(1);
    frost_test::fill_uniform(m.layer<0>().bias(), 5);
    const auto y = m(x);
    require_close(y, direct_conv<7, 6, 3, 4, 3, 2>(x, m.layer<0>().kernel().data(), m.layer<0>().bias().data(), 1, 1, false));
  }
  SECTION("same, strides (2, 2)") {
    auto m = frost::basic_sequential<double, frost::input<7, 6, 3>,
                                     frost::conv2d<5, 3, 3, frost::linear, frost::strides<2>, frost::padding::same>>::init(2);
    frost_test::fill_uniform(m.layer<0>().bias(), 6);
    const auto y = m(x);
    require_close(y, direct_conv<7, 6, 3, 5, 3, 3>(x, m.layer<0>().kernel().data(), m.layer<0>().bias().data(), 2, 2, true));
  }
  SECTION("same, even kernel, strides (1, 3): the extra padding goes after the image") {
    auto m = frost::basic_sequential<double, frost::input<7, 6, 3>,
                                     frost::conv2d<2, 4, 2, frost::linear, frost::padding::same, frost::strides<1, 3>>>::init(3);
    const auto y = m(x);
    require_close(y, direct_conv<7, 6, 3, 2, 4, 2>(x, m.layer<0>().kernel().data(), m.layer<0>().bias().data(), 1, 3, true));
  }
  SECTION("the activation runs on the sums") {
    auto m = frost::basic_sequential<double, frost::input<7, 6, 3>, frost::conv2d<3, 2, 2, frost::relu>>::init(4);
    const auto y = m(x);
    auto expected = direct_conv<7, 6, 3, 3, 2, 2>(x, m.layer<0>().kernel().data(), m.layer<0>().bias().data(), 1, 1, false);
    for (double& v : expected) v = std::max(v, 0.0);
    require_close(y, expected);
  }
}

TEST_CASE("pooling: forward equals the direct window maximum and mean", "[layers][pooling]") {
  frost::matrix<double, 7, 5, 2> x(2);
  frost_test::fill_uniform(x.values(), 33);
  auto run = [&](auto model) { return model(x); };
  require_close(run(frost::basic_sequential<double, frost::input<7, 5, 2>, frost::max_pooling2d<2, 2>>::init(0)),
                direct_pool(x, 2, 2, 2, 2, false, true));
  require_close(run(frost::basic_sequential<double, frost::input<7, 5, 2>, frost::max_pooling2d<3, 2, frost::strides<2, 1>>>::init(0)),
                direct_pool(x, 3, 2, 2, 1, false, true));
  require_close(run(frost::basic_sequential<double, frost::input<7, 5, 2>, frost::max_pooling2d<2, 2, frost::padding::same>>::init(0)),
                direct_pool(x, 2, 2, 2, 2, true, true));
  require_close(run(frost::basic_sequential<double, frost::input<7, 5, 2>, frost::average_pooling2d<2, 2>>::init(0)),
                direct_pool(x, 2, 2, 2, 2, false, false));
  require_close(run(frost::basic_sequential<double, frost::input<7, 5, 2>,
                                            frost::average_pooling2d<3, 3, frost::padding::same, frost::strides<2>>>::init(0)),
                direct_pool(x, 3, 3, 2, 2, true, false));
  // Global average pooling: the mean over the whole image, per channel.
  const auto g = run(frost::basic_sequential<double, frost::input<7, 5, 2>, frost::global_average_pooling2d>::init(0));
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t c = 0; c < 2; ++c) {
      double s = 0;
      for (std::size_t h = 0; h < 7; ++h)
        for (std::size_t w = 0; w < 5; ++w) s += x(n, h, w, c);
      REQUIRE(frost_test::close(g(n, c), s / 35, 1e-12));
    }
}

TEST_CASE("flatten: the same values in row-major HWC order; a matrix views as flat without a copy",
          "[layers][flatten]") {
  frost::matrix<double, 3, 2, 2> x(2);
  frost_test::fill_uniform(x.values(), 8);
  const auto y = frost::basic_sequential<double, frost::input<3, 2, 2>, frost::flatten>::init(0)(x);
  STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(y)>, frost::matrix<double, 12>>);
  REQUIRE(frost_test::same_bytes(y.values(), x.values()));
  REQUIRE(y(1, (2 * 2 + 1) * 2 + 1) == x(1, 2, 1, 1));
  const auto v = x.view<12>();
  REQUIRE(v.data() == x.data());
  REQUIRE(v(1, 11) == x(1, 2, 1, 1));
  // A model on flat input takes the view.
  const auto m = frost::basic_sequential<double, frost::input<12>, frost::dense<3>>::init(1);
  const auto m2 = frost::basic_sequential<double, frost::input<3, 2, 2>, frost::flatten, frost::dense<3>>::init(2);
  const auto a = m(v);
  REQUIRE(a.rows() == 2);
  auto same_weights = m2;
  std::copy(m.trainable_parameters().begin(), m.trainable_parameters().end(), same_weights.trainable_parameters().begin());
  REQUIRE(frost_test::same_bytes(same_weights(x).values(), a.values()));
}

TEST_CASE("conv2d and pooling: gradients match finite differences in double", "[layers][conv2d][gradients]") {
  frost::matrix<double, 2> y(3);
  frost_test::fill_uniform(y.values(), 2, 0.1, 0.9);
  SECTION("conv valid, stride 1, odd sizes; conv below it gets its input gradient") {
    using net = frost::basic_sequential<double, frost::input<7, 5, 2>, frost::conv2d<3, 3, 2, frost::tanh_activation>,
                                        frost::conv2d<2, 2, 3, frost::sigmoid>, frost::flatten, frost::dense<2>>;
    frost::matrix<double, 7, 5, 2> x(3);
    frost_test::fill_uniform(x.values(), 1);
    auto m = net::init(1);
    frost_test::fill_uniform(m.layer<0>().bias(), 3, -0.1, 0.1);
    REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  }
  SECTION("conv same, strides (2, 1), then same with stride 2") {
    using net = frost::basic_sequential<double, frost::input<6, 7, 3>,
                                        frost::conv2d<4, 3, 3, frost::tanh_activation, frost::strides<2, 1>, frost::padding::same>,
                                        frost::conv2d<3, 2, 2, frost::linear, frost::padding::same, frost::strides<2>>,
                                        frost::flatten, frost::dense<2>>;
    frost::matrix<double, 6, 7, 3> x(3);
    frost_test::fill_uniform(x.values(), 4);
    auto m = net::init(2);
    REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  }
  SECTION("max pooling, valid with strides (2, 1) and same") {
    using net = frost::basic_sequential<double, frost::input<7, 6, 2>, frost::conv2d<3, 2, 2, frost::tanh_activation>,
                                        frost::max_pooling2d<3, 2, frost::strides<2, 1>>,
                                        frost::max_pooling2d<2, 2, frost::padding::same>, frost::flatten, frost::dense<2>>;
    frost::matrix<double, 7, 6, 2> x(3);
    frost_test::fill_uniform(x.values(), 5);
    auto m = net::init(3);
    REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  }
  SECTION("max pooling whose windows tile the input exactly (each gradient written once)") {
    using net = frost::basic_sequential<double, frost::input<8, 6, 2>, frost::conv2d<3, 3, 3, frost::tanh_activation>,
                                        frost::max_pooling2d<2, 2>, frost::flatten, frost::dense<2>>;
    frost::matrix<double, 8, 6, 2> x(3);
    frost_test::fill_uniform(x.values(), 9);
    auto m = net::init(5);
    REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  }
  SECTION("average pooling, same with stride 2, and global average pooling") {
    using net = frost::basic_sequential<double, frost::input<7, 6, 2>, frost::conv2d<3, 2, 2, frost::tanh_activation>,
                                        frost::average_pooling2d<3, 3, frost::padding::same, frost::strides<2>>,
                                        frost::conv2d<4, 1, 1, frost::tanh_activation>, frost::global_average_pooling2d,
                                        frost::dense<2>>;
    frost::matrix<double, 7, 6, 2> x(3);
    frost_test::fill_uniform(x.values(), 6);
    auto m = net::init(4);
    REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
  }
}
