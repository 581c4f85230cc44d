// libFuzzer harness: any bytes given to the safetensors loader either load or throw a
// frost::error; the model changes only on a successful load. Models: the fixtures' mlp and cnn
// (tests/fixtures/weights), so that the seed corpus reaches the tensor checks.
#include <frost/frost.hpp>
#include <frost/io/safetensors.hpp>

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
  try {
    frost::load_safetensors(model, bytes, "fuzz.safetensors");
  } catch (const frost::error&) {
    // A refused file leaves the model as it was.
    if (std::memcmp(before.data(), model.trainable_parameters().data(), before.size() * sizeof(float)) != 0) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const frost::tensor_table table = frost::parse_safetensors(bytes, "fuzz.safetensors");
    for (const auto& r : table.records())
      if (r.bytes.size() != r.elements() * frost::dtype_size(r.type)) std::abort();  // the checks held
  } catch (const frost::error&) {
  }
  try_load<mlp>(bytes);
  try_load<cnn>(bytes);
  return 0;
}
