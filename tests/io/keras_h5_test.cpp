// Keras 3 .weights.h5: round trips, the layout read back through HDF5, .keras archives, and
// every rejection leaving the model bit-identical.
#include <frost/frost.hpp>
#include <frost/io/keras_h5.hpp>
#include <frost/io/safetensors.hpp>

#include "support/gradcheck.hpp"
#include "support/weight_files.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

using namespace frost;
using frost_test::snapshot;

namespace {

using cnn = sequential<input<8, 8, 1>, conv2d<4, 3, 3>, batch_normalization<>, activation<relu>, max_pooling2d<2, 2>,
                       named<"features", conv2d<6, 2, 2, relu>>, flatten, dense<5, relu>, dense<3, softmax>>;
using mlp = sequential<input<3>, dense<2, relu>, dense<1>>;

// Opens a saved file for editing with HDF5's C API.
struct editable {
  hdf5::handle f;
  explicit editable(const std::string& path) : f(hdf5::file_handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT))) {
    REQUIRE(f);
  }
  void remove(const std::string& name) { REQUIRE(H5Ldelete(f.get(), name.c_str(), H5P_DEFAULT) >= 0); }
  void dataset(const std::string& name, std::vector<std::size_t> shape, hid_t file_type = H5T_IEEE_F32LE) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    hdf5::handle space = hdf5::space_handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    hdf5::handle d = hdf5::dataset_handle(
        H5Dcreate2(f.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(d);
  }
  void group(const std::string& name) { REQUIRE(hdf5::create_group(f.get(), name)); }
};

// A fresh mlp saved as Keras would; `edit` changes the file; the load must then throw a
// format_error holding every `parts` and leave the model bit-identical.
template <class Edit>
void require_rejected(Edit edit, std::initializer_list<const char*> parts) {
  frost_test::scratch_dir dir;
  const std::string path = dir.file("m.weights.h5");
  save_keras_weights(mlp::init(1), path);
  {
    editable e(path);
    edit(e);
  }
  auto m = mlp::init(2);
  const auto before = snapshot(m);
  try {
    load_keras_weights(m, path);
    FAIL("no error");
  } catch (const format_error& err) {
    const std::string what = err.what();
    INFO(what);
    REQUIRE(what.find("frost::load_keras_weights: " + path + ": ") == 0);
    for (const char* p : parts) REQUIRE(what.find(p) != std::string::npos);
  }
  REQUIRE(snapshot(m) == before);
}

}  // namespace

TEST_CASE("save_keras_weights then load_keras_weights gives back every variable", "[io][keras_h5]") {
  frost_test::scratch_dir dir;
  auto a = freeze<1>(cnn::init(1));
  save_keras_weights(a, dir.file("cnn.weights.h5"));
  auto b = cnn::init(2);
  load_keras_weights(b, dir.file("cnn.weights.h5"));
  REQUIRE(frost_test::same_bytes(a.layer<0>().kernel(), b.layer<0>().kernel()));
  REQUIRE(frost_test::same_bytes(a.layer<1>().gamma(), b.layer<1>().gamma()));
  REQUIRE(frost_test::same_bytes(a.layer<1>().moving_variance(), b.layer<1>().moving_variance()));
  REQUIRE(frost_test::same_bytes(a.layer<7>().bias(), b.layer<7>().bias()));
  matrix<float, 8, 8, 1> x(2);
  frost_test::fill_uniform(x.values(), 3);
  REQUIRE(frost_test::same_bytes(a(x).values(), b(x).values()));
}

TEST_CASE("the file has Keras 3's layout: groups by class path, datasets by save order", "[io][keras_h5]") {
  frost_test::scratch_dir dir;
  auto m = cnn::init(1);
  save_keras_weights(m, dir.file("cnn.weights.h5"));
  hdf5::handle f = hdf5::open_read(dir.file("cnn.weights.h5"));
  REQUIRE(f);
  REQUIRE(*hdf5::member_names(f.get()) == std::vector<std::string>{"layers", "vars"});
  hdf5::handle layers = hdf5::open_group(f.get(), "layers");
  // HDF5 lists names in byte order; the named layer "features" is stored as conv2d_1.
  REQUIRE(*hdf5::member_names(layers.get()) ==
          std::vector<std::string>{"activation", "batch_normalization", "conv2d", "conv2d_1", "dense", "dense_1",
                                   "flatten", "max_pooling2d"});
  hdf5::handle bn = hdf5::open_group(f.get(), "layers/batch_normalization/vars");
  REQUIRE(*hdf5::member_names(bn.get()) == std::vector<std::string>{"0", "1", "2", "3"});
  REQUIRE(hdf5::read_string_attribute(bn.get(), "name") == std::optional<std::string>("batch_normalization"));
  hdf5::handle conv1 = hdf5::open_group(f.get(), "layers/conv2d_1/vars");
  REQUIRE(hdf5::read_string_attribute(conv1.get(), "name") == std::optional<std::string>("features"));
  hdf5::handle pool = hdf5::open_group(f.get(), "layers/max_pooling2d/vars");
  REQUIRE(hdf5::member_names(pool.get())->empty());
  hdf5::handle own = hdf5::open_group(f.get(), "vars");
  REQUIRE(hdf5::member_names(own.get())->empty());
  hdf5::handle kernel = hdf5::open_dataset(f.get(), "layers/conv2d_1/vars/0");
  const auto info = hdf5::info_of(kernel.get());
  REQUIRE(info->type_class == H5T_FLOAT);
  REQUIRE(info->type_size == 4);
  REQUIRE(info->shape == std::vector<std::size_t>{2, 2, 4, 6});
  std::vector<float> values(2 * 2 * 4 * 6);
  REQUIRE(hdf5::read(kernel.get(), values.data()));
  REQUIRE(frost_test::same_bytes(std::span<const float>(values), m.layer<4>().kernel()));
  hdf5::handle var = hdf5::open_dataset(f.get(), "layers/batch_normalization/vars/3");
  std::vector<float> mv(4);
  REQUIRE(hdf5::read(var.get(), mv.data()));
  REQUIRE(frost_test::same_bytes(std::span<const float>(mv), m.layer<1>().moving_variance()));
}

TEST_CASE("a functional model's input layers are layers of the file", "[io][keras_h5]") {
  frost_test::scratch_dir dir;
  auto a = input<4>{};
  auto b = input<3>{};
  auto out = dense<2>{}(concatenate{}(dense<3, relu>{}(a), b));
  auto m = make_model(boost::hana::make_tuple(a, b), out);
  save_keras_weights(m, dir.file("f.weights.h5"));
  hdf5::handle f = hdf5::open_read(dir.file("f.weights.h5"));
  hdf5::handle layers = hdf5::open_group(f.get(), "layers");
  REQUIRE(*hdf5::member_names(layers.get()) ==
          std::vector<std::string>{"concatenate", "dense", "dense_1", "input_layer", "input_layer_1"});
  hdf5::handle own = hdf5::open_group(f.get(), "vars");
  REQUIRE(hdf5::read_string_attribute(own.get(), "name") == std::optional<std::string>("functional"));
  auto n = decltype(m)::init(7);
  REQUIRE(snapshot(n) != snapshot(m));
  load_keras_weights(n, dir.file("f.weights.h5"));
  REQUIRE(snapshot(n) == snapshot(m));
}

TEST_CASE("float64 datasets are cast; empty groups of layers without variables may be absent", "[io][keras_h5]") {
  frost_test::scratch_dir dir;
  const std::string path = dir.file("m.weights.h5");
  auto src = mlp::init(1);
  save_keras_weights(src, path);
  {
    editable e(path);
    e.remove("layers/dense/vars/0");
    std::vector<double> k{0.1, -0.2, 0.3, 0.4, 0.5, -0.6};
    std::vector<hsize_t> dims{3, 2};
    hdf5::handle space = hdf5::space_handle(H5Screate_simple(2, dims.data(), nullptr));
    hdf5::handle d = hdf5::dataset_handle(
        H5Dcreate2(e.f.get(), "layers/dense/vars/0", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, k.data()) >= 0);
    e.remove("vars");  // Keras's file editor drops empty groups
  }
  auto m = mlp::init(2);
  load_keras_weights(m, path);
  const auto kernel = m.layer<0>().kernel();
  REQUIRE(kernel[0] == static_cast<float>(0.1));
  REQUIRE(kernel[5] == static_cast<float>(-0.6));
  REQUIRE(frost_test::same_bytes(m.layer<1>().kernel(), src.layer<1>().kernel()));
}

TEST_CASE("a .keras archive's model.weights.h5 loads", "[io][keras_h5]") {
  frost_test::scratch_dir dir;
  auto src = cnn::init(5);
  save_keras_weights(src, dir.file("w.h5"));
  const auto h5 = frost_test::read_bytes(dir.file("w.h5"));
  // A zip with two stored members, written by hand: metadata.json, then model.weights.h5.
  std::vector<std::byte> zip, central;
  auto put16 = [](std::vector<std::byte>& v, std::uint16_t x) {
    v.push_back(std::byte(x & 0xff));
    v.push_back(std::byte(x >> 8));
  };
  auto put32 = [&](std::vector<std::byte>& v, std::uint32_t x) {
    put16(v, static_cast<std::uint16_t>(x & 0xffff));
    put16(v, static_cast<std::uint16_t>(x >> 16));
  };
  auto member = [&](const std::string& name, const std::vector<std::byte>& data, std::uint16_t method) {
    const auto offset = static_cast<std::uint32_t>(zip.size());
    put32(zip, 0x04034b50);
    put16(zip, 20), put16(zip, 0), put16(zip, method), put16(zip, 0), put16(zip, 0);
    put32(zip, 0), put32(zip, static_cast<std::uint32_t>(data.size())), put32(zip, static_cast<std::uint32_t>(data.size()));
    put16(zip, static_cast<std::uint16_t>(name.size())), put16(zip, 0);
    for (char c : name) zip.push_back(std::byte(c));
    zip.insert(zip.end(), data.begin(), data.end());
    put32(central, 0x02014b50);
    put16(central, 20), put16(central, 20), put16(central, 0), put16(central, method), put16(central, 0), put16(central, 0);
    put32(central, 0), put32(central, static_cast<std::uint32_t>(data.size())),
        put32(central, static_cast<std::uint32_t>(data.size()));
    put16(central, static_cast<std::uint16_t>(name.size())), put16(central, 0), put16(central, 0), put16(central, 0),
        put16(central, 0);
    put32(central, 0), put32(central, offset);
    for (char c : name) central.push_back(std::byte(c));
  };
  auto finish = [&] {
    const auto at = static_cast<std::uint32_t>(zip.size());
    zip.insert(zip.end(), central.begin(), central.end());
    put32(zip, 0x06054b50), put16(zip, 0), put16(zip, 0), put16(zip, 2), put16(zip, 2);
    put32(zip, static_cast<std::uint32_t>(central.size())), put32(zip, at), put16(zip, 0);
  };
  const std::string meta = R"({"keras_version": "3.6.0"})";
  std::vector<std::byte> meta_bytes(meta.size());
  std::memcpy(meta_bytes.data(), meta.data(), meta.size());
  member("metadata.json", meta_bytes, 0);
  member("model.weights.h5", h5, 0);
  finish();
  frost_test::write_bytes(dir.file("m.keras"), zip);
  auto m = cnn::init(6);
  load_keras_weights(m, dir.file("m.keras"));
  REQUIRE(snapshot(m) == snapshot(src));
  // A compressed member is refused, and so is an archive without the member.
  zip.clear(), central.clear();
  member("metadata.json", meta_bytes, 0);
  member("model.weights.h5", h5, 8);
  finish();
  frost_test::write_bytes(dir.file("deflated.keras"), zip);
  auto n = cnn::init(6);
  const auto before = snapshot(n);
  REQUIRE_THROWS_WITH(load_keras_weights(n, dir.file("deflated.keras")),
                      Catch::Contains("member 'model.weights.h5': expected stored uncompressed") &&
                          Catch::Contains("got compression method 8"));
  std::vector<std::byte> cut(zip.begin(), zip.begin() + 100);
  frost_test::write_bytes(dir.file("cut.keras"), cut);
  REQUIRE_THROWS_WITH(load_keras_weights(n, dir.file("cut.keras")), Catch::Contains("no zip end-of-directory record"));
  REQUIRE(snapshot(n) == before);
}

TEST_CASE("every malformed Keras file is refused with a clear error, and the model is unchanged",
          "[io][keras_h5][errors]") {
  SECTION("a missing group") {
    require_rejected([](editable& e) { e.remove("layers/dense_1"); },
                     {"tensors: expected every variable of the model", "2 missing: layers/dense_1/vars/0, layers/dense_1/vars/1"});
  }
  SECTION("a missing dataset") {
    require_rejected([](editable& e) { e.remove("layers/dense/vars/1"); }, {"1 missing: layers/dense/vars/1"});
  }
  SECTION("one dataset too many") {
    require_rejected([](editable& e) { e.dataset("layers/dense/vars/2", {2}); },
                     {"only the model's 4", "1 more: layers/dense/vars/2"});
  }
  SECTION("a layer the model does not have") {
    require_rejected([](editable& e) { e.group("layers/dense_7"); }, {"1 more: layers/dense_7"});
  }
  SECTION("a transposed kernel") {
    require_rejected(
        [](editable& e) {
          e.remove("layers/dense/vars/0");
          e.dataset("layers/dense/vars/0", {2, 3});
        },
        {"tensor 'layers/dense/vars/0' (dense/kernel): shape", "expected (3, 2), got (2, 3)", "transposed kernel"});
  }
  SECTION("integers") {
    require_rejected(
        [](editable& e) {
          e.remove("layers/dense/vars/1");
          e.dataset("layers/dense/vars/1", {2}, H5T_STD_I32LE);
        },
        {"tensor 'layers/dense/vars/1' (dense/bias): dtype", "expected F32", "got I32"});
  }
  SECTION("a soft link") {
    require_rejected(
        [](editable& e) {
          e.remove("layers/dense/vars/1");
          REQUIRE(H5Lcreate_soft("/layers/dense_1/vars/1", e.f.get(), "layers/dense/vars/1", H5P_DEFAULT, H5P_DEFAULT) >= 0);
        },
        {"'layers/dense/vars/1'", "expected a group or dataset stored in the file, got a soft link"});
  }
  SECTION("an external link") {
    require_rejected(
        [](editable& e) {
          e.remove("layers/dense_1");
          REQUIRE(H5Lcreate_external("other.h5", "/x", e.f.get(), "layers/dense_1", H5P_DEFAULT, H5P_DEFAULT) >= 0);
        },
        {"'layers/dense_1'", "got an external link"});
  }
  SECTION("a file for another model") {
    require_rejected(
        [](editable& e) {
          e.remove("layers/dense");
          e.remove("layers/dense_1");
          e.group("layers/conv2d");
          e.group("layers/conv2d/vars");
          e.dataset("layers/conv2d/vars/0", {3, 3, 1, 4});
        },
        {"none of them", "the file holds", "layers/conv2d", "a file for another model?"});
  }
  SECTION("a legacy Keras 2 file") {
    require_rejected(
        [](editable& e) { REQUIRE(hdf5::write_string_attribute(e.f.get(), "keras_version", "2.15.0")); },
        {"a legacy Keras 2 HDF5 file"});
  }
}

TEST_CASE("files that are not HDF5 or cannot be read give clear errors", "[io][keras_h5][errors]") {
  frost_test::scratch_dir dir;
  auto m = mlp::init(1);
  const auto before = snapshot(m);
  save_safetensors(m, dir.file("m.safetensors"));
  REQUIRE_THROWS_WITH(load_keras_weights(m, dir.file("m.safetensors")),
                      Catch::Contains("file: expected an HDF5 file (.weights.h5), got other content"));
  REQUIRE_THROWS_AS(load_keras_weights(m, dir.file("none.weights.h5")), io_error);
  const auto bytes = frost_test::read_bytes(dir.file("m.safetensors"));
  REQUIRE_THROWS_AS(load_keras_weights(m, std::span<const std::byte>(bytes), "mem"), format_error);
  // A truncated HDF5 file.
  save_keras_weights(m, dir.file("m.weights.h5"));
  auto h5 = frost_test::read_bytes(dir.file("m.weights.h5"));
  h5.resize(h5.size() / 2);
  frost_test::write_bytes(dir.file("cut.weights.h5"), h5);
  REQUIRE_THROWS_AS(load_keras_weights(m, dir.file("cut.weights.h5")), format_error);
  REQUIRE_THROWS_AS(load_keras_weights(m, std::span<const std::byte>(h5), "cut"), format_error);
  REQUIRE(snapshot(m) == before);
}

TEST_CASE("a Keras save killed part-way leaves the old file intact", "[io][keras_h5][atomic]") {
  frost_test::scratch_dir dir;
  using big = sequential<input<784>, dense<512, relu>, dense<10>>;
  const std::string path = dir.file("big.weights.h5");
  save_keras_weights(big::init(1), path);
  frost_test::require_killed_save_keeps(path, [&] { save_keras_weights(big::init(2), path); });
  auto m = big::init(3);
  load_keras_weights(m, path);
  REQUIRE(snapshot(m) == snapshot(big::init(1)));
}

TEST_CASE("the HDF5 reader runs apart: its crash or hang is a format_error, not the caller's", "[io][keras_h5][isolation]") {
  // A file that makes libhdf5 1.10 read past a buffer (found by keras_h5_fuzz).
  const std::string crash = std::string(FROST_TEST_FIXTURES) + "/../fuzz/corpus/keras_h5/hdf5_crash.weights.h5";
  auto m = mlp::init(1);
  const auto before = snapshot(m);
  REQUIRE_THROWS_AS(load_keras_weights(m, crash), format_error);
  REQUIRE(snapshot(m) == before);
  // The reader's fates, made to happen: a crash, a hang, an exit without a listing.
  REQUIRE_THROWS_WITH(list_hdf5([]() -> hdf5::handle { std::raise(SIGSEGV); return {}; }, 0, "f.h5", "test"),
                      Catch::Contains("f.h5: file: expected an HDF5 file the HDF5 library can read, got one that crashed it (signal 11"));
  REQUIRE_THROWS_WITH(list_hdf5([]() -> hdf5::handle { std::this_thread::sleep_for(std::chrono::seconds(30)); return {}; }, 0,
                                "f.h5", "test", 0.5),
                      Catch::Contains("expected an HDF5 file read within 0.5 s, got one the HDF5 library was still reading"));
  REQUIRE_THROWS_WITH(list_hdf5([]() -> hdf5::handle { ::_exit(0); }, 0, "f.h5", "test"),
                      Catch::Contains("got one its reader could not list"));
  // And a file HDF5 cannot open lists as not opened.
  const auto listing = list_hdf5([] { return hdf5::handle{}; }, 0, "f.h5", "test");
  REQUIRE(!listing.opened);
}
