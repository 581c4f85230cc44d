#pragma once
// Helpers for the weight-file tests: scratch files, snapshots of a model's arenas (to prove a
// failed load changed nothing), and hand-made safetensors bytes.
#include <frost/io/file.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
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

/// Runs `save` (which writes `path` anew, more than 1 MiB) in a forked child killed once 1 MiB
/// of it is written, then requires `path` to hold exactly what it held before.
template <class Save>
void require_killed_save_keeps(const std::string& path, Save save) {
  const auto old = read_bytes(path);
  REQUIRE(!old.empty());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    frost::detail::after_write_chunk = [](std::size_t written) {
      if (written >= (std::size_t{1} << 20)) ::raise(SIGKILL);
    };
    save();
    ::_exit(0);  // not reached: the save is killed first
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(read_bytes(path) == old);
}

}  // namespace frost_test
