// libFuzzer harness: any bytes given to the safetensors loader either load or throw a
// frost::error that leaves the model as it was (tests/fuzz/models.hpp).
#include <frost/io/safetensors.hpp>

#include "models.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const frost::tensor_table table = frost::parse_safetensors(bytes, "fuzz.safetensors");
    for (const auto& r : table.records())
      if (r.bytes.size() != r.elements() * frost::dtype_size(r.type)) std::abort();  // the checks held
  } catch (const frost::error&) {
  }
  auto load = [&](auto& m) { frost::load_safetensors(m, bytes, "fuzz.safetensors"); };
  frost_fuzz::load_or_keep<frost_fuzz::mlp>(load);
  frost_fuzz::load_or_keep<frost_fuzz::cnn>(load);
  return 0;
}
