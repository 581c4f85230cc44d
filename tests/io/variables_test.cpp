// The variables table weight files are written from: names, Keras object paths, shapes, arenas.
#include <frost/frost.hpp>
#include <frost/io/variables.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace frost;

namespace {
using cnn = sequential<input<8, 8, 1>, conv2d<4, 3, 3>, batch_normalization<>, activation<relu>, max_pooling2d<2, 2>,
                       named<"features", conv2d<6, 2, 2, relu>>, flatten, dense<5, relu>, dense<3, softmax>>;

template <class M>
std::vector<std::string> names_of() {
  std::vector<std::string> out;
  for (const auto& v : model_variables<M>) out.push_back(variable_name<M>(v));
  return out;
}
}  // namespace

TEST_CASE("every variable is named <layer name>/<variable>, in model.layers and Keras save order", "[io][variables]") {
  REQUIRE(names_of<cnn>() == std::vector<std::string>{"conv2d/kernel", "conv2d/bias", "batch_normalization/gamma",
                                                      "batch_normalization/beta", "batch_normalization/moving_mean",
                                                      "batch_normalization/moving_variance", "features/kernel",
                                                      "features/bias", "dense/kernel", "dense/bias", "dense_1/kernel",
                                                      "dense_1/bias"});
  constexpr auto& vars = model_variables<cnn>;
  STATIC_REQUIRE(vars.size() == 12);
  // Keras shapes: conv kernel HWIO, dense kernel (in, units).
  STATIC_REQUIRE(vars[0].var.rank == 4);
  STATIC_REQUIRE(vars[0].var.dims[0] == 3 && vars[0].var.dims[1] == 3 && vars[0].var.dims[2] == 1 && vars[0].var.dims[3] == 4);
  STATIC_REQUIRE(vars[6].var.dims[2] == 4 && vars[6].var.dims[3] == 6);
  STATIC_REQUIRE(vars[8].var.rank == 2 && vars[8].var.dims[0] == 2 * 2 * 6 && vars[8].var.dims[1] == 5);
  STATIC_REQUIRE(vars[4].where == arena::state && vars[5].where == arena::state);
  // Layer index and variable index within the layer (Keras's vars/<i>).
  STATIC_REQUIRE(vars[5].layer == 1 && vars[5].index == 3);
  STATIC_REQUIRE(vars[11].layer == 7 && vars[11].index == 1);
}

TEST_CASE("variables point into the arenas the model's views use, frozen or not", "[io][variables]") {
  auto m = freeze<0, 1>(cnn::init(3));
  constexpr auto& vars = model_variables<decltype(m)>;
  STATIC_REQUIRE(vars[0].where == arena::frozen && vars[2].where == arena::frozen && vars[8].where == arena::trainable);
  REQUIRE(variable_data(m, vars[0]) == m.layer<0>().kernel().data());
  REQUIRE(variable_data(m, vars[1]) == m.layer<0>().bias().data());
  REQUIRE(variable_data(m, vars[3]) == m.layer<1>().beta().data());
  REQUIRE(variable_data(m, vars[5]) == m.layer<1>().moving_variance().data());
  REQUIRE(variable_data(m, vars[10]) == m.layer<7>().kernel().data());
}

TEST_CASE("Keras object paths count classes, never layer names; a functional model's input is a layer",
          "[io][variables]") {
  REQUIRE(keras_layer_path<cnn>(1) == "layers/conv2d");
  REQUIRE(keras_layer_path<cnn>(2) == "layers/batch_normalization");
  REQUIRE(keras_layer_path<cnn>(3) == "layers/activation");
  REQUIRE(keras_layer_path<cnn>(5) == "layers/conv2d_1");  // named "features", still conv2d_1
  REQUIRE(keras_layer_path<cnn>(8) == "layers/dense_1");
  // Without given names, a layer's default name is its Keras path: both count classes in
  // model.layers order, the inputs of a functional model included.
  auto a = input<4>{};
  auto b = input<3>{};
  auto out = dense<2>{}(concatenate{}(dense<3>{}(a), b));
  using F = decltype(make_model(boost::hana::make_tuple(a, b), out));
  std::vector<std::string> paths, inputs;
  for (std::size_t i = 0; i < F::node_count; ++i) {
    paths.push_back(keras_layer_path<F>(i));
    REQUIRE(paths.back() == "layers/" + F::names[i].str());
  }
  REQUIRE(std::count(paths.begin(), paths.end(), "layers/input_layer") == 1);
  REQUIRE(std::count(paths.begin(), paths.end(), "layers/input_layer_1") == 1);
  REQUIRE(std::count(paths.begin(), paths.end(), "layers/dense_1") == 1);
  REQUIRE(paths.back() == "layers/dense_1");
}
