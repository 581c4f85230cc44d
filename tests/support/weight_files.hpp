#pragma once
// Helpers for the weight-file tests: scratch files, snapshots of a model's arenas (to prove a
// failed load changed nothing), and hand-made safetensors bytes.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace frost_test {

/// A fresh directory under the system's temporary directory, removed at scope exit.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("frost-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::vector<std::byte> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

inline void write_bytes(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// Every byte of a model's weights: trainable arena, frozen arena, state arena.
template <class Model>
std::vector<std::byte> snapshot(const Model& m) {
  std::vector<std::byte> out;
  auto add = [&](auto span) {
    const auto* p = reinterpret_cast<const std::byte*>(span.data());
    out.insert(out.end(), p, p + span.size_bytes());
  };
  add(m.trainable_parameters());
  add(m.frozen_parameters());
  add(m.state());
  return out;
}

/// A safetensors file from a header text and a byte buffer.
inline std::vector<std::byte> safetensors_bytes(const std::string& header, const std::vector<std::byte>& buffer) {
  std::vector<std::byte> out(8 + header.size());
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

template <class T>
std::vector<std::byte> as_byte_vector(const std::vector<T>& v) {
  std::vector<std::byte> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace frost_test
