#pragma once
/// \file
/// safetensors weight files: `save_safetensors(model, path)` and `load_safetensors(model, path)`.
/// Tensors are named `<layer name>/<variable>` (`dense/kernel`, `dense_1/bias`,
/// `batch_normalization/moving_mean`) in Keras's layouts (Dense kernel (in, units), Conv2D
/// kernel (kh, kw, in, filters)); a float model saves F32 (a double model F64), and F64, F16 and
/// BF16 tensors are converted on load. The header is checked against the format's rules before
/// any tensor is read (length ≤ 100,000,000 bytes, JSON object, no duplicate names, each
/// tensor's bytes = its shape × its dtype's size, offsets in bounds, contiguous, without
/// overlap, covering the byte buffer exactly), parsed with nlohmann::json; the file is mapped,
/// not copied. Loading is all or nothing (io/staged_load.hpp); saving replaces the file only
/// once the new one is complete (io/file.hpp).
///
/// Needs nlohmann::json (Debian `nlohmann-json3-dev`, header-only); no other frost header does.

#include <frost/io/file.hpp>
#include <frost/io/staged_load.hpp>
#include <frost/io/tensor_table.hpp>
#include <frost/io/variables.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace frost {

/// The format's limit on the JSON header.
inline constexpr std::size_t safetensors_max_header = 100'000'000;

/// Reads the header of a safetensors file held in `file` (all of it) and checks it against the
/// format's rules; the records point into `file`. `path` names the file in errors. Throws
/// `format_error`.
inline tensor_table parse_safetensors(std::span<const std::byte> file, const std::string& path,
                                      const char* where = "frost::load_safetensors") {
  using detail::throw_format;
  tensor_table table(path);
  if (file.size() < 8)
    throw_format(where, path, "file size", "at least 8 bytes (the header length)", std::to_string(file.size()) + " (truncated)");
  const std::uint64_t n = detail::load_little<std::uint64_t>(file.data());
  if (n > safetensors_max_header)
    throw_format(where, path, "header length", "at most " + std::to_string(safetensors_max_header) + " bytes",
                 std::to_string(n));
  if (n > file.size() - 8)
    throw_format(where, path, "header length", "at most the " + std::to_string(file.size() - 8) + " bytes after it",
                 std::to_string(n) + " (truncated file?)");
  const char* header = reinterpret_cast<const char*>(file.data() + 8);
  if (n < 2 || header[0] != '{')
    throw_format(where, path, "header", "a JSON object starting with '{'",
                 n == 0 ? std::string("an empty header") : "a header starting with byte " + std::to_string(int(header[0])));
  // Duplicate names are checked as the parser meets them (a JSON object keeps only one).
  std::unordered_set<std::string> seen;
  std::string duplicate;
  nlohmann::json json;
  const auto parse = [&](bool allow_exceptions) {
    return nlohmann::json::parse(
        header, header + n,
        [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          if (depth == 1 && event == nlohmann::json::parse_event_t::key && duplicate.empty()) {
            std::string key = parsed.get<std::string>();
            if (!seen.insert(key).second) duplicate = std::move(key);
          }
          return true;
        },
        allow_exceptions);
  };
#ifndef FROST_NO_EXCEPTIONS
  try {
    json = parse(true);
  } catch (const nlohmann::json::exception& e) {
    throw_format(where, path, "header", "valid UTF-8 JSON", std::string("an error: ") + e.what());
  }
#else
  json = parse(false);  // without exceptions the parser reports an error as a discarded value
  if (json.is_discarded()) throw_format(where, path, "header", "valid UTF-8 JSON", "invalid JSON");
#endif
  if (!duplicate.empty()) throw_format(where, path, "tensor '" + duplicate + "'", "one entry", "a duplicate name");
  if (!json.is_object()) throw_format(where, path, "header", "a JSON object", json.type_name());

  const std::size_t buffer = file.size() - 8 - n;
  const std::byte* base = file.data() + 8 + n;
  struct span_of {
    std::size_t begin, end;
    std::string name;
  };
  std::vector<span_of> spans;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw_format(where, path, "__metadata__", "an object of strings", v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw_format(where, path, "__metadata__ '" + m.key() + "'", "a string", m.value().type_name());
        table.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string subject = "tensor '" + name + "'";
    if (!v.is_object()) throw_format(where, path, subject, "an object {dtype, shape, data_offsets}", v.type_name());
    const auto d = v.find("dtype"), s = v.find("shape"), o = v.find("data_offsets");
    if (d == v.end() || !d->is_string())
      throw_format(where, path, subject + ": dtype", "a string such as \"F32\"", d == v.end() ? "none" : d->type_name());
    const auto type = dtype_from_name(d->get<std::string>());
    if (!type) throw_format(where, path, subject + ": dtype", "a safetensors dtype (F32, F16, BF16, F64, I64, ...)", '"' + d->get<std::string>() + '"');
    if (s == v.end() || !s->is_array())
      throw_format(where, path, subject + ": shape", "an array of sizes", s == v.end() ? "none" : s->type_name());
    tensor_record r;
    r.name = name;
    r.type = *type;
    std::size_t bytes = dtype_size(*type);
    bool overflow = false;
    for (const auto& dim : *s) {
      if (!dim.is_number_unsigned())
        throw_format(where, path, subject + ": shape", "non-negative integers", dim.dump());
      const std::uint64_t k = dim.get<std::uint64_t>();
      if (k != 0 && bytes > std::numeric_limits<std::size_t>::max() / k) overflow = true;
      else bytes *= static_cast<std::size_t>(k);
      r.shape.push_back(static_cast<std::size_t>(k));
    }
    if (overflow) throw_format(where, path, subject + ": shape", "a size that fits in memory", detail::shape_text(r.shape));
    if (o == v.end() || !o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
        !(*o)[1].is_number_unsigned())
      throw_format(where, path, subject + ": data_offsets", "[begin, end], two non-negative integers",
                   o == v.end() ? "none" : o->dump());
    const std::uint64_t begin = (*o)[0].get<std::uint64_t>(), end = (*o)[1].get<std::uint64_t>();
    if (begin > end || end > buffer)
      throw_format(where, path, subject + ": data_offsets",
                   "0 <= begin <= end <= " + std::to_string(buffer) + " (the byte buffer)", o->dump());
    if (end - begin != bytes)
      throw_format(where, path, subject + ": bytes", std::to_string(bytes) + " (shape " + detail::shape_text(r.shape) +
                                                          " of " + std::string(dtype_name(*type)) + ")",
                   std::to_string(end - begin));
    r.bytes = std::span<const std::byte>(base + begin, end - begin);
    spans.push_back({begin, end, name});
    table.add(std::move(r));
  }
  // The tensors tile the byte buffer: no hole, no overlap, nothing after the last.
  std::sort(spans.begin(), spans.end(), [](const span_of& a, const span_of& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::size_t next = 0;
  for (const auto& sp : spans) {
    if (sp.begin != next)
      throw_format(where, path, "tensor '" + sp.name + "': data_offsets",
                   "to start at byte " + std::to_string(next) + " (tensors tile the buffer)",
                   std::to_string(sp.begin) + (sp.begin < next ? " (overlapping the tensor before)" : " (a hole before it)"));
    next = sp.end;
  }
  if (next != buffer)
    throw_format(where, path, "byte buffer", std::to_string(next) + " bytes (the tensors' end)",
                 std::to_string(buffer) + (buffer > next ? " (trailing bytes)" : ""));
  return table;
}

/// One tensor to write: name, dtype, shape, bytes (little-endian, row-major).
struct tensor_to_write {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;
  std::span<const std::byte> bytes;
};

/// Writes `tensors` (in this order in the byte buffer) and `metadata` as a safetensors file at
/// `path`, atomically. Throws `io_error`.
inline void write_safetensors(const std::string& path, const std::vector<tensor_to_write>& tensors,
                              const std::vector<std::pair<std::string, std::string>>& metadata,
                              const char* where = "frost::save_safetensors") {
  static_assert(std::endian::native == std::endian::little,
                "frost: writing safetensors on a big-endian machine needs byte swapping, not written yet");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::size_t at = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", std::string(dtype_name(t.type))}, {"shape", t.shape}, {"data_offsets", {at, at + t.bytes.size()}}};
    at += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::byte length[8];
  const std::uint64_t n = text.size();
  std::memcpy(length, &n, 8);
  atomic_file out(path, where);
  out.write(length);
  out.write(std::as_bytes(std::span<const char>(text.data(), text.size())));
  for (const auto& t : tensors) out.write(t.bytes);
  out.commit();
}

namespace detail {

template <class Model>
std::vector<tensor_to_write> model_tensors_to_write(const Model& model) {
  using T = typename Model::scalar_type;
  std::vector<tensor_to_write> out;
  for (const model_variable& v : model_variables<Model>) {
    const T* p = variable_data(model, v);
    out.push_back({variable_name<Model>(v), dtype_of<T>(),
                   std::vector<std::size_t>(v.var.dims.begin(), v.var.dims.begin() + v.var.rank),
                   std::as_bytes(std::span<const T>(p, v.var.size()))});
  }
  return out;
}

}  // namespace detail

/// Saves every variable of `model` (trainable, frozen and state) to `path` as safetensors, names
/// `<layer name>/<variable>`, Keras layouts. Replaces `path` only once the new file is complete
/// and on disk. Throws `io_error` (and `state_error` on a moved-from model).
/// ```cpp
/// frost::save_safetensors(model, "model.safetensors");
/// ```
template <class Model>
void save_safetensors(const Model& model, const std::string& path) {
  model.ensure_weights("frost::save_safetensors");
  write_safetensors(path, detail::model_tensors_to_write(model), {{"format", "frost"}, {"layout", "keras"}});
}

/// Loads every variable of `model` from the safetensors file `path` (as `save_safetensors`
/// writes it; F64, F16 and BF16 tensors are converted). All or nothing: on any error the model
/// is unchanged. Throws `io_error` (cannot read) or `format_error` (naming the file, the tensor,
/// what was expected and what came).
/// ```cpp
/// frost::load_safetensors(model, "model.safetensors");
/// ```
template <class Model>
void load_safetensors(Model& model, const std::string& path, const load_options& options = {}) {
  static_assert(!std::is_const_v<Model>, "frost::load_safetensors: loading writes the model's weights: pass a non-const model");
  if constexpr (!std::is_const_v<Model>) {
    constexpr const char* where = "frost::load_safetensors";
    model.ensure_weights(where);
    const mapped_file file(path, where);
    const tensor_table table = parse_safetensors(file.bytes(), path, where);
    staged_load(table, model_tensors(model), where, options);
  }
}

/// The same from bytes in memory (`name` stands for the file in errors).
template <class Model>
void load_safetensors(Model& model, std::span<const std::byte> bytes, const std::string& name,
                      const load_options& options = {}) {
  static_assert(!std::is_const_v<Model>, "frost::load_safetensors: loading writes the model's weights: pass a non-const model");
  if constexpr (!std::is_const_v<Model>) {
    constexpr const char* where = "frost::load_safetensors";
    model.ensure_weights(where);
    staged_load(parse_safetensors(bytes, name, where), model_tensors(model), where, options);
  }
}

}  // namespace frost
