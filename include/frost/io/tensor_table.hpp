#pragma once
/// \file
/// `tensor_table`: the tensors a weight file holds, by name, as the loaders see them before
/// anything reaches a model — a dtype, a shape and the raw little-endian bytes (pointing into a
/// mapped file or into the HDF5 reader's listing). The dtypes are safetensors's; `to_scalars`
/// converts the floating ones (F64, F32, F16, BF16) to a model's scalar type.

#include <frost/io/file.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace frost {

/// Element types of tensors in weight files (safetensors's names).
enum class dtype { f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean, f8_e5m2, f8_e4m3 };

/// The safetensors name of `d`: `"F32"`.
constexpr std::string_view dtype_name(dtype d) noexcept {
  constexpr std::string_view names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8",
                                        "U64", "U32", "U16", "U8",  "BOOL", "F8_E5M2", "F8_E4M3"};
  return names[static_cast<std::size_t>(d)];
}
/// Bytes per element.
constexpr std::size_t dtype_size(dtype d) noexcept {
  constexpr std::size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1, 1, 1};
  return sizes[static_cast<std::size_t>(d)];
}
/// The dtype named `name` (safetensors's spelling), if any.
inline std::optional<dtype> dtype_from_name(std::string_view name) noexcept {
  for (int k = 0; k <= static_cast<int>(dtype::f8_e4m3); ++k)
    if (dtype_name(static_cast<dtype>(k)) == name) return static_cast<dtype>(k);
  return std::nullopt;
}
/// Floating dtypes a loader converts to a model's scalars.
constexpr bool is_weight_dtype(dtype d) noexcept {
  return d == dtype::f64 || d == dtype::f32 || d == dtype::f16 || d == dtype::bf16;
}

/// One tensor of a file.
struct tensor_record {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;
  std::span<const std::byte> bytes;
  std::size_t elements() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

/// The tensors of one file, in the file's order, with lookup by name.
class tensor_table {
 public:
  explicit tensor_table(std::string path = {}) : path_(std::move(path)) {}

  /// Adds a record; its bytes live elsewhere (a mapped file, a listing) that outlives the table.
  void add(tensor_record r) {
    index_.emplace(r.name, records_.size());
    records_.push_back(std::move(r));
  }
  const tensor_record* find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &records_[it->second];
  }
  const std::vector<tensor_record>& records() const noexcept { return records_; }
  const std::string& path() const noexcept { return path_; }
  /// `__metadata__` of a safetensors file (empty for other formats).
  std::unordered_map<std::string, std::string> metadata;

 private:
  std::string path_;
  std::vector<tensor_record> records_;
  std::unordered_map<std::string, std::size_t> index_;
};

namespace detail {

/// The dtype of a model's scalars.
template <class T>
constexpr dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? dtype::f32 : dtype::f64;
}

template <class U>
U load_little(const std::byte* p) noexcept {
  U v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof(U));
  } else {
    unsigned char b[sizeof(U)];
    for (std::size_t k = 0; k < sizeof(U); ++k) b[k] = static_cast<unsigned char>(p[sizeof(U) - 1 - k]);
    std::memcpy(&v, b, sizeof(U));
  }
  return v;
}

/// IEEE half to float, exactly (every half is a float).
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalize
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline float bfloat16_to_float(std::uint16_t b) noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

}  // namespace detail

/// Converts `r`'s elements (a floating dtype) to `T`, in the file's order, into `out`
/// (`r.elements()` scalars). F64 values are rounded as a cast does (what Keras does on load).
template <class T>
void to_scalars(const tensor_record& r, T* out) noexcept {
  const std::byte* p = r.bytes.data();
  const std::size_t n = r.elements();
  switch (r.type) {
    case dtype::f32:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(detail::load_little<float>(p + 4 * i));
      break;
    case dtype::f64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(detail::load_little<double>(p + 8 * i));
      break;
    case dtype::f16:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(detail::half_to_float(detail::load_little<std::uint16_t>(p + 2 * i)));
      break;
    case dtype::bf16:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<T>(detail::bfloat16_to_float(detail::load_little<std::uint16_t>(p + 2 * i)));
      break;
    default:
      break;
  }
}

}  // namespace frost
