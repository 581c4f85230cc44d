#include <frost/frost.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

TEST_CASE("summary prints Keras's table and counts, with frost's byte figures", "[io][summary]") {
  using Net = frost::sequential<frost::input<100>, frost::frozen<frost::dense<64, frost::relu>>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<10, frost::softmax>>;
  const std::string s = frost::summary_string(Net::init(0));
  // Hand-computed: 100·64 + 64 = 6,464; 64·32 + 32 = 2,080; 32·10 + 10 = 330.
  CHECK_THAT(s, Catch::Contains("dense (Dense)") && Catch::Contains("(None, 64)") && Catch::Contains("6,464"));
  CHECK_THAT(s, Catch::Contains("dense_1 (Dense)") && Catch::Contains("(None, 32)") && Catch::Contains("2,080"));
  CHECK_THAT(s, Catch::Contains("dense_2 (Dense)") && Catch::Contains("(None, 10)") && Catch::Contains("330"));
  CHECK_THAT(s, Catch::Contains("Total params: 8,874"));
  CHECK_THAT(s, Catch::Contains("Trainable params: 330"));
  CHECK_THAT(s, Catch::Contains("Non-trainable params: 8,544"));
  // 330 floats of gradient; per sample the kept 32 + 10 floats, plus layer 0's 64 outputs, alive only in the
  // forward pass, whose space the output's gradient (10) takes afterwards.
  CHECK_THAT(s, Catch::Contains("Gradient storage: 1,320 bytes"));
  CHECK_THAT(s, Catch::Contains("Optimizer state: 1,320 bytes per slot"));
  CHECK_THAT(s, Catch::Contains("Training workspace: 424 bytes per sample (kept for backward: 168)"));
  // The trainable column: N, N, Y in layer order.
  const auto n0 = s.find("dense (Dense)"), n1 = s.find("dense_1 (Dense)"), n2 = s.find("dense_2 (Dense)");
  REQUIRE(s.substr(n0, s.find('\n', n0) - n0).back() == 'N');
  REQUIRE(s.substr(n1, s.find('\n', n1) - n1).back() == 'N');
  REQUIRE(s.substr(n2, s.find('\n', n2) - n2).back() == 'Y');
}

namespace {
// A layer kind of its own, to check Keras's per-kind numbering.
struct projection : frost::dense<3> {
  static constexpr std::string_view keras_name = "projection";
};
}  // namespace

TEST_CASE("summary numbers layers per kind, as Keras does", "[io][summary]") {
  using Net = frost::sequential<frost::input<4>, projection, frost::dense<5>, projection, frost::dense<2>>;
  const std::string s = frost::summary_string(Net::init(0));
  CHECK_THAT(s, Catch::Contains(" projection (Projection) "));
  CHECK_THAT(s, Catch::Contains(" dense (Dense) "));
  CHECK_THAT(s, Catch::Contains(" projection_1 (Projection) "));
  CHECK_THAT(s, Catch::Contains(" dense_1 (Dense) "));
  CHECK_THAT(s, !Catch::Contains("dense_2"));
}
