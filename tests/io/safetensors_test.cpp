// safetensors: round trips, the file's layout, conversions, atomic saves, and every rejection
// leaving the model bit-identical.
#include <frost/frost.hpp>
#include <frost/io/safetensors.hpp>

#include "support/gradcheck.hpp"
#include "support/weight_files.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace frost;
using frost_test::safetensors_bytes;
using frost_test::snapshot;

namespace {

using cnn = sequential<input<8, 8, 1>, conv2d<4, 3, 3>, batch_normalization<>, activation<relu>, max_pooling2d<2, 2>,
                       conv2d<6, 2, 2, relu>, flatten, dense<5, relu>, dense<3, softmax>>;
using mlp = sequential<input<3>, dense<2, relu>, dense<1>>;

// Moves the model's moving statistics off their initial values (as training would).
template <class M>
void move_statistics(M& m) {
  frost_test::fill_uniform(m.template layer<1>().moving_mean(), 9);
  frost_test::fill_uniform(m.template layer<1>().moving_variance(), 10, 0.5, 2.0);
}

// A valid file for `mlp` built by hand: kernel (3, 2) then bias (2,), dense_1 kernel (2, 1), bias (1,).
std::vector<float> mlp_values() {
  std::vector<float> v(6 + 2 + 2 + 1);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.25f * static_cast<float>(i) - 1.f;
  return v;
}
const std::string mlp_header =
    R"({"dense/kernel":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
    R"("dense/bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},)"
    R"("dense_1/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[32,40]},)"
    R"("dense_1/bias":{"dtype":"F32","shape":[1],"data_offsets":[40,44]}})";

// Loads `bytes` into a fresh mlp, expecting a format_error whose message holds every `parts`;
// the model must be bit-identical afterwards.
void require_rejected(const std::vector<std::byte>& bytes, std::initializer_list<const char*> parts,
                      const load_options& options = {}) {
  auto m = mlp::init(1);
  const auto before = snapshot(m);
  try {
    load_safetensors(m, std::span<const std::byte>(bytes), "bad.safetensors", options);
    FAIL("no error");
  } catch (const format_error& e) {
    const std::string what = e.what();
    INFO(what);
    REQUIRE(what.find("frost::load_safetensors: bad.safetensors: ") == 0);
    for (const char* p : parts) REQUIRE(what.find(p) != std::string::npos);
  }
  REQUIRE(snapshot(m) == before);
}

}  // namespace

TEST_CASE("save then load gives back every variable, trainable, frozen and state", "[io][safetensors]") {
  frost_test::scratch_dir dir;
  auto a = freeze<0>(cnn::init(1));
  move_statistics(a);
  save_safetensors(a, dir.file("cnn.safetensors"));
  auto b = freeze<0>(cnn::init(2));
  REQUIRE(snapshot(a) != snapshot(b));
  load_safetensors(b, dir.file("cnn.safetensors"));
  REQUIRE(snapshot(a) == snapshot(b));
  // Into the same architecture with other layers frozen: the same values, other arenas.
  auto c = cnn::init(3);
  load_safetensors(c, dir.file("cnn.safetensors"));
  REQUIRE(frost_test::same_bytes(c.layer<0>().kernel(), a.layer<0>().kernel()));
  REQUIRE(frost_test::same_bytes(c.layer<1>().moving_variance(), a.layer<1>().moving_variance()));
  matrix<float, 8, 8, 1> x(3);
  frost_test::fill_uniform(x.values(), 4);
  REQUIRE(frost_test::same_bytes(a(x).values(), c(x).values()));
}

TEST_CASE("the file is safetensors as the format describes it", "[io][safetensors]") {
  frost_test::scratch_dir dir;
  auto m = cnn::init(1);
  save_safetensors(m, dir.file("cnn.safetensors"));
  const auto bytes = frost_test::read_bytes(dir.file("cnn.safetensors"));
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE(n % 8 == 0);  // data 8-byte aligned
  const auto header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data() + 8), n));
  REQUIRE(header["__metadata__"]["format"] == "frost");
  REQUIRE(header["conv2d/kernel"]["dtype"] == "F32");
  REQUIRE(header["conv2d/kernel"]["shape"] == nlohmann::json::array({3, 3, 1, 4}));
  REQUIRE(header["dense/kernel"]["shape"] == nlohmann::json::array({24, 5}));
  REQUIRE(header["batch_normalization/moving_mean"]["shape"] == nlohmann::json::array({4}));
  REQUIRE(header.size() == 13);  // 12 variables and the metadata
  // The kernel's bytes are the model's, row-major HWIO.
  const auto off = header["dense_1/kernel"]["data_offsets"];
  const std::size_t begin = off[0];
  REQUIRE(std::memcmp(bytes.data() + 8 + n + begin, m.layer<7>().kernel().data(), m.layer<7>().kernel().size_bytes()) == 0);
  // A double model writes F64.
  using dmlp = basic_sequential<double, input<3>, dense<2, relu>, dense<1>>;
  save_safetensors(dmlp::init(1), dir.file("d.safetensors"));
  const auto dbytes = frost_test::read_bytes(dir.file("d.safetensors"));
  std::memcpy(&n, dbytes.data(), 8);
  REQUIRE(nlohmann::json::parse(std::string(reinterpret_cast<const char*>(dbytes.data() + 8), n))["dense/bias"]["dtype"] ==
          "F64");
}

TEST_CASE("F16, BF16 and F64 tensors are converted on load", "[io][safetensors]") {
  // Values exact in every format: 1, -2.5, 0.75, 2^-24 (a half subnormal), 65504 (the largest half).
  const std::vector<std::uint16_t> f16{0x3c00, 0xc100, 0x3a00, 0x0001, 0x7bff, 0x8000};
  const std::vector<std::uint16_t> bf16{0x3f80, 0xc020};
  const std::vector<double> f64{0.1, -3.0};  // 0.1 rounds to the float nearest
  auto buffer = frost_test::as_byte_vector(f16);
  const auto b2 = frost_test::as_byte_vector(bf16), b3 = frost_test::as_byte_vector(f64);
  buffer.insert(buffer.end(), b2.begin(), b2.end());
  buffer.insert(buffer.end(), b3.begin(), b3.end());
  const std::vector<float> bias_1{7.f};
  const auto b4 = frost_test::as_byte_vector(bias_1);
  buffer.insert(buffer.end(), b4.begin(), b4.end());
  const std::string header = R"({"dense/kernel":{"dtype":"F16","shape":[3,2],"data_offsets":[0,12]},)"
                             R"("dense/bias":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},)"
                             R"("dense_1/kernel":{"dtype":"F64","shape":[2,1],"data_offsets":[16,32]},)"
                             R"("dense_1/bias":{"dtype":"F32","shape":[1],"data_offsets":[32,36]}})";
  auto m = mlp::init(1);
  load_safetensors(m, std::span<const std::byte>(safetensors_bytes(header, buffer)), "mixed.safetensors");
  const auto k = m.layer<0>().kernel();
  REQUIRE(std::vector<float>(k.begin(), k.end()) == std::vector<float>{1.f, -2.5f, 0.75f, 0x1p-24f, 65504.f, -0.f});
  REQUIRE(std::signbit(k[5]));
  REQUIRE(m.layer<0>().bias()[0] == 1.f);
  REQUIRE(m.layer<0>().bias()[1] == -2.5f);
  REQUIRE(m.layer<1>().kernel()[0] == static_cast<float>(0.1));
  REQUIRE(m.layer<1>().kernel()[1] == -3.f);
  REQUIRE(m.layer<1>().bias()[0] == 7.f);
}

TEST_CASE("a hand-made valid file loads, in the file's values", "[io][safetensors]") {
  auto m = mlp::init(1);
  const auto v = mlp_values();
  load_safetensors(m, std::span<const std::byte>(safetensors_bytes(mlp_header, frost_test::as_byte_vector(v))), "ok");
  REQUIRE(std::vector<float>(m.layer<0>().kernel().begin(), m.layer<0>().kernel().end()) ==
          std::vector<float>(v.begin(), v.begin() + 6));
  REQUIRE(m.layer<1>().bias()[0] == v[10]);
  // Header padding with spaces, metadata, and tensors in another order in the buffer are fine.
  const std::string padded = R"({"__metadata__":{"format":"pt"},)"
                             R"("dense_1/bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("dense/kernel":{"dtype":"F32","shape":[3,2],"data_offsets":[4,28]},)"
                             R"("dense/bias":{"dtype":"F32","shape":[2],"data_offsets":[28,36]},)"
                             R"("dense_1/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[36,44]}}   )";
  std::vector<float> w{9.f};
  w.insert(w.end(), v.begin(), v.begin() + 10);
  auto n = mlp::init(2);
  load_safetensors(n, std::span<const std::byte>(safetensors_bytes(padded, frost_test::as_byte_vector(w))), "ok");
  REQUIRE(n.layer<1>().bias()[0] == 9.f);
  REQUIRE(snapshot(n) != snapshot(m));
  REQUIRE(frost_test::same_bytes(n.layer<0>().kernel(), m.layer<0>().kernel()));
}

TEST_CASE("every malformed file is refused with a clear error, and the model is unchanged", "[io][safetensors][errors]") {
  const auto data = frost_test::as_byte_vector(mlp_values());
  const auto good = safetensors_bytes(mlp_header, data);
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string h = mlp_header;
    const auto at = h.find(from);
    REQUIRE(at != std::string::npos);
    h.replace(at, from.size(), to);
    return safetensors_bytes(h, data);
  };

  SECTION("shorter than the header length") {
    require_rejected(std::vector<std::byte>(good.begin(), good.begin() + 5), {"file size", "truncated"});
  }
  SECTION("truncated in the byte buffer") {
    require_rejected(std::vector<std::byte>(good.begin(), good.end() - 1), {"data_offsets", "0 <= begin <= end <= 43"});
  }
  SECTION("truncated in the header") {
    require_rejected(std::vector<std::byte>(good.begin(), good.begin() + 40), {"header length", "truncated file?"});
  }
  SECTION("an absurd header length") {
    auto bad = good;
    const std::uint64_t n = std::uint64_t{1} << 40;
    std::memcpy(bad.data(), &n, 8);
    require_rejected(bad, {"header length", "at most 100000000 bytes", "1099511627776"});
  }
  SECTION("not JSON") { require_rejected(safetensors_bytes("{\"dense/kernel\": [1, 2", data), {"header", "valid UTF-8 JSON"}); }
  SECTION("not an object") { require_rejected(safetensors_bytes("[1, 2, 3]", {}), {"a JSON object starting with '{'"}); }
  SECTION("invalid UTF-8") {
    std::string h = mlp_header;
    h.replace(h.find("dense/bias"), 1, "\xff");
    require_rejected(safetensors_bytes(h, data), {"valid UTF-8 JSON"});
  }
  SECTION("a duplicate name") {
    require_rejected(replaced("\"dense_1/bias\"", "\"dense/bias\""), {"tensor 'dense/bias'", "a duplicate name"});
  }
  SECTION("offsets out of bounds") {
    require_rejected(replaced("[40,44]", "[40,48]"), {"tensor 'dense_1/bias': data_offsets", "[40,48]"});
  }
  SECTION("offsets that overlap") {
    require_rejected(replaced("\"data_offsets\":[24,32]", "\"data_offsets\":[20,28]"), {"overlapping the tensor before"});
  }
  SECTION("a hole between tensors") {
    auto h = mlp_header;
    // dense_1/bias moves past a 4-byte hole; the file grows by 4 bytes.
    h.replace(h.find("[40,44]"), 7, "[44,48]");
    auto d = data;
    d.resize(d.size() + 4);
    require_rejected(safetensors_bytes(h, d), {"tensor 'dense_1/bias': data_offsets", "a hole before it"});
  }
  SECTION("trailing bytes") {
    auto d = data;
    d.resize(d.size() + 3);
    require_rejected(safetensors_bytes(mlp_header, d), {"byte buffer", "44 bytes", "47 (trailing bytes)"});
  }
  SECTION("bytes that do not match the shape") {
    require_rejected(replaced("\"shape\":[2],\"data_offsets\":[24,32]", "\"shape\":[3],\"data_offsets\":[24,32]"),
                     {"tensor 'dense/bias': bytes", "12 (shape (3,) of F32)", "got 8"});
  }
  SECTION("a dtype frost does not load") {
    require_rejected(replaced("\"dtype\":\"F32\",\"shape\":[2],", "\"dtype\":\"I32\",\"shape\":[2],"),
                     {"tensor 'dense/bias': dtype", "F32 (or F64, F16, BF16, converted)", "got I32"});
  }
  SECTION("a dtype that does not exist") {
    require_rejected(replaced("\"dtype\":\"F32\",\"shape\":[2],", "\"dtype\":\"F31\",\"shape\":[2],"), {"\"F31\""});
  }
  SECTION("a negative size") {
    require_rejected(replaced("\"shape\":[2],", "\"shape\":[-2],"), {"shape", "non-negative integers", "-2"});
  }
  SECTION("a transposed kernel") {
    require_rejected(replaced("\"shape\":[3,2]", "\"shape\":[2,3]"),
                     {"tensor 'dense/kernel': shape", "expected (3, 2), got (2, 3)", "transposed kernel", "(out, in)"});
  }
  SECTION("a missing tensor") {
    auto h = mlp_header;
    h.replace(h.find(",\"dense_1/bias\""), std::string(",\"dense_1/bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[40,44]}").size(), "");
    auto d = data;
    d.resize(40);
    require_rejected(safetensors_bytes(h, d), {"tensors: expected every variable of the model", "1 missing: dense_1/bias"});
  }
  SECTION("an unexpected tensor, refused unless strict is off") {
    auto h = mlp_header;
    h.insert(h.size() - 1, ",\"extra/kernel\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[44,48]}");
    auto d = data;
    d.resize(48);
    const auto bytes = safetensors_bytes(h, d);
    require_rejected(bytes, {"only the model's 4", "1 more: extra/kernel", ".strict = false"});
    static std::vector<std::string> warnings;
    warnings.clear();
    auto m = mlp::init(1);
    load_safetensors(m, std::span<const std::byte>(bytes), "extra.safetensors",
                     {.strict = false, .warn = [](const std::string& w) { warnings.push_back(w); }});
    REQUIRE(warnings.size() == 1);
    REQUIRE(warnings[0].find("ignoring tensor 'extra/kernel'") != std::string::npos);
    REQUIRE(m.layer<1>().bias()[0] == mlp_values()[10]);
  }
  SECTION("a file for another model") {
    frost_test::scratch_dir dir;
    // Names in common (dense, dense_1) and more: the extra tensors are named.
    save_safetensors(cnn::init(1), dir.file("cnn.safetensors"));
    require_rejected(frost_test::read_bytes(dir.file("cnn.safetensors")),
                     {"only the model's 4", "got 8 more", "conv2d/kernel", "a file for another model?"});
    // No name in common.
    using other = sequential<input<3>, named<"encoder", dense<2, relu>>, named<"head", dense<1>>>;
    save_safetensors(other::init(1), dir.file("other.safetensors"));
    require_rejected(frost_test::read_bytes(dir.file("other.safetensors")),
                     {"none of them", "the file holds encoder/", "a file for another model?"});
  }
  SECTION("metadata that is not strings") {
    auto h = mlp_header;
    h.insert(1, "\"__metadata__\":{\"epoch\":3},");
    require_rejected(safetensors_bytes(h, data), {"__metadata__ 'epoch'", "a string"});
  }
}

TEST_CASE("a PyTorch OIHW kernel is refused with a hint", "[io][safetensors][errors]") {
  frost_test::scratch_dir dir;
  using conv = sequential<input<5, 5, 2>, conv2d<3, 2, 2>>;
  save_safetensors(conv::init(1), dir.file("c.safetensors"));
  auto bytes = frost_test::read_bytes(dir.file("c.safetensors"));
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::string h(reinterpret_cast<const char*>(bytes.data() + 8), n);
  h.replace(h.find("[2,2,2,3]"), 9, "[3,2,2,2]");
  std::memcpy(bytes.data() + 8, h.data(), n);
  auto m = conv::init(2);
  const auto before = snapshot(m);
  try {
    load_safetensors(m, std::span<const std::byte>(bytes), "torch.safetensors");
    FAIL("no error");
  } catch (const format_error& e) {
    REQUIRE(std::string(e.what()).find("PyTorch OIHW convolution kernel") != std::string::npos);
  }
  REQUIRE(snapshot(m) == before);
}

TEST_CASE("files that cannot be read or written give io_error naming them", "[io][safetensors][errors]") {
  frost_test::scratch_dir dir;
  auto m = mlp::init(1);
  const auto before = snapshot(m);
  REQUIRE_THROWS_WITH(load_safetensors(m, dir.file("none.safetensors")),
                      Catch::Contains("none.safetensors: cannot open: No such file"));
  REQUIRE_THROWS_AS(load_safetensors(m, dir.path.string()), io_error);  // a directory
  REQUIRE_THROWS_WITH(save_safetensors(m, dir.file("no/such/dir/m.safetensors")),
                      Catch::Contains("cannot create a temporary file"));
  REQUIRE(snapshot(m) == before);
  auto moved = std::move(m);
  REQUIRE_THROWS_AS(save_safetensors(m, dir.file("m.safetensors")), state_error);  // NOLINT(bugprone-use-after-move)
  REQUIRE_THROWS_AS(load_safetensors(m, dir.file("m.safetensors")), state_error);
}

TEST_CASE("a save killed part-way leaves the old file intact", "[io][safetensors][atomic]") {
  frost_test::scratch_dir dir;
  using big = sequential<input<784>, dense<512, relu>, dense<10>>;  // 1.6 MB: two write chunks at least
  const std::string path = dir.file("big.safetensors");
  save_safetensors(big::init(1), path);
  frost_test::require_killed_save_keeps(path, [&] { save_safetensors(big::init(2), path); });
  auto m = big::init(3);
  load_safetensors(m, path);
  auto reference = big::init(1);
  REQUIRE(snapshot(m) == snapshot(reference));
  // The next save replaces it.
  save_safetensors(big::init(2), path);
  load_safetensors(m, path);
  REQUIRE(snapshot(m) == snapshot(big::init(2)));
}
