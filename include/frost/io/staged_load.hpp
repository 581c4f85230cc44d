#pragma once
/// \file
/// The one way weights enter a model: `staged_load` checks every expected tensor of a
/// `tensor_table` — names, count, dtypes, shapes and sizes, all from the file's metadata — and
/// writes the model only when all of it passed, converting straight from the file's bytes (the
/// mapped file, or the HDF5 reader's listing, is the staging area: no other copy of the weights
/// is made). A failed load throws `format_error` and leaves the model bit-identical.

#include <frost/io/file.hpp>
#include <frost/io/tensor_table.hpp>
#include <frost/io/variables.hpp>

#include <cstddef>
#include <functional>
#include <iostream>
#include <string>
#include <unordered_set>
#include <vector>

namespace frost {

/// Options of every loader. `strict` (default): a tensor the model does not ask for is an error,
/// as a file for another model usually is. `strict = false`: such tensors are ignored, and each
/// is reported through `warn` (default: a line on std::cerr). `reader_seconds`: the time limit
/// of the process that reads a Keras file with HDF5 (io/hdf5_listing.hpp).
struct load_options {
  bool strict = true;
  void (*warn)(const std::string& message) = nullptr;
  /// Keras files: how long the HDF5 reader may take, in seconds (0: 10 s plus 1 s per 50 MB).
  double reader_seconds = 0;
};

/// What a loader expects of one tensor: its name and shape in the file, and where its scalars
/// go (`count` of them, after `rearrange` when the file's layout is not the model's).
template <class T>
struct expected_tensor {
  std::string name;
  std::vector<std::size_t> shape;
  T* dest = nullptr;
  std::size_t count = 0;
  /// From the file's element order to the model's (null: the same order).
  std::function<void(const T* file_order, T* model_order)> rearrange{};
  /// Added to a shape error's message (e.g. how to load a PyTorch layout).
  std::string hint{};
  /// What the tensor is to the model, when the file names it otherwise (`dense/kernel`).
  std::string label{};
};

namespace detail {

inline std::string shape_text(const std::vector<std::size_t>& s) { return shape_string(s.data(), s.size()); }

inline std::string list_names(const std::vector<std::string>& names, std::size_t most = 6) {
  std::string out;
  for (std::size_t k = 0; k < names.size() && k < most; ++k) out += (k ? ", " : "") + names[k];
  if (names.size() > most) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

// A hint for a shape that is another layout of the expected one.
inline std::string layout_hint(const std::vector<std::size_t>& want, const std::vector<std::size_t>& got) {
  if (want.size() == 2 && got.size() == 2 && want[0] == got[1] && want[1] == got[0] && want[0] != want[1])
    return " (a transposed kernel? frost and Keras store a Dense kernel as (in, units); a PyTorch Linear weight "
           "is (out, in): load PyTorch files with load_pytorch_safetensors)";
  if (want.size() == 4 && got.size() == 4 && got[0] == want[3] && got[1] == want[2] && got[2] == want[0] &&
      got[3] == want[1])
    return " (a PyTorch OIHW convolution kernel? frost and Keras store (kh, kw, in, filters): load PyTorch files "
           "with load_pytorch_safetensors)";
  return {};
}

}  // namespace detail

/// Loads `expected` from `table` all or nothing. `known` names tensors the caller reads itself
/// (not unexpected). Throws `format_error` naming the file, the tensor, what was expected and
/// what came; nothing is written before everything has been checked.
template <class T>
void staged_load(const tensor_table& table, const std::vector<expected_tensor<T>>& expected, const char* where,
                 const load_options& options = {}, const std::vector<std::string>& known = {}) {
  const std::string& path = table.path();
  // Names first: which expected tensors are missing, which tensors nobody asked for.
  std::vector<std::string> missing, unexpected;
  std::unordered_set<std::string> wanted(known.begin(), known.end());
  for (const auto& e : expected) {
    wanted.insert(e.name);
    if (table.find(e.name) == nullptr) missing.push_back(e.name);
  }
  for (const auto& r : table.records())
    if (!wanted.count(r.name)) unexpected.push_back(r.name);
  if (!missing.empty()) {
    std::vector<std::string> held;
    for (const auto& r : table.records()) held.push_back(r.name);
    if (missing.size() == expected.size() && !held.empty())
      detail::throw_format(where, path, "tensors", "the model's " + std::to_string(expected.size()) + " (" +
                                                       detail::list_names(missing) + ")",
                           "none of them: the file holds " + detail::list_names(held) + " (a file for another model?)");
    detail::throw_format(where, path, "tensors", "every variable of the model",
                         std::to_string(missing.size()) + " missing: " + detail::list_names(missing));
  }
  if (!unexpected.empty()) {
    if (options.strict)
      detail::throw_format(where, path, "tensors", "only the model's " + std::to_string(expected.size()),
                           std::to_string(unexpected.size()) + " more: " + detail::list_names(unexpected) +
                               " (a file for another model? load_options{.strict = false} ignores extra tensors with a "
                               "warning)");
    for (const auto& n : unexpected) {
      const std::string message = std::string(where) + ": " + path + ": ignoring tensor '" + n + "' (not in the model)";
      if (options.warn != nullptr) options.warn(message);
      else std::cerr << "warning: " << message << '\n';
    }
  }
  // Then each tensor: dtype, shape, size. Every check reads the file's metadata only; the values
  // are converted after all of them passed, and converting cannot fail.
  std::vector<const tensor_record*> found;
  for (const auto& e : expected) {
    const tensor_record& r = *table.find(e.name);
    const std::string subject = "tensor '" + e.name + "'" + (e.label.empty() ? "" : " (" + e.label + ")");
    if (!is_weight_dtype(r.type))
      detail::throw_format(where, path, subject + ": dtype", "F32 (or F64, F16, BF16, converted)",
                           std::string(dtype_name(r.type)));
    if (r.shape != e.shape)
      detail::throw_format(where, path, subject + ": shape", detail::shape_text(e.shape),
                           detail::shape_text(r.shape) + (e.hint.empty() ? detail::layout_hint(e.shape, r.shape) : e.hint));
    if (r.elements() != e.count || r.bytes.size() != e.count * dtype_size(r.type))
      detail::throw_format(where, path, subject + ": size", std::to_string(e.count * dtype_size(r.type)) + " bytes",
                           std::to_string(r.bytes.size()));
    found.push_back(&r);
  }
  // Everything passed: write the model, straight from the file's bytes (a layout change goes
  // through one tensor's worth of scratch).
  std::vector<T> file_order;
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const auto& e = expected[k];
    if (e.rearrange) {
      file_order.resize(e.count);
      to_scalars(*found[k], file_order.data());
      e.rearrange(file_order.data(), e.dest);
    } else {
      to_scalars(*found[k], e.dest);
    }
  }
}

/// The tensors a model's own weight files hold: every variable as `<layer name>/<variable>` in
/// Keras's shape, bound to the model's arenas.
template <class Model>
std::vector<expected_tensor<typename Model::scalar_type>> model_tensors(Model& model) {
  std::vector<expected_tensor<typename Model::scalar_type>> out;
  for (const model_variable& v : model_variables<Model>)
    out.push_back({variable_name<Model>(v), std::vector<std::size_t>(v.var.dims.begin(), v.var.dims.begin() + v.var.rank),
                   variable_data(model, v), v.var.size(), {}, {}, {}});
  return out;
}

}  // namespace frost
