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
#include <frost/io/keras_archive.hpp>
#include <frost/io/staged_load.hpp>
#include <frost/io/tensor_table.hpp>
#include <frost/io/variables.hpp>

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace frost {
namespace detail {

inline bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

inline std::optional<dtype> h5_dtype(const hdf5::dataset_info& info) {
  if (info.type_class == H5T_FLOAT) {
    if (info.type_size == 4) return dtype::f32;
    if (info.type_size == 8) return dtype::f64;
    if (info.type_size == 2) return dtype::f16;
  } else if (info.type_class == H5T_INTEGER) {
    if (info.type_size == 8) return dtype::i64;
    if (info.type_size == 4) return dtype::i32;
    if (info.type_size == 2) return dtype::i16;
    if (info.type_size == 1) return dtype::i8;
  }
  return std::nullopt;
}

/// Reads the Keras layout of an open file into a table: every dataset under `layers/*/vars`
/// (read, converted to T, only where the model expects that shape) and every other object a
/// strict load must refuse.
template <class Model>
tensor_table read_keras_table(hid_t file, const std::string& path, const char* where,
                              const std::vector<expected_tensor<typename Model::scalar_type>>& expected) {
  using T = typename Model::scalar_type;
  tensor_table table(path);
  if (hdf5::has_attribute(file, "layer_names") || hdf5::has_attribute(file, "keras_version"))
    throw_format(where, path, "layout", "Keras 3's .weights.h5 (groups layers/<class>/vars)",
                 "a legacy Keras 2 HDF5 file (root attribute layer_names): re-save it with Keras 3");
  auto refuse_link = [&](hid_t loc, const std::string& name, const std::string& full) {
    const hdf5::link_kind k = hdf5::link_of(loc, name);
    if (k == hdf5::link_kind::soft || k == hdf5::link_kind::external || k == hdf5::link_kind::other)
      throw_format(where, path, "'" + full + "'", "a group or dataset stored in the file",
                   k == hdf5::link_kind::soft ? "a soft link" : k == hdf5::link_kind::external ? "an external link" : "a link of unknown kind");
    return k;
  };
  auto add_empty = [&](const std::string& name) { table.add(tensor_record{name, dtype::f32, {}, {}}); };
  std::unordered_set<std::string> wanted_paths;
  for (std::size_t i = first_layer_node<Model>; i < Model::node_count; ++i) wanted_paths.insert(keras_layer_path<Model>(i));

  const auto root_members = hdf5::member_names(file);
  if (!root_members) throw_format(where, path, "root group", "a readable group", "a damaged one");
  for (const std::string& m : *root_members) {
    refuse_link(file, m, m);
    if (m == "optimizer") continue;  // a compiled model's optimizer variables: not model weights
    if (m == "vars") {
      hdf5::handle g = hdf5::open_group(file, "vars");
      const auto inside = g ? hdf5::member_names(g.get()) : std::nullopt;
      if (!inside) throw_format(where, path, "'vars'", "a group (the model's own variables)", "something else");
      for (const std::string& v : *inside) add_empty("vars/" + v);
      continue;
    }
    if (m != "layers") add_empty(m);
  }
  if (hdf5::link_of(file, "layers") == hdf5::link_kind::none) return table;  // every expected tensor is missing
  hdf5::handle layers = hdf5::open_group(file, "layers");
  const auto layer_names = layers ? hdf5::member_names(layers.get()) : std::nullopt;
  if (!layer_names) throw_format(where, path, "'layers'", "a group", "something else");
  std::unordered_map<std::string, const expected_tensor<T>*> by_name;
  for (const auto& e : expected) by_name.emplace(e.name, &e);
  std::vector<T> values;
  for (const std::string& l : *layer_names) {
    const std::string lpath = "layers/" + l;
    refuse_link(layers.get(), l, lpath);
    if (!wanted_paths.count(lpath)) {
      add_empty(lpath);
      continue;
    }
    hdf5::handle lg = hdf5::open_group(layers.get(), l);
    if (!lg) throw_format(where, path, "'" + lpath + "'", "a group", "something else");
    const auto inside = hdf5::member_names(lg.get());
    if (!inside) throw_format(where, path, "'" + lpath + "'", "a readable group", "a damaged one");
    for (const std::string& v : *inside) {
      refuse_link(lg.get(), v, lpath + "/" + v);
      if (v != "vars") add_empty(lpath + "/" + v);
    }
    if (hdf5::link_of(lg.get(), "vars") == hdf5::link_kind::none) continue;  // an empty layer, groups dropped
    hdf5::handle vg = hdf5::open_group(lg.get(), "vars");
    const auto datasets = vg ? hdf5::member_names(vg.get()) : std::nullopt;
    if (!datasets) throw_format(where, path, "'" + lpath + "/vars'", "a group", "something else");
    for (const std::string& d : *datasets) {
      const std::string dpath = lpath + "/vars/" + d;
      refuse_link(vg.get(), d, dpath);
      if (hdf5::object_type(vg.get(), d) != H5O_TYPE_DATASET)
        throw_format(where, path, "'" + dpath + "'", "a dataset", "another kind of object");
      hdf5::handle ds = hdf5::open_dataset(vg.get(), d);
      const auto info = ds ? hdf5::info_of(ds.get()) : std::nullopt;
      if (!info || !info->simple) throw_format(where, path, "'" + dpath + "'", "a readable dataset", "a damaged one");
      const auto type = h5_dtype(*info);
      if (!type)
        throw_format(where, path, "tensor '" + dpath + "': dtype", "float32 (or float64, float16, converted)",
                     "HDF5 class " + std::to_string(int(info->type_class)) + " of " + std::to_string(info->type_size) + " bytes");
      tensor_record r{dpath, *type, info->shape, {}};
      const auto it = by_name.find(dpath);
      if (it != by_name.end() && is_weight_dtype(*type) && info->shape == it->second->shape) {
        values.assign(it->second->count, T{});
        if (!hdf5::read(ds.get(), values.data()))
          throw_format(where, path, "tensor '" + dpath + "'", "readable data", "a damaged dataset");
        r.type = dtype_of<T>();
        std::vector<std::byte> bytes(values.size() * sizeof(T));
        std::memcpy(bytes.data(), values.data(), bytes.size());
        table.add_owned(std::move(r), std::move(bytes));
      } else {
        table.add(std::move(r));
      }
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
void load_keras_file(Model& model, hid_t file, const std::string& path, const char* where, const load_options& options) {
  auto expected = keras_tensors(model);
  const tensor_table table = read_keras_table<Model>(file, path, where, expected);
  staged_load(table, expected, where, options);
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
  constexpr const char* where = "frost::load_keras_weights";
  model.ensure_weights(where);
  if (detail::ends_with(path, ".keras")) {
    const mapped_file archive(path, where);
    const auto member = zip_member(archive.bytes(), "model.weights.h5", path, where);
    hdf5::handle f = hdf5::open_image(member);
    if (!f) detail::throw_format(where, path, "member 'model.weights.h5'", "an HDF5 file", "other content");
    detail::load_keras_file(model, f.get(), path + ":model.weights.h5", where, options);
    return;
  }
  { const mapped_file probe(path, where); }  // io_error for a missing or unreadable file
  const auto is_h5 = hdf5::is_hdf5(path);
  if (!is_h5 || !*is_h5) detail::throw_format(where, path, "file", "an HDF5 file (.weights.h5)", "other content");
  hdf5::handle f = hdf5::open_read(path);
  if (!f) detail::throw_format(where, path, "file", "an HDF5 file HDF5 can open", "a damaged one");
  detail::load_keras_file(model, f.get(), path, where, options);
}

/// The same from the bytes of a `.weights.h5` file in memory (`name` stands for the file in errors).
template <class Model>
void load_keras_weights(Model& model, std::span<const std::byte> bytes, const std::string& name,
                        const load_options& options = {}) {
  constexpr const char* where = "frost::load_keras_weights";
  model.ensure_weights(where);
  static constexpr unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), signature, 8) != 0)
    detail::throw_format(where, name, "file", "an HDF5 file (.weights.h5)", "other content");
  hdf5::handle f = hdf5::open_image(bytes);
  if (!f) detail::throw_format(where, name, "file", "an HDF5 file HDF5 can open", "a damaged one");
  detail::load_keras_file(model, f.get(), name, where, options);
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
