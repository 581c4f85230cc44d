#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

TEST_CASE("matrix rows are set at run time and features at compile time", "[core][matrix]") {
  frost::matrix<float, 100> x(4);
  STATIC_REQUIRE(frost::matrix<float, 100>::cols == 100);
  STATIC_REQUIRE(frost::matrix<float, 8, 8, 1>::cols == 64);
  REQUIRE(x.rows() == 4);
  REQUIRE(x.size() == 400);
  for (float v : x.values()) REQUIRE(v == 0.f);
}

TEST_CASE("matrix storage is 64-byte aligned", "[core][matrix]") {
  for (std::size_t rows : {1u, 3u, 17u}) {
    frost::matrix<double, 5> x(rows);
    REQUIRE(reinterpret_cast<std::uintptr_t>(x.data()) % 64 == 0);
  }
}

TEST_CASE("matrix element access is row-major over the feature dimensions", "[core][matrix]") {
  frost::matrix<int, 2, 3, 4> x(2);
  x(1, 1, 2, 3) = 7;
  REQUIRE(x.data()[1 * 24 + 1 * 12 + 2 * 4 + 3] == 7);
  frost::matrix<float, 3> y(2);
  y(1, 2) = 5.f;
  REQUIRE(y.row(1)[2] == 5.f);
}

TEST_CASE("matrix copies are deep and moves steal", "[core][matrix]") {
  frost::matrix<float, 2> a(1);
  a(0, 0) = 1.f;
  frost::matrix<float, 2> b = a;
  b(0, 0) = 2.f;
  REQUIRE(a(0, 0) == 1.f);
  const float* p = b.data();
  frost::matrix<float, 2> c = std::move(b);
  REQUIRE(c.data() == p);
}

TEST_CASE("matrix from values copies them and rejects a wrong count", "[core][matrix]") {
  std::vector<float> v{1, 2, 3, 4, 5, 6};
  frost::matrix<float, 3> x(2, v);
  REQUIRE(x(1, 0) == 4.f);
  std::vector<float> short_v{1, 2, 3, 4, 5};
  REQUIRE_THROWS_AS((frost::matrix<float, 3>(2, short_v)), frost::shape_error);
  REQUIRE_THROWS_WITH((frost::matrix<float, 3>(2, short_v)),
                      "frost::matrix: values: expected 6 (2 rows x 3 columns), got 5");
}

TEST_CASE("aligned_buffer is zeroed, aligned, and copies deeply", "[core][aligned_buffer]") {
  frost::aligned_buffer<float> b(37);
  REQUIRE(b.size() == 37);
  REQUIRE(reinterpret_cast<std::uintptr_t>(b.data()) % frost::buffer_alignment == 0);
  for (float v : b.span()) REQUIRE(v == 0.f);
  b.data()[3] = 2.f;
  frost::aligned_buffer<float> c = b;
  REQUIRE(c.data() != b.data());
  REQUIRE(c.data()[3] == 2.f);
  frost::aligned_buffer<float> empty;
  REQUIRE(empty.data() == nullptr);
}

TEST_CASE("a moved-from matrix is empty, not a dangling batch", "[core][matrix]") {
  frost::matrix<float, 4> a(3);
  frost::matrix<float, 4> b = std::move(a);
  REQUIRE(b.rows() == 3);
  REQUIRE(a.rows() == 0);  // NOLINT(bugprone-use-after-move): the state after a move is the point
  REQUIRE(a.size() == 0);
  frost::matrix<float, 4> c(1);
  c = std::move(b);
  REQUIRE(c.rows() == 3);
}
