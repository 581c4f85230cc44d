#pragma once
// The models the fuzz harnesses load into: the weight fixtures' MLP and CNN
// (tests/fixtures/weights), so that valid seeds reach every tensor check; and the harnesses'
// own check of the loaders' promise, that a refused file leaves the model bit-identical.
#include <frost/frost.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace frost_fuzz {

using mlp = frost::sequential<frost::input<6>, frost::dense<5, frost::relu>, frost::dense<4, frost::tanh_activation>,
                              frost::dense<3, frost::softmax>>;
using cnn = frost::sequential<frost::input<8, 8, 2>, frost::conv2d<4, 3, 3, frost::relu>, frost::batch_normalization<>,
                              frost::max_pooling2d<2, 2>, frost::conv2d<3, 2, 2, frost::linear, frost::padding::same>,
                              frost::flatten, frost::dense<3, frost::softmax>>;

/// Runs `load(model)` on a long-lived model; when it throws a frost::error, the model's
/// parameters and state must be what they were (abort otherwise: the fuzzer reports it).
template <class Model, class Load>
void load_or_keep(Load load) {
  static Model model = Model::init(1);
  const std::vector<float> params(model.trainable_parameters().begin(), model.trainable_parameters().end());
  const std::vector<float> state(model.state().begin(), model.state().end());
  try {
    load(model);
  } catch (const frost::error&) {
    if (std::memcmp(params.data(), model.trainable_parameters().data(), params.size() * sizeof(float)) != 0 ||
        (!state.empty() && std::memcmp(state.data(), model.state().data(), state.size() * sizeof(float)) != 0))
      std::abort();
  }
}

}  // namespace frost_fuzz
