#pragma once
/// \file
/// `.keras` archives: a zip of `metadata.json`, `config.json` and `model.weights.h5`, members
/// stored uncompressed (as Keras writes them). `zip_member` finds a stored member's bytes from
/// the zip's central directory, with every offset and size checked against the file; it reads
/// nothing compressed and no ZIP64 archive (a clear `format_error` says so).

#include <frost/io/file.hpp>
#include <frost/io/tensor_table.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace frost {

/// The bytes of member `name` of the zip archive `zip` (a view into it). Throws `format_error`
/// naming `path` when the archive is malformed, the member is missing or is compressed.
inline std::span<const std::byte> zip_member(std::span<const std::byte> zip, std::string_view name,
                                             const std::string& path, const char* where) {
  using detail::load_little;
  using detail::throw_format;
  const std::size_t n = zip.size();
  auto u16 = [&](std::size_t at) { return static_cast<std::size_t>(load_little<std::uint16_t>(zip.data() + at)); };
  auto u32 = [&](std::size_t at) { return static_cast<std::size_t>(load_little<std::uint32_t>(zip.data() + at)); };
  // The end-of-central-directory record: 22 bytes plus a comment of at most 65535, at the end.
  if (n < 22) throw_format(where, path, "archive", "a zip file (.keras)", std::to_string(n) + " bytes");
  std::size_t eocd = n;
  for (std::size_t at = n - 22 + 1; at-- > 0 && n - at <= 22 + 65535;) {
    if (u32(at) == 0x06054b50u) {
      eocd = at;
      break;
    }
  }
  if (eocd == n) throw_format(where, path, "archive", "a zip file (.keras)", "no zip end-of-directory record");
  const std::size_t entries = u16(eocd + 10), dir_size = u32(eocd + 12), dir_at = u32(eocd + 16);
  if (entries == 0xffff || dir_size == 0xffffffffu || dir_at == 0xffffffffu)
    throw_format(where, path, "archive", "a zip file without ZIP64 extensions", "a ZIP64 archive");
  if (dir_at > eocd || dir_size > eocd - dir_at)
    throw_format(where, path, "zip central directory", "inside the file", "offset " + std::to_string(dir_at));
  std::size_t at = dir_at;
  for (std::size_t k = 0; k < entries; ++k) {
    if (at + 46 > dir_at + dir_size || u32(at) != 0x02014b50u)
      throw_format(where, path, "zip central directory", std::to_string(entries) + " entries",
                   "a malformed entry " + std::to_string(k));
    const std::size_t method = u16(at + 10), packed = u32(at + 20), size = u32(at + 24), name_len = u16(at + 28),
                      extra_len = u16(at + 30), comment_len = u16(at + 32), local = u32(at + 42);
    if (at + 46 + name_len > dir_at + dir_size)
      throw_format(where, path, "zip central directory", "names inside it", "a name past its end");
    const std::string_view member(reinterpret_cast<const char*>(zip.data() + at + 46), name_len);
    if (member == name) {
      if (method != 0)
        throw_format(where, path, "member '" + std::string(name) + "'", "stored uncompressed (method 0), as Keras writes it",
                     "compression method " + std::to_string(method));
      if (packed != size)
        throw_format(where, path, "member '" + std::string(name) + "'", "equal stored and original sizes",
                     std::to_string(packed) + " and " + std::to_string(size));
      if (local > n || n - local < 30 || u32(local) != 0x04034b50u)
        throw_format(where, path, "member '" + std::string(name) + "'", "a local header inside the file",
                     "offset " + std::to_string(local));
      const std::size_t data = local + 30 + u16(local + 26) + u16(local + 28);
      if (data > n || n - data < size)
        throw_format(where, path, "member '" + std::string(name) + "'", std::to_string(size) + " bytes inside the file",
                     "a member past the end (truncated?)");
      return zip.subspan(data, size);
    }
    at += 46 + name_len + extra_len + comment_len;
  }
  throw_format(where, path, "archive", "a member '" + std::string(name) + "'", "none");
}

}  // namespace frost
