#pragma once
/// \file
/// A small RAII layer over the HDF5 C API, as much as the Keras weight files need: handles that
/// close themselves, files opened from a path or from bytes in memory, hard-link checks, dataset
/// shapes and reads with conversion, and scalar UTF-8 string attributes. HDF5's own error
/// printing is silenced while frost calls it; frost reports errors itself.
///
/// Needs the HDF5 C library (Debian `libhdf5-dev`; CMake defines FROST_WITH_HDF5 when found).

#include <frost/io/file.hpp>

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost::hdf5 {

/// An HDF5 identifier that closes itself.
class handle {
 public:
  using closer = herr_t (*)(hid_t);
  handle() noexcept = default;
  handle(hid_t id, closer close) noexcept : id_(id), close_(close) {}
  handle(handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  void reset() noexcept {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  closer close_ = nullptr;
};

/// Silences HDF5's error printing for its lifetime (frost reports errors itself).
class quiet {
 public:
  quiet() noexcept {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  quiet(const quiet&) = delete;
  quiet& operator=(const quiet&) = delete;
  ~quiet() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

inline handle file_handle(hid_t id) { return handle(id, H5Fclose); }
inline handle group_handle(hid_t id) { return handle(id, H5Gclose); }
inline handle dataset_handle(hid_t id) { return handle(id, H5Dclose); }
inline handle space_handle(hid_t id) { return handle(id, H5Sclose); }
inline handle type_handle(hid_t id) { return handle(id, H5Tclose); }
inline handle attribute_handle(hid_t id) { return handle(id, H5Aclose); }
inline handle plist_handle(hid_t id) { return handle(id, H5Pclose); }

/// Is the file at `path` an HDF5 file? (false for other content; nullopt when unreadable)
inline std::optional<bool> is_hdf5(const std::string& path) {
  quiet q;
  const htri_t r = H5Fis_hdf5(path.c_str());
  if (r < 0) return std::nullopt;
  return r > 0;
}

/// Opens `path` read-only (invalid handle on failure).
inline handle open_read(const std::string& path) {
  quiet q;
  return file_handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
}

/// Opens an HDF5 file held in memory (copied into HDF5's core driver), read-only.
inline handle open_image(std::span<const std::byte> bytes) {
  quiet q;
  handle fapl = plist_handle(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<std::byte*>(bytes.data()), bytes.size()) < 0)
    return {};
  return file_handle(H5Fopen("frost-in-memory.h5", H5F_ACC_RDONLY, fapl.get()));
}

/// Creates a file in memory (HDF5's core driver, nothing written to disk); `image_of` gives
/// its bytes.
inline handle create_image() {
  quiet q;
  handle fapl = plist_handle(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0) return {};
  return file_handle(H5Fcreate("frost-image.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
}

/// The bytes of an open file (flushed first).
inline bool image_of(hid_t file, std::vector<std::byte>& out) {
  quiet q;
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) return false;
  const ssize_t n = H5Fget_file_image(file, nullptr, 0);
  if (n < 0) return false;
  out.resize(static_cast<std::size_t>(n));
  return H5Fget_file_image(file, out.data(), out.size()) == n;
}

/// How `name` is linked inside `loc`.
enum class link_kind { none, hard, soft, external, other };
inline link_kind link_of(hid_t loc, const std::string& name) {
  quiet q;
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0) return link_kind::none;
  H5L_info_t info{};
  if (H5Lget_info(loc, name.c_str(), &info, H5P_DEFAULT) < 0) return link_kind::other;
  switch (info.type) {
    case H5L_TYPE_HARD: return link_kind::hard;
    case H5L_TYPE_SOFT: return link_kind::soft;
    case H5L_TYPE_EXTERNAL: return link_kind::external;
    default: return link_kind::other;
  }
}

/// What kind of object a hard link `name` in `loc` points to.
inline H5O_type_t object_type(hid_t loc, const std::string& name) {
  quiet q;
  H5O_info_t info{};
  if (H5Oget_info_by_name(loc, name.c_str(), &info, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
  return info.type;
}

/// The names of the links in group `g`, in HDF5's name order.
inline std::optional<std::vector<std::string>> member_names(hid_t g) {
  quiet q;
  H5G_info_t info{};
  // A Keras file's groups hold a few members each: a count in the millions is a damaged file.
  if (H5Gget_info(g, &info) < 0 || info.nlinks > 100000) return std::nullopt;
  std::vector<std::string> out;
  std::size_t total = 0;
  for (hsize_t k = 0; k < info.nlinks; ++k) {
    const ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, H5P_DEFAULT);
    // Names of a few dozen characters, in groups of a few members: megabytes of names are damage.
    total += n < 0 ? 0 : static_cast<std::size_t>(n);
    if (n < 0 || n > 1024 || total > (std::size_t{4} << 20)) return std::nullopt;
    std::string name(static_cast<std::size_t>(n) + 1, '\0');
    if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(), name.size(), H5P_DEFAULT) < 0)
      return std::nullopt;
    name.resize(static_cast<std::size_t>(n));
    out.push_back(std::move(name));
  }
  return out;
}

inline handle open_group(hid_t loc, const std::string& name) {
  quiet q;
  return group_handle(H5Gopen2(loc, name.c_str(), H5P_DEFAULT));
}
inline handle open_dataset(hid_t loc, const std::string& name) {
  quiet q;
  return dataset_handle(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
}

/// A dataset's element class and size (e.g. H5T_FLOAT, 4) and shape.
struct dataset_info {
  H5T_class_t type_class = H5T_NO_CLASS;
  std::size_t type_size = 0;
  std::vector<std::size_t> shape;
  bool simple = false;
};
inline std::optional<dataset_info> info_of(hid_t dataset) {
  quiet q;
  dataset_info out;
  handle type = type_handle(H5Dget_type(dataset));
  handle space = space_handle(H5Dget_space(dataset));
  if (!type || !space) return std::nullopt;
  out.type_class = H5Tget_class(type.get());
  out.type_size = H5Tget_size(type.get());
  const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
  out.simple = sc == H5S_SIMPLE || sc == H5S_SCALAR;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 32) return std::nullopt;
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) return std::nullopt;
  for (hsize_t d : dims) out.shape.push_back(static_cast<std::size_t>(d));
  return out;
}

/// Reads a whole dataset converted to `T` (float or double) into `out` (its element count).
template <class T>
bool read(hid_t dataset, T* out) {
  quiet q;
  const hid_t mem = std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  return H5Dread(dataset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
}

/// Creates group `name` in `loc`.
inline handle create_group(hid_t loc, const std::string& name) {
  return group_handle(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
}

/// Writes a contiguous dataset `name` of `shape` from `data` (float: IEEE F32LE, double: F64LE).
template <class T>
bool write_dataset(hid_t loc, const std::string& name, const std::vector<std::size_t>& shape, const T* data) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  handle space = space_handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  if (!space) return false;
  const hid_t file_type = std::is_same_v<T, float> ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  const hid_t mem = std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  handle d = dataset_handle(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  return d && H5Dwrite(d.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
}

/// Writes a scalar variable-length UTF-8 string attribute (what h5py writes for a Python str).
inline bool write_string_attribute(hid_t loc, const std::string& name, const std::string& value) {
  handle type = type_handle(H5Tcopy(H5T_C_S1));
  if (!type || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0) return false;
  handle space = space_handle(H5Screate(H5S_SCALAR));
  handle a = attribute_handle(H5Acreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* text = value.c_str();
  return a && H5Awrite(a.get(), type.get(), &text) >= 0;
}

/// Does `loc` carry attribute `name`?
inline bool has_attribute(hid_t loc, const std::string& name) {
  quiet q;
  return H5Aexists(loc, name.c_str()) > 0;
}

/// Reads a scalar string attribute (fixed or variable length); nullopt when absent or not one.
inline std::optional<std::string> read_string_attribute(hid_t loc, const std::string& name) {
  quiet q;
  if (H5Aexists(loc, name.c_str()) <= 0) return std::nullopt;
  handle a = attribute_handle(H5Aopen(loc, name.c_str(), H5P_DEFAULT));
  if (!a) return std::nullopt;
  handle type = type_handle(H5Aget_type(a.get()));
  if (!type || H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  handle space = space_handle(H5Aget_space(a.get()));
  if (!space || H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  if (H5Tis_variable_str(type.get()) > 0) {
    handle mem = type_handle(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    char* text = nullptr;
    if (H5Aread(a.get(), mem.get(), &text) < 0 || text == nullptr) return std::nullopt;
    std::string out(text);
    H5free_memory(text);
    return out;
  }
  const std::size_t n = H5Tget_size(type.get());
  if (n == 0 || n > (1u << 20)) return std::nullopt;
  std::string out(n, '\0');
  if (H5Aread(a.get(), type.get(), out.data()) < 0) return std::nullopt;
  out.resize(out.find('\0') == std::string::npos ? n : out.find('\0'));
  return out;
}

}  // namespace frost::hdf5
