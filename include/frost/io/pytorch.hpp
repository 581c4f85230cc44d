#pragma once
/// \file
/// Weights trained in PyTorch: `load_pytorch_safetensors(model, path)` reads a safetensors file
/// saved from a `state_dict` (`safetensors.torch.save_file(model.state_dict(), path)`) into a
/// frost model of the same architecture, converting PyTorch's layouts to Keras's:
///  - `Linear.weight` (out, in) → Dense kernel (in, units), transposed; when the Dense layer
///    reads a `flatten` of an image, its input features are also reordered from PyTorch's
///    channel-first flatten (c, h, w) to frost's channel-last one (h, w, c);
///  - `Conv2d.weight` (out, in, kh, kw) (OIHW) → Conv2D kernel (kh, kw, in, filters) (HWIO);
///  - `BatchNorm*.weight`, `.bias`, `.running_mean`, `.running_var` → gamma, beta, moving_mean,
///    moving_variance (`num_batches_tracked` is ignored). PyTorch's default epsilon is 1e-5,
///    Keras's 1e-3: declare `batch_normalization<0.9f, 1e-5f>` for a PyTorch network (its
///    momentum 0.1 is Keras's 0.9).
/// Modules map to the model's layers with variables in order: by default the file's module
/// prefixes (`0`, `2`, `features.0`, `fc1`, ...) sorted as PyTorch numbers them (numeric parts
/// as numbers), or as listed in `pytorch_options::modules`. All or nothing, as every loader.

#include <frost/io/file.hpp>
#include <frost/io/safetensors.hpp>
#include <frost/io/staged_load.hpp>
#include <frost/io/variables.hpp>
#include <frost/layers/flatten.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace frost {

/// Options of `load_pytorch_safetensors`. `modules`: the state_dict prefix of each layer with
/// variables, in `model.layers` order (`{"features.0", "features.1", "classifier"}`); empty: the
/// file's prefixes in PyTorch's numbering order. `strict` and `warn` as in `load_options`.
struct pytorch_options {
  std::vector<std::string> modules{};
  bool strict = true;
  void (*warn)(const std::string& message) = nullptr;
};

namespace detail {

// Module paths compare as PyTorch numbers them: dot-separated parts, numeric parts as numbers.
inline bool module_less(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    const std::size_t ea = std::min(a.find('.'), a.size()), eb = std::min(b.find('.'), b.size());
    const std::string_view pa = a.substr(0, ea), pb = b.substr(0, eb);
    const bool na = !pa.empty() && std::all_of(pa.begin(), pa.end(), [](char c) { return c >= '0' && c <= '9'; });
    const bool nb = !pb.empty() && std::all_of(pb.begin(), pb.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (na && nb && pa.size() != pb.size()) return pa.size() < pb.size();  // no leading zeros in module indices
    if (pa != pb) return pa < pb;
    a.remove_prefix(std::min(ea + 1, a.size()));
    b.remove_prefix(std::min(eb + 1, b.size()));
  }
  return a.size() < b.size();
}

// For node I: the (h, w, c) image a `flatten` right before it flattened, or zeros.
template <class Model, std::size_t I>
constexpr std::array<std::size_t, 3> flattened_image() {
  if constexpr (I == 0 || Model::template node_type<I>::arity != 1) {
    return {};
  } else {
    constexpr std::size_t from = I - Model::template node_type<I>::back[0];
    if constexpr (std::is_same_v<typename Model::template node_spec<from>, flatten>) {
      using S = typename Model::template node_input_shapes<from>;
      return []<class In>(shape_list<In>*) -> std::array<std::size_t, 3> {
        if constexpr (In::rank == 3) return {In::dims[0], In::dims[1], In::dims[2]};
        else return {};
      }(static_cast<S*>(nullptr));
    } else {
      return {};
    }
  }
}
template <class Model>
constexpr auto flattened_images() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::array<std::size_t, 3>, Model::node_count>{flattened_image<Model, I>()...};
  }(std::make_index_sequence<Model::node_count>{});
}

inline std::string pytorch_role(std::string_view var) {
  if (var == "kernel" || var == "gamma") return "weight";
  if (var == "beta") return "bias";
  if (var == "moving_mean") return "running_mean";
  if (var == "moving_variance") return "running_var";
  return std::string(var);
}

}  // namespace detail

namespace detail {
template <class Model>
void load_pytorch_(Model& model, const std::string& path, const pytorch_options& options) {
  constexpr const char* where = "frost::load_pytorch_safetensors";
  using T = typename Model::scalar_type;
  model.ensure_weights(where);
  const mapped_file file(path, where);
  const tensor_table table = parse_safetensors(file.bytes(), path, where);
  constexpr auto& vars = model_variables<Model>;
  // The model's layers with variables, in order.
  std::vector<std::size_t> nodes;
  for (const model_variable& v : vars)
    if (nodes.empty() || nodes.back() != v.node) nodes.push_back(v.node);
  // The file's modules: prefixes before the last '.', in PyTorch's order.
  std::vector<std::string> modules = options.modules, known;
  if (modules.empty()) {
    for (const auto& r : table.records()) {
      const std::size_t dot = r.name.rfind('.');
      // A name without a dot is no state_dict name: it stands for itself (and the count says so).
      const std::string prefix = dot == std::string::npos ? r.name : r.name.substr(0, dot);
      if (r.name.size() >= 20 && r.name.substr(r.name.size() - 20) == ".num_batches_tracked") continue;
      if (std::find(modules.begin(), modules.end(), prefix) == modules.end()) modules.push_back(prefix);
    }
    std::sort(modules.begin(), modules.end(), [](const std::string& a, const std::string& b) { return detail::module_less(a, b); });
  }
  if (modules.size() != nodes.size()) {
    std::string layers;
    for (std::size_t n : nodes) layers += (layers.empty() ? "" : ", ") + Model::names[n].str();
    detail::throw_format(where, path, "modules", std::to_string(nodes.size()) + " with parameters (for " + layers + ")",
                         std::to_string(modules.size()) + ": " + detail::list_names(modules) +
                             (options.modules.empty() ? " (name them with pytorch_options::modules)" : ""));
  }
  for (const auto& r : table.records())
    if (r.name.size() >= 20 && r.name.substr(r.name.size() - 20) == ".num_batches_tracked") known.push_back(r.name);
  static constexpr auto images = detail::flattened_images<Model>();
  std::vector<expected_tensor<T>> expected;
  for (const model_variable& v : vars) {
    const std::size_t k = static_cast<std::size_t>(std::find(nodes.begin(), nodes.end(), v.node) - nodes.begin());
    const std::string& prefix = modules[k];
    expected_tensor<T> e;
    e.name = (prefix.empty() ? "" : prefix + ".") + detail::pytorch_role(v.var.name);
    e.label = variable_name<Model>(v);
    e.dest = variable_data(model, v);
    e.count = v.var.size();
    const auto& d = v.var.dims;
    if (v.var.name == "kernel" && v.var.rank == 2) {
      const std::size_t in = d[0], out = d[1];
      e.shape = {out, in};
      const auto img = images[v.node];
      e.rearrange = [in, out, img](const T* src, T* dst) {
        // src (out, in) with in in (c, h, w) order when a flatten of an image precedes.
        for (std::size_t i = 0; i < in; ++i) {
          std::size_t from = i;
          if (img[0] != 0) {  // frost's i = (h·W + w)·C + c  ←  PyTorch's (c·H + h)·W + w
            const std::size_t c = i % img[2], hw = i / img[2];
            from = c * img[0] * img[1] + hw;
          }
          for (std::size_t o = 0; o < out; ++o) dst[i * out + o] = src[o * in + from];
        }
      };
      e.hint = " (PyTorch's Linear weight is (out, in) = " + detail::shape_text(e.shape) + ")";
    } else if (v.var.name == "kernel" && v.var.rank == 4) {
      const std::size_t kh = d[0], kw = d[1], ci = d[2], co = d[3];
      e.shape = {co, ci, kh, kw};
      e.rearrange = [=](const T* src, T* dst) {
        for (std::size_t o = 0; o < co; ++o)
          for (std::size_t c = 0; c < ci; ++c)
            for (std::size_t y = 0; y < kh; ++y)
              for (std::size_t x = 0; x < kw; ++x) dst[((y * kw + x) * ci + c) * co + o] = src[((o * ci + c) * kh + y) * kw + x];
      };
      e.hint = " (PyTorch's Conv2d weight is (out, in, kh, kw) = " + detail::shape_text(e.shape) + ")";
    } else {
      e.shape.assign(d.begin(), d.begin() + v.var.rank);
    }
    expected.push_back(std::move(e));
  }
  staged_load(table, expected, where, load_options{options.strict, options.warn}, known);
}
}  // namespace detail

/// Loads a PyTorch `state_dict` saved as safetensors into `model` (see the file comment for the
/// conversions). Throws `io_error` or `format_error` (naming the file, the PyTorch tensor and
/// the frost variable it was to fill); on any error the model is unchanged.
/// ```cpp
/// frost::load_pytorch_safetensors(model, "torch_model.safetensors");
/// frost::load_pytorch_safetensors(model, "resnet_head.safetensors", {.modules = {"fc1", "fc2"}});
/// ```
template <class Model>
void load_pytorch_safetensors(Model& model, const std::string& path, const pytorch_options& options = {}) {
  static_assert(!std::is_const_v<Model>,
                "frost::load_pytorch_safetensors: loading writes the model's weights: pass a non-const model");
  if constexpr (!std::is_const_v<Model>) detail::load_pytorch_(model, path, options);
}

}  // namespace frost
