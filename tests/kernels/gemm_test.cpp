#include <frost/expr/activations.hpp>
#include <frost/kernels/gemm.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace {

// Each product against a double-precision reference on odd sizes, so every register tile,
// column tail and row tail of the kernels runs.
template <std::size_t K, std::size_t N, class T>
void check_products(std::size_t m) {
  std::vector<T> x(m * K), w(K * N), b(N), dz(m * N);
  frost_test::fill_uniform(x, 1 + m);
  frost_test::fill_uniform(w, 2 + K);
  frost_test::fill_uniform(b, 3 + N);
  frost_test::fill_uniform(dz, 4 + m * N);
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;

  std::vector<T> y(m * N);
  frost::kernels::gemm_forward<K, N>(x.data(), m, w.data(), b.data(), y.data());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = b[j];
      for (std::size_t k = 0; k < K; ++k) s += double(x[i * K + k]) * w[k * N + j];
      REQUIRE(frost_test::close(y[i * N + j], s, tol * K));
    }

  std::vector<T> dw(K * N, T(9)), db(N, T(9));
  frost::kernels::gemm_weight<K, N>(x.data(), dz.data(), m, dw.data(), db.data());
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::size_t i = 0; i < m; ++i) s += double(x[i * K + k]) * dz[i * N + j];
      REQUIRE(frost_test::close(dw[k * N + j], s, tol * m));
    }
  for (std::size_t j = 0; j < N; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += dz[i * N + j];
    REQUIRE(frost_test::close(db[j], s, tol * m));
  }

  std::vector<T> dx(m * K, T(9));
  frost::kernels::gemm_input<K, N>(dz.data(), m, w.data(), dx.data());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k < K; ++k) {
      double s = 0;
      for (std::size_t j = 0; j < N; ++j) s += double(dz[i * N + j]) * w[k * N + j];
      REQUIRE(frost_test::close(dx[i * K + k], s, tol * N));
    }
}

template <class T>
void check_all_shapes(std::size_t m) {
  check_products<1, 1, T>(m);
  check_products<3, 17, T>(m);
  check_products<17, 3, T>(m);
  check_products<63, 65, T>(m);
  check_products<65, 63, T>(m);
  check_products<100, 64, T>(m);
  check_products<64, 10, T>(m);
  check_products<5, 33, T>(m);
}

}  // namespace

TEMPLATE_TEST_CASE("gemm forward, weight and input products match a double reference on odd sizes",
                   "[kernels][gemm]", float, double) {
  const std::size_t m = GENERATE(1u, 3u, 4u, 17u, 63u, 65u);
  CAPTURE(m);
  check_all_shapes<TestType>(m);
}

TEST_CASE("gemm forward blocks K and N past one panel without changing the result", "[kernels][gemm]") {
  // 300 × 260 floats exceed one 256 KiB panel: the K loop accumulates across panels.
  check_products<300, 260, float>(5);
}

namespace {

// An epilogue and a prologue that are not the identity: f(z) = z·|z| + 1/2, and
// g ↦ g·(z + 2y), reading both z and y.
struct square_ish {
  template <class V>
  V operator()(V v) const noexcept {
    return v * (v < V{} ? -v : v) + V{} + 0.5;
  }
};
struct reads_both {
  static constexpr bool reads_input = true;
  static constexpr bool reads_output = true;
  template <class V>
  V operator()(V g, V z, V y) const noexcept {
    return g * (z + y + y);
  }
};

// The forward epilogue stores z (the sums) and f(z); the weight product's prologue turns g into
// dZ in place and reduces db from it, on every tile and tail the shapes produce.
template <std::size_t K, std::size_t N, class T>
void check_fused(std::size_t m) {
  std::vector<T> x(m * K), w(K * N), b(N), g(m * N);
  frost_test::fill_uniform(x, 5 + m);
  frost_test::fill_uniform(w, 6 + K);
  frost_test::fill_uniform(b, 7 + N);
  frost_test::fill_uniform(g, 8 + m * N);
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;

  std::vector<T> y(m * N, T(9)), z(m * N, T(9));
  frost::kernels::gemm_forward<K, N>(x.data(), m, w.data(), b.data(), y.data(), z.data(), square_ish{});
  std::vector<T> y_only(m * N, T(9));
  frost::kernels::gemm_forward<K, N>(x.data(), m, w.data(), b.data(), y_only.data(), static_cast<T*>(nullptr),
                                     square_ish{});
  for (std::size_t i = 0; i < m * N; ++i) {
    const std::size_t r = i / N, j = i % N;
    double s = b[j];
    for (std::size_t k = 0; k < K; ++k) s += double(x[r * K + k]) * w[k * N + j];
    REQUIRE(frost_test::close(z[i], s, tol * K));
    REQUIRE(y[i] == square_ish{}(z[i]));  // f applied to exactly the stored sums
    REQUIRE(y_only[i] == y[i]);           // the same without keeping z
  }

  std::vector<T> dz(g), dw(K * N, T(9)), db(N, T(9));
  frost::kernels::gemm_weight<K, N>(x.data(), dz.data(), m, dw.data(), db.data(), reads_both{},
                                    static_cast<const T*>(y.data()), static_cast<const T*>(z.data()));
  for (std::size_t i = 0; i < m * N; ++i) REQUIRE(dz[i] == reads_both{}(g[i], z[i], y[i]));
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::size_t i = 0; i < m; ++i) s += double(x[i * K + k]) * dz[i * N + j];
      REQUIRE(frost_test::close(dw[k * N + j], s, tol * m * 4));
    }
  for (std::size_t j = 0; j < N; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += dz[i * N + j];
    REQUIRE(frost_test::close(db[j], s, tol * m * 4));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("gemm epilogue applies f to each tile and prologue applies f' while loading dZ",
                   "[kernels][gemm]", float, double) {
  const std::size_t m = GENERATE(1u, 3u, 9u, 17u);
  CAPTURE(m);
  check_fused<1, 1, TestType>(m);
  check_fused<3, 2, TestType>(m);
  check_fused<9, 10, TestType>(m);
  check_fused<17, 6, TestType>(m);
  check_fused<20, 40, TestType>(m);
  check_fused<64, 33, TestType>(m);
}

TEST_CASE("gemm epilogue runs once, after the last panel of K", "[kernels][gemm]") {
  // 300 × 260 floats exceed one 256 KiB panel: f must see the whole sum, not a panel's.
  check_fused<300, 260, float>(3);
}

TEMPLATE_TEST_CASE("load_n and store_n touch exactly the first n lanes", "[kernels][simd]", float, double) {
  using namespace frost::simd;
  constexpr std::size_t L = native<TestType>::width;
  TestType src[L], dst[L + 1];
  for (std::size_t n = 1; n <= L; ++n) {
    for (std::size_t l = 0; l < L; ++l) src[l] = TestType(l + 1);
    for (auto& d : dst) d = TestType(-1);
    const auto v = load_n<TestType, simd_bytes>(src, n);
    for (std::size_t l = 0; l < L; ++l) REQUIRE(v[l] == (l < n ? TestType(l + 1) : TestType(0)));
    store_n<TestType, simd_bytes>(dst, v, n);
    for (std::size_t l = 0; l <= L; ++l) REQUIRE(dst[l] == (l < n ? TestType(l + 1) : TestType(-1)));
  }
}

TEMPLATE_TEST_CASE("gemm forward and weight products on wide layers copy strips of W and dZ correctly",
                   "[kernels][gemm]", float, double) {
  // Rows 2 KiB or more apart take the packed paths; 300 rows are more than one 256-row strip of
  // dZ, and 515 and 530 units end in partial vectors.
  const std::size_t m = GENERATE(1u, 9u, 300u);
  CAPTURE(m);
  check_products<7, 515, TestType>(m);
  check_fused<5, 530, TestType>(m);
  check_products<33, 512, TestType>(m);
}

namespace {
// Y = softmax(X·W + b) row by row, the softmax run on each row's accumulators (rows of at most
// one vector), against a double-precision reference.
template <std::size_t K, std::size_t N, class T>
void check_softmax_epilogue(std::size_t m) {
  std::vector<T> x(m * K), w(K * N), b(N);
  frost_test::fill_uniform(x, 11 + m);
  frost_test::fill_uniform(w, 12 + K);
  frost_test::fill_uniform(b, 13 + N);
  std::vector<T> y(m * N + 1, T(7));
  frost::kernels::gemm_forward<K, N>(x.data(), m, w.data(), b.data(), y.data(), static_cast<T*>(nullptr),
                                     frost::activations::softmax::row_function{});
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  for (std::size_t i = 0; i < m; ++i) {
    std::vector<double> z(N);
    double top = -1e300, sum = 0;
    for (std::size_t j = 0; j < N; ++j) {
      z[j] = b[j];
      for (std::size_t k = 0; k < K; ++k) z[j] += double(x[i * K + k]) * w[k * N + j];
      top = std::max(top, z[j]);
    }
    for (std::size_t j = 0; j < N; ++j) sum += std::exp(z[j] - top);
    for (std::size_t j = 0; j < N; ++j) REQUIRE(frost_test::close(y[i * N + j], std::exp(z[j] - top) / sum, tol));
  }
  REQUIRE(y[m * N] == T(7));  // nothing written past the last row
}
}  // namespace

TEMPLATE_TEST_CASE("gemm epilogue over whole rows runs softmax on each row's accumulators", "[kernels][gemm]", float,
                   double) {
  constexpr std::size_t L = frost::simd::native<TestType>::width;
  const std::size_t m = GENERATE(1u, 3u, 9u, 17u);
  CAPTURE(m);
  // Rows of at most one vector (L lanes: 2 doubles with SSE, 16 floats with AVX-512).
  check_softmax_epilogue<1, 1, TestType>(m);
  check_softmax_epilogue<32, std::min<std::size_t>(3, L), TestType>(m);
  check_softmax_epilogue<5, L - 1 == 0 ? 1 : L - 1, TestType>(m);
  check_softmax_epilogue<33, L, TestType>(m);
  check_softmax_epilogue<300, 2, TestType>(m);
}

namespace {

// One row of a small layer in registers (kernels/register_row.hpp): from memory and from a
// register row, against a double reference and against each other bit for bit, with the
// stored row touching exactly its N values. Shapes too big for the target's vectors (a
// register row holds at most 4 vectors) are skipped: returns whether it ran.
template <std::size_t K, std::size_t N, class T>
bool check_register_row() {
  CAPTURE(K, N);
  if constexpr (!frost::kernels::small_layer<T, K, N>::fits) {
    return false;
  } else {
    std::vector<T> x(K), w(K * N), b(N);
    frost_test::fill_uniform(x, 5 + K);
    frost_test::fill_uniform(w, 6 + K * N);
    frost_test::fill_uniform(b, 7 + N);
    const auto from_memory = frost::kernels::dense_row<K, N>(x.data(), w.data(), b.data());
    const auto from_registers = frost::kernels::dense_row<K, N>(frost::kernels::load_row<K>(x.data()), w.data(), b.data());
    const auto no_bias = frost::kernels::dense_row<K, N>(x.data(), w.data(), static_cast<const T*>(nullptr));
    constexpr T guard = T(-77);
    std::vector<T> y1(N + 3, guard), y2(N + 3, guard), y3(N + 3, guard), y4(N + 3, guard);
    frost::kernels::store_row<N>(y1.data() + 1, from_memory);
    frost::kernels::store_row<N>(y2.data() + 1, from_registers);
    frost::kernels::store_row<N>(y3.data() + 1, no_bias);
    // The same row through the batch kernel's one-row path (which runs dense_row) with an epilogue.
    frost::kernels::gemm_forward<K, N>(x.data(), 1, w.data(), b.data(), y4.data() + 1, static_cast<T*>(nullptr),
                                       frost::activation_traits<frost::activations::relu>::function{});
    for (const auto* y : {&y1, &y2, &y3, &y4}) {
      REQUIRE((*y)[0] == guard);
      REQUIRE((*y)[N + 1] == guard);
      REQUIRE((*y)[N + 2] == guard);
    }
    const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < K; ++k) s += double(x[k]) * w[k * N + j];
      REQUIRE(frost_test::close(y1[j + 1], s + b[j], tol * K));
      REQUIRE(frost_test::close(y3[j + 1], s, tol * K));
      REQUIRE(y2[j + 1] == y1[j + 1]);  // the same sums in the same order
      REQUIRE(y4[j + 1] == std::max(y1[j + 1], T(0)));
    }
    return true;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("a small layer's row in registers matches a double reference, from memory and from registers",
                   "[kernels][register_row]", float, double) {
  const int ran = check_register_row<1, 8, TestType>() + check_register_row<8, 8, TestType>() +
                  check_register_row<8, 1, TestType>() + check_register_row<4, 16, TestType>() +
                  check_register_row<16, 16, TestType>() + check_register_row<16, 4, TestType>() +
                  check_register_row<3, 40, TestType>() + check_register_row<40, 12, TestType>() +
                  check_register_row<12, 5, TestType>() + check_register_row<32, 10, TestType>() +
                  check_register_row<2, 3, TestType>() + check_register_row<64, 32, TestType>() +
                  check_register_row<16, 1, TestType>() + check_register_row<12, 1, TestType>() +
                  check_register_row<4, 1, TestType>() + check_register_row<2, 1, TestType>();
  // Every vector width runs most of them (16-byte vectors of doubles: 10). One-unit layers whose
  // sets fill a vector (8 → 1, 16 → 1, 4 → 1) run as dot products, the others (12 → 1, 2 → 1) not.
  CAPTURE(ran);
  REQUIRE(ran >= 10);
}
