#include <frost/frost.hpp>

#include <catch2/catch.hpp>

#include <sstream>
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
  CHECK_THAT(s, Catch::Contains("Gradient storage: 1,320 bytes with keep_gradients (0 with the fused update)"));
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

TEST_CASE("summary of a functional model shows the input layer and Keras's Connected to column", "[io][summary]") {
  auto in = frost::input<6>{};
  auto h = frost::named<"encoder", frost::dense<8, frost::relu>>{}(in);
  auto r = frost::add{}(h, frost::frozen<frost::dense<8, frost::tanh_activation>>{}(h));
  auto model = frost::make_model(in, frost::dense<3, frost::softmax>{}(r));
  const std::string s = frost::summary_string(model);
  CHECK_THAT(s, Catch::StartsWith("Model: \"functional\""));
  CHECK_THAT(s, Catch::Contains("Connected to"));
  // One row per layer of model.layers, the input first; add reads two layers, one per line.
  const auto line_of = [&](const std::string& what) {
    const auto at = s.find(what);
    REQUIRE(at != std::string::npos);
    return s.substr(at, s.find('\n', at) - at);
  };
  CHECK_THAT(line_of("input_layer (InputLayer)"), Catch::Contains("(None, 6)") && Catch::EndsWith("-"));
  CHECK_THAT(line_of("encoder (Dense)"), Catch::Contains("56") && Catch::Contains("input_layer[0][0]") &&
                                             Catch::EndsWith("Y"));
  CHECK_THAT(line_of("dense (Dense)"), Catch::Contains("72") && Catch::Contains("encoder[0][0]") && Catch::EndsWith("N"));
  const auto add_at = s.find("add (Add)");
  REQUIRE(add_at != std::string::npos);
  const std::string add_rows = s.substr(add_at, s.find("dense_1 (Dense)") - add_at);
  CHECK_THAT(add_rows, Catch::Contains("encoder[0][0]") && Catch::Contains("\n") && Catch::Contains("dense[0][0]"));
  CHECK_THAT(line_of("dense_1 (Dense)"), Catch::Contains("(None, 3)") && Catch::Contains("27") &&
                                             Catch::Contains("add[0][0]"));
  CHECK_THAT(s, Catch::Contains("Total params: 155"));
  CHECK_THAT(s, Catch::Contains("Trainable params: 83"));
  CHECK_THAT(s, Catch::Contains("Non-trainable params: 72"));
}

TEST_CASE("summary of a trainer says how it updates and what it holds", "[io][summary]") {
  using Net = frost::sequential<frost::input<100>, frost::frozen<frost::dense<64, frost::relu>>,
                                frost::frozen<frost::dense<32, frost::relu>>, frost::dense<10, frost::softmax>>;
  Net m = Net::init(0);
  auto fused = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 32);
  auto kept = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 32, frost::keep_gradients);
  std::ostringstream a, b;
  frost::summary(fused, a);
  frost::summary(kept, b);
  // 330 trainable floats: Adam's two slots are 2,640 bytes; the workspace 424 bytes per sample × 32.
  CHECK_THAT(a.str(), Catch::Contains("Trainer: adam, max_batch 32, 1 thread") &&
                          Catch::Contains("Update: fused into the weight-gradient products (no gradient stored)") &&
                          Catch::Contains("  Gradients: 0 bytes") && Catch::Contains("  Optimizer state: 2,640 bytes") &&
                          Catch::Contains("  Workspace: 13,568 bytes") && Catch::Contains("  Total: 16,208 bytes"));
  CHECK_THAT(b.str(), Catch::Contains("Update: from a gradient arena (keep_gradients)") &&
                          Catch::Contains("  Gradients: 1,320 bytes") && Catch::Contains("  Total: 17,528 bytes"));
  CHECK(fused.allocated_bytes() == 16208);
}
