// The fuzzers' seed corpora (tests/fuzz/corpus), replayed in every test build: the valid files
// load into the harnesses' models, every broken one is refused with a format_error and changes
// nothing.
#include <frost/frost.hpp>
#include <frost/io/keras_h5.hpp>
#include <frost/io/safetensors.hpp>

#include "support/weight_files.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

using namespace frost;

namespace {
const std::filesystem::path corpus = std::filesystem::path(FROST_TEST_FIXTURES) / ".." / "fuzz" / "corpus";

using mlp = sequential<input<6>, dense<5, relu>, dense<4, tanh_activation>, dense<3, softmax>>;
using cnn = sequential<input<8, 8, 2>, conv2d<4, 3, 3, relu>, batch_normalization<>, max_pooling2d<2, 2>,
                       conv2d<3, 2, 2, linear, padding::same>, flatten, dense<3, softmax>>;

// Loads `file` into a fresh model: true when it loaded; a refusal must be a format_error that
// left the model unchanged.
template <class Model, class Load>
bool loads(const std::filesystem::path& file, Load load) {
  auto m = Model::init(1);
  const auto before = frost_test::snapshot(m);
  try {
    load(m, file.string());
    return true;
  } catch (const format_error& e) {
    INFO(e.what());
    REQUIRE(frost_test::snapshot(m) == before);
    return false;
  }
}

template <class Load>
void replay(const std::string& folder, const std::set<std::string>& mlp_files, const std::set<std::string>& cnn_files,
            Load load) {
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(corpus / folder)) {
    const std::string name = e.path().filename().string();
    INFO(name);
    REQUIRE(loads<mlp>(e.path(), load) == (mlp_files.count(name) == 1));
    REQUIRE(loads<cnn>(e.path(), load) == (cnn_files.count(name) == 1));
    ++files;
  }
  REQUIRE(files >= 15);
}
}  // namespace

TEST_CASE("the safetensors seed corpus: valid files load, broken ones are refused", "[io][corpus][safetensors]") {
  replay("safetensors", {"mlp_f16.safetensors", "mlp_bf16.safetensors", "mlp_f32.safetensors"}, {"cnn_f32.safetensors"},
         [](auto& m, const std::string& p) { load_safetensors(m, p); });
}

TEST_CASE("the Keras seed corpus: valid files load, broken ones are refused", "[io][corpus][keras_h5]") {
  replay("keras_h5", {"mlp.weights.h5", "mlp_no_attrs.weights.h5"}, {"cnn.weights.h5", "cnn_f64.weights.h5", "cnn.keras"},
         // A damaged file may keep HDF5 busy (hdf5_huge_group): its reader is stopped after 5 s.
         [](auto& m, const std::string& p) { load_keras_weights(m, p, {.reader_seconds = 5}); });
}
