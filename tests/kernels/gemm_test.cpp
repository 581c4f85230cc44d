#include <frost/kernels/gemm.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

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
