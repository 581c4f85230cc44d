#pragma once
/// \file
/// Keras 3 weight files: `save_keras_weights(model, path)` writes what Keras's
/// `model.save_weights("x.weights.h5")` writes, and `load_keras_weights(model, path)` reads it
/// (or the `model.weights.h5` member of a `.keras` archive). The layout is by object path, never
/// by layer name: for every layer in `model.layers` order, a group
/// `layers/<snake_case class>[_N]/vars` holding datasets `0`, `1`, ... in Keras's save order
/// (Dense and Conv2D: kernel, bias; BatchNormalization: gamma, beta, moving_mean,
/// moving_variance); a functional model's input layers are layers; layers without variables
/// have empty groups; `/vars` (the model's own variables) is empty. float64 (and float16)
/// datasets are converted as Keras casts them. Loading validates the whole file first and
/// writes the model only when all of it passed; saving replaces the file only once complete.
///
/// Needs the HDF5 C library (FROST_WITH_HDF5, Debian `libhdf5-dev`).

#include <frost/io/file.hpp>
#include <frost/io/hdf5.hpp>
#include <frost/io/hdf5_listing.hpp>
#include <frost/io/keras_archive.hpp>
#include <frost/io/staged_load.hpp>
#include <frost/io/tensor_table.hpp>
#include <frost/io/variables.hpp>

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace frost {
namespace detail {

inline bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

/// Checks a listing against the Keras layout the model expects and turns it into a table: the
/// datasets under `layers/*/vars`, plus every other object, which a strict load refuses.
template <class Model>
tensor_table keras_table(const hdf5_listing& listing, const std::string& path, const char* where) {
  tensor_table table(path);
  if (!listing.opened) throw_format(where, path, "file", "an HDF5 file HDF5 can open", "a damaged one");
  if (listing.legacy)
    throw_format(where, path, "layout", "Keras 3's .weights.h5 (groups layers/<class>/vars)",
                 "a legacy Keras 2 HDF5 file (root attribute layer_names): re-save it with Keras 3");
  std::unordered_set<std::string> wanted;
  for (std::size_t i = first_layer_node<Model>; i < Model::node_count; ++i) wanted.insert(keras_layer_path<Model>(i));
  for (const hdf5_entry& e : listing.entries) {
    const std::string at = "'" + e.path + "'";
    switch (e.what) {
      case hdf5_entry::kind::soft_link: throw_format(where, path, at, "a group or dataset stored in the file", "a soft link");
      case hdf5_entry::kind::external_link: throw_format(where, path, at, "a group or dataset stored in the file", "an external link");
      case hdf5_entry::kind::damaged: throw_format(where, path, at.size() == 2 ? "root group" : at, "a readable object", "a damaged one");
      default: break;
    }
    // Where the entry sits: top level, a layer, an object in a layer, a variable.
    std::vector<std::string_view> parts;
    for (std::size_t from = 0;;) {
      const std::size_t slash = e.path.find('/', from);
      parts.push_back(std::string_view(e.path).substr(from, slash - from));
      if (slash == std::string::npos) break;
      from = slash + 1;
    }
    const bool group = e.what == hdf5_entry::kind::group;
    if (parts.size() == 1) {
      if (parts[0] == "optimizer") continue;  // a compiled model's optimizer variables: not model weights
      if ((parts[0] == "layers" || parts[0] == "vars") && group) continue;
      if (parts[0] == "layers" || parts[0] == "vars") throw_format(where, path, at, "a group", "a dataset");
      table.add(tensor_record{e.path, dtype::f32, {}, {}});
    } else if (parts[0] == "vars") {
      table.add(tensor_record{e.path, dtype::f32, {}, {}});  // the model's own variables: it has none
    } else if (parts.size() == 2) {
      if (!wanted.count(e.path)) table.add(tensor_record{e.path, dtype::f32, {}, {}});
      else if (!group) throw_format(where, path, at, "a group (a layer)", "a dataset");
    } else if (!wanted.count("layers/" + std::string(parts[1]))) {
      continue;  // inside a layer reported above
    } else if (parts.size() == 3) {
      if (parts[2] != "vars") table.add(tensor_record{e.path, dtype::f32, {}, {}});
      else if (!group) throw_format(where, path, at, "a group (a layer's variables)", "a dataset");
    } else {
      if (e.what != hdf5_entry::kind::dataset) throw_format(where, path, at, "a dataset", "another kind of object");
      if (!e.type)
        throw_format(where, path, "tensor " + at + ": dtype", "float32 (or float64, float16, converted)",
                     "HDF5 class " + std::to_string(e.type_class) + " of " + std::to_string(e.type_size) + " bytes");
      tensor_record r{e.path, *e.type, e.shape, std::span<const std::byte>(e.bytes)};
      table.add(std::move(r));
    }
  }
  return table;
}

template <class Model>
std::vector<expected_tensor<typename Model::scalar_type>> keras_tensors(Model& model) {
  std::vector<expected_tensor<typename Model::scalar_type>> out;
  for (const model_variable& v : model_variables<Model>)
    out.push_back({keras_layer_path<Model>(v.node) + "/vars/" + std::to_string(v.index),
                   std::vector<std::size_t>(v.var.dims.begin(), v.var.dims.begin() + v.var.rank), variable_data(model, v),
                   v.var.size(), {}, {}, variable_name<Model>(v)});
  return out;
}

template <class Model>
void load_keras_listing(Model& model, const hdf5_listing& listing, const std::string& path, const char* where,
                        const load_options& options) {
  staged_load(keras_table<Model>(listing, path, where), keras_tensors(model), where, options);
}

// Loads the HDF5 file whose bytes are `bytes`, which `open` opens (in the reader process).
template <class Model, class Open>
void load_keras_from(Model& model, std::span<const std::byte> bytes, const std::string& name, Open open,
                     const load_options& options) {
  constexpr const char* where = "frost::load_keras_weights";
  static constexpr unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), signature, 8) != 0)
    throw_format(where, name, "file", "an HDF5 file (.weights.h5)", "other content");
  const double seconds = options.reader_seconds > 0 ? options.reader_seconds : 10.0 + static_cast<double>(bytes.size()) / 50e6;
  const hdf5_listing listing = list_hdf5(open, bytes.size(), name, where, seconds);
  load_keras_listing(model, listing, name, where, options);
}

}  // namespace detail

/// Loads `model`'s weights from a Keras 3 `.weights.h5` file, or from the `model.weights.h5`
/// member of a `.keras` archive (by the `.keras` extension). All or nothing: on any error the
/// model is unchanged. Layers are matched by Keras's object path (`layers/dense_1`), so a file
/// saved by Keras for the same architecture loads whatever its layers were named. Throws
/// `io_error` (cannot read) or `format_error` (naming the file, the group or dataset, what was
/// expected and what came: missing groups, wrong shapes or dtypes, links, extra layers).
/// ```cpp
/// frost::load_keras_weights(model, "model.weights.h5");
/// ```
template <class Model>
void load_keras_weights(Model& model, const std::string& path, const load_options& options = {}) {
  static_assert(!std::is_const_v<Model>, "frost::load_keras_weights: loading writes the model's weights: pass a non-const model");
  constexpr const char* where = "frost::load_keras_weights";
  model.ensure_weights(where);
  const mapped_file file(path, where);
  if (detail::ends_with(path, ".keras")) {
    const auto member = zip_member(file.bytes(), "model.weights.h5", path, where);
    load_keras_weights(model, member, path + ":model.weights.h5", options);
    return;
  }
  // The reader opens the file by its path (HDF5 reads what it needs, no copy of the image).
  if constexpr (!std::is_const_v<Model>)
    detail::load_keras_from(model, file.bytes(), path, [&] { return hdf5::open_read(path); }, options);
}

/// The same from the bytes of a `.weights.h5` file in memory (`name` stands for the file in errors).
template <class Model>
void load_keras_weights(Model& model, std::span<const std::byte> bytes, const std::string& name,
                        const load_options& options = {}) {
  static_assert(!std::is_const_v<Model>, "frost::load_keras_weights: loading writes the model's weights: pass a non-const model");
  model.ensure_weights("frost::load_keras_weights");
  if constexpr (!std::is_const_v<Model>)
    detail::load_keras_from(model, bytes, name, [&] { return hdf5::open_image(bytes); }, options);
}

/// Saves `model`'s weights in Keras 3's `.weights.h5` layout (what `model.save_weights` writes
/// and `model.load_weights` reads): datasets in the model's dtype, a scalar string attribute
/// `name` on each `vars` group (the layer's name, as Keras 3.6 and later write it). Replaces
/// `path` only once the new file is complete and on disk. Throws `io_error`.
/// ```cpp
/// frost::save_keras_weights(model, "model.weights.h5");
/// ```
template <class Model>
void save_keras_weights(const Model& model, const std::string& path) {
  constexpr const char* where = "frost::save_keras_weights";
  using T = typename Model::scalar_type;
  model.ensure_weights(where);
  std::vector<std::byte> image;
  {
    // Built in memory (HDF5's core driver), then written like every other save.
    hdf5::quiet q;
    hdf5::handle f = hdf5::create_image();
    auto fail = [&](const std::string& what) { detail::throw_io(where, path, "HDF5 cannot write " + what); };
    if (!f) fail("a file image");
    hdf5::handle layers = hdf5::create_group(f.get(), "layers");
    if (!layers) fail("group 'layers'");
    std::size_t next = 0;
    constexpr auto& vars = model_variables<Model>;
    for (std::size_t i = detail::first_layer_node<Model>; i < Model::node_count; ++i) {
      const std::string lpath = keras_layer_path<Model>(i);
      hdf5::handle lg = hdf5::create_group(f.get(), lpath);
      hdf5::handle vg = lg ? hdf5::create_group(lg.get(), "vars") : hdf5::handle{};
      if (!vg || !hdf5::write_string_attribute(vg.get(), "name", Model::names[i].str())) fail("group '" + lpath + "/vars'");
      for (; next < vars.size() && vars[next].node == i; ++next) {
        const model_variable& v = vars[next];
        const std::vector<std::size_t> shape(v.var.dims.begin(), v.var.dims.begin() + v.var.rank);
        if (!hdf5::write_dataset<T>(vg.get(), std::to_string(v.index), shape, variable_data(model, v)))
          fail("dataset '" + lpath + "/vars/" + std::to_string(v.index) + "'");
      }
    }
    hdf5::handle own = hdf5::create_group(f.get(), "vars");
    const bool functional = Model::template node_of_layer<0> == 0;
    if (!own || !hdf5::write_string_attribute(own.get(), "name", functional ? "functional" : "sequential"))
      fail("group 'vars'");
    own.reset(), layers.reset();
    if (!hdf5::image_of(f.get(), image)) fail("the file image");
  }
  atomic_file out(path, where);
  out.write(image);
  out.commit();
}

}  // namespace frost
