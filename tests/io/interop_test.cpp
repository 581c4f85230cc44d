// Files written outside frost (tests/fixtures/weights/generate.py, following Keras's and
// PyTorch's layouts) load into frost models of the same architecture: every variable lands
// where the fixture says, and inference gives the fixture's reference outputs (computed in
// numpy, float64). Also writes frost's own Keras saves of the same models for
// check_keras_layout.py (run by ctest after this test) to read back with h5py.
#include <frost/frost.hpp>
#include <frost/io/keras_h5.hpp>
#include <frost/io/pytorch.hpp>
#include <frost/io/safetensors.hpp>

#include "support/weight_files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace frost;

namespace {

const std::string dir = std::string(FROST_TEST_FIXTURES) + "/weights/";

using mlp = sequential<input<6>, dense<5, relu>, dense<4, tanh_activation>, dense<3, softmax>>;
using cnn = sequential<input<8, 8, 2>, conv2d<4, 3, 3, relu>, batch_normalization<>, max_pooling2d<2, 2>,
                       conv2d<3, 2, 2, linear, padding::same>, flatten, dense<3, softmax>>;
using torch_mlp = sequential<input<6>, dense<5, relu>, dense<3>>;
using torch_cnn = sequential<input<8, 8, 2>, conv2d<4, 3, 3>, batch_normalization<0.9f, 1e-5f>, activation<relu>,
                             max_pooling2d<2, 2>, flatten, dense<3>>;
auto two_input() {
  auto a = input<5>{};
  auto b = input<4>{};
  auto p = dense<6, relu>{}(a);
  auto r = dense<4, sigmoid>{}(b);
  auto out = dense<2>{}(concatenate{}(p, r));
  return make_model(boost::hana::make_tuple(a, b), out);
}

const nlohmann::json& fixture(const std::string& file) {
  static const nlohmann::json all = [] {
    std::ifstream in(dir + "reference.json");
    return nlohmann::json::parse(in);
  }();
  for (const auto& f : all["fixtures"])
    if (f["file"] == file) return f;
  FAIL("no fixture " << file);
  return all;
}

template <class Model>
void check_weights(Model& m, const nlohmann::json& f) {
  std::size_t checked = 0;
  for (const model_variable& v : model_variables<Model>) {
    const std::string name = variable_name<Model>(v);
    INFO(f["file"].get<std::string>() << ": " << name);
    REQUIRE(f["weights"].contains(name));
    const auto values = f["weights"][name].get<std::vector<double>>();
    REQUIRE(values.size() == v.var.size());
    const auto* p = variable_data(m, v);
    for (std::size_t i = 0; i < values.size(); ++i) REQUIRE(p[i] == static_cast<float>(values[i]));
    ++checked;
  }
  REQUIRE(checked == f["weights"].size());
}

template <class Out>
void check_output(const Out& y, const nlohmann::json& f) {
  const auto want = f["output"].get<std::vector<double>>();
  REQUIRE(y.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO(f["file"].get<std::string>() << ": output " << i);
    REQUIRE(std::abs(y.data()[i] - want[i]) <= 1e-5 * (1.0 + std::abs(want[i])));
  }
}

// Loads `file` into a fresh Model with `load`, then checks weights and outputs (one input).
template <class Model, class Load>
void check_single_input(const std::string& file, Load load) {
  const auto& f = fixture(file);
  auto m = Model::init(123);
  load(m, dir + file);
  check_weights(m, f);
  const auto values = f["inputs"][0].get<std::vector<float>>();
  auto x = [&] {
    if constexpr (std::is_same_v<Model, cnn> || std::is_same_v<Model, torch_cnn>) return matrix<float, 8, 8, 2>(4);
    else return matrix<float, 6>(4);
  }();
  REQUIRE(values.size() == x.size());
  std::copy(values.begin(), values.end(), x.data());
  check_output(m(x), f);
}

}  // namespace

TEST_CASE("Keras-layout .weights.h5 files load and give the reference outputs", "[io][interop][keras_h5]") {
  auto keras = [](auto& m, const std::string& path) { load_keras_weights(m, path); };
  check_single_input<mlp>("mlp.weights.h5", keras);
  check_single_input<mlp>("mlp_no_attrs.weights.h5", keras);  // Keras 3.0-3.5: no name attributes
  check_single_input<cnn>("cnn.weights.h5", keras);
  check_single_input<cnn>("cnn_f64.weights.h5", keras);  // float64 datasets, cast
  check_single_input<cnn>("cnn.keras", keras);           // the member of a .keras archive
}

TEST_CASE("a functional Keras file loads by object path, input layers included", "[io][interop][keras_h5]") {
  const auto& f = fixture("two_input.weights.h5");
  auto m = two_input();
  load_keras_weights(m, dir + "two_input.weights.h5");
  check_weights(m, f);
  matrix<float, 5> a(4);
  matrix<float, 4> b(4);
  const auto va = f["inputs"][0].get<std::vector<float>>(), vb = f["inputs"][1].get<std::vector<float>>();
  std::copy(va.begin(), va.end(), a.data());
  std::copy(vb.begin(), vb.end(), b.data());
  check_output(m(a, b), f);
}

TEST_CASE("safetensors in F16 and BF16 load converted", "[io][interop][safetensors]") {
  auto st = [](auto& m, const std::string& path) { load_safetensors(m, path); };
  check_single_input<mlp>("mlp_f16.safetensors", st);
  check_single_input<mlp>("mlp_bf16.safetensors", st);
}

TEST_CASE("PyTorch state_dicts load with their layouts converted", "[io][interop][pytorch]") {
  auto torch = [](auto& m, const std::string& path) { load_pytorch_safetensors(m, path); };
  check_single_input<torch_mlp>("torch_mlp.safetensors", torch);
  // Conv OIHW -> HWIO, BatchNorm2d's running statistics, and the Linear after a channel-first
  // flatten reordered to frost's channel-last one.
  check_single_input<torch_cnn>("torch_cnn.safetensors", torch);
  // Modules named explicitly give the same.
  check_single_input<torch_cnn>("torch_cnn.safetensors", [](auto& m, const std::string& path) {
    load_pytorch_safetensors(m, path, {.modules = {"0", "1", "5"}});
  });
}

TEST_CASE("PyTorch files that do not fit are refused, naming the module and the variable", "[io][interop][pytorch][errors]") {
  auto m = torch_cnn::init(1);
  const auto before = frost_test::snapshot(m);
  // Modules in the wrong order: the BatchNorm's tensors meet the convolution.
  REQUIRE_THROWS_WITH(load_pytorch_safetensors(m, dir + "torch_cnn.safetensors", {.modules = {"1", "0", "5"}}),
                      Catch::Contains("tensors: expected every variable of the model") && Catch::Contains("0.running_mean"));
  REQUIRE_THROWS_WITH(load_pytorch_safetensors(m, dir + "torch_cnn.safetensors", {.modules = {"0", "5"}}),
                      Catch::Contains("modules: expected 3 with parameters (for conv2d, batch_normalization, dense)"));
  // A frost-layout file given to the PyTorch loader.
  auto k = mlp::init(1);
  REQUIRE_THROWS_WITH(load_pytorch_safetensors(k, dir + "mlp_f16.safetensors"),
                      Catch::Contains("modules: expected 3 with parameters"));
  // A PyTorch file given to the frost loader: names and layouts differ.
  REQUIRE_THROWS_WITH(load_safetensors(m, dir + "torch_cnn.safetensors"), Catch::Contains("a file for another model?"));
  REQUIRE(frost_test::snapshot(m) == before);
  // Module order as PyTorch numbers modules: 2 before 10, features.9 before features.10.
  REQUIRE(detail::module_less("2", "10"));
  REQUIRE(!detail::module_less("10", "2"));
  REQUIRE(detail::module_less("features.9", "features.10"));
  REQUIRE(detail::module_less("classifier", "features.0"));
  REQUIRE(detail::module_less("fc", "fc.0"));
}

TEST_CASE("frost's Keras saves of the fixture models, for h5py to read back", "[io][interop][keras_h5][h5py]") {
  // The files and the layouts check_keras_layout.py expects (the fixture's own), in FROST_KERAS_SAVES.
  const char* out = std::getenv("FROST_KERAS_SAVES");
  const std::string to = out != nullptr ? out : (std::filesystem::temp_directory_path() / "frost-keras-saves").string();
  std::filesystem::create_directories(to);
  auto save = [&](auto& m, const std::string& name) {
    load_keras_weights(m, dir + name + ".weights.h5");
    save_keras_weights(m, to + "/" + name + ".weights.h5");
    std::ofstream(to + "/" + name + ".expected.json") << fixture(name + ".weights.h5")["keras_layout"].dump();
    // And frost reads its own save back to the same weights.
    auto again = std::remove_cvref_t<decltype(m)>::init(77);
    load_keras_weights(again, to + "/" + name + ".weights.h5");
    REQUIRE(frost_test::snapshot(again) == frost_test::snapshot(m));
  };
  auto a = mlp::init(1);
  auto b = cnn::init(1);
  auto c = two_input();
  save(a, "mlp");
  save(b, "cnn");
  save(c, "two_input");
}
