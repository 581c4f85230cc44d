// libFuzzer harness: any bytes given to the Keras weights loader (as a .weights.h5 file, or as a
// .keras zip holding one) either load or throw a frost::error that leaves the model as it was
// (tests/fuzz/models.hpp).
#include <frost/io/keras_h5.hpp>

#include "models.hpp"

#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#include <cstdint>
#include <span>

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
  // A reader that takes more than 2 s is stopped (a format_error), well within -timeout=20.
  auto load = [&](auto& m) { frost::load_keras_weights(m, bytes, "fuzz.weights.h5", {.reader_seconds = 2}); };
  frost_fuzz::load_or_keep<frost_fuzz::mlp>(load);
  frost_fuzz::load_or_keep<frost_fuzz::cnn>(load);
  return 0;
}
