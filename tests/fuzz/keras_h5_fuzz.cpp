// libFuzzer harness: any bytes given to the Keras weights loader (as a .weights.h5 file, or as a
// .keras zip holding one) either load or throw a frost::error; a refused file changes nothing.
// Models: the fixtures' mlp and cnn (tests/fixtures/weights).
#include <frost/frost.hpp>
#include <frost/io/keras_h5.hpp>

#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace {
using mlp = frost::sequential<frost::input<6>, frost::dense<5, frost::relu>, frost::dense<4, frost::tanh_activation>,
                              frost::dense<3, frost::softmax>>;
using cnn = frost::sequential<frost::input<8, 8, 2>, frost::conv2d<4, 3, 3, frost::relu>, frost::batch_normalization<>,
                              frost::max_pooling2d<2, 2>, frost::conv2d<3, 2, 2, frost::linear, frost::padding::same>,
                              frost::flatten, frost::dense<3, frost::softmax>>;

template <class Model>
void try_load(std::span<const std::byte> bytes) {
  static Model model = Model::init(1);
  const std::vector<float> before(model.trainable_parameters().begin(), model.trainable_parameters().end());
  const std::vector<float> state(model.state().begin(), model.state().end());
  try {
    frost::load_keras_weights(model, bytes, "fuzz.weights.h5");
  } catch (const frost::error&) {
    if (std::memcmp(before.data(), model.trainable_parameters().data(), before.size() * sizeof(float)) != 0 ||
        (!state.empty() && std::memcmp(state.data(), model.state().data(), state.size() * sizeof(float)) != 0))
      std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The HDF5 reader runs in a child process; when libhdf5 crashes or runs out of memory there,
  // that is the child's death, reported to the loader as a format_error, not the fuzzer's.
  frost::detail::reader_started = [] { __sanitizer_set_death_callback(nullptr); };
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    try {
      bytes = frost::zip_member(bytes, "model.weights.h5", "fuzz.keras", "fuzz");
    } catch (const frost::error&) {
      return 0;
    }
  }
  try_load<mlp>(bytes);
  try_load<cnn>(bytes);
  return 0;
}
