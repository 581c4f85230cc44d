#pragma once
/// \file
/// Files for the weight loaders and savers: `mapped_file` (a whole file, read-only, mapped with
/// `mmap` where the system has it, else read into memory) and `atomic_file` (a save that
/// replaces its target only once complete: a temporary file in the same directory, `fsync`,
/// then `rename`, so a save that dies part-way leaves the old file intact).

#include <frost/core/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define FROST_IO_POSIX 1
#endif

namespace frost {
namespace detail {

[[noreturn]] inline void throw_io(const char* where, const std::string& path, const std::string& what) {
  ::frost::detail::raise(io_error(std::string(where) + ": " + path + ": " + what));
}

/// `where: file 'path': subject: expected E, got G`.
[[noreturn]] inline void throw_format(const char* where, const std::string& path, const std::string& subject,
                                      const std::string& expected, const std::string& got) {
  ::frost::detail::raise(format_error(std::string(where) + ": " + path + ": " + subject + ": expected " + expected + ", got " + got));
}

inline std::string errno_text(int e) { return std::strerror(e); }

/// Test hook: called after each chunk a save writes, with the bytes written so far (tests kill
/// a save part-way through from here). Null in normal use.
inline void (*after_write_chunk)(std::size_t written) = nullptr;

}  // namespace detail

/// A whole file, read-only: mapped where the system can map files, read into memory otherwise.
/// Throws `io_error` naming the file when it cannot be opened or read.
class mapped_file {
 public:
  mapped_file(const std::string& path, const char* where) : path_(path) {
#ifdef FROST_IO_POSIX
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) detail::throw_io(where, path, "cannot open: " + detail::errno_text(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      detail::throw_io(where, path, "cannot stat: " + detail::errno_text(e));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      detail::throw_io(where, path, "not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ != 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        detail::throw_io(where, path, "cannot map: " + detail::errno_text(e));
      }
      data_ = static_cast<const std::byte*>(p);
      mapped_ = true;
    }
    ::close(fd);
#else
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::throw_io(where, path, "cannot open");
    in.seekg(0, std::ios::end);
    copy_.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(copy_.data()), static_cast<std::streamsize>(copy_.size())))
      detail::throw_io(where, path, "cannot read");
    data_ = copy_.data();
    size_ = copy_.size();
#endif
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() {
#ifdef FROST_IO_POSIX
    if (mapped_) ::munmap(const_cast<std::byte*>(data_), size_);
#endif
  }

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> copy_;
};

/// A file written in full before it replaces `path`: writes go to a fresh temporary file beside
/// it (`<path>.tmp-XXXXXX`); `commit()` flushes it to disk (`fsync`), renames it over `path` and
/// syncs the directory. Destroyed without `commit()` (an exception), it removes the temporary
/// file; a process killed part-way leaves `path` as it was (and possibly the temporary file).
class atomic_file {
 public:
  atomic_file(std::string path, const char* where) : path_(std::move(path)), where_(where) {
#ifdef FROST_IO_POSIX
    std::string pattern = path_ + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0) detail::throw_io(where_, path_, "cannot create a temporary file beside it: " + detail::errno_text(errno));
    temp_ = name.data();
    ::fchmod(fd_, 0644);
#else
    temp_ = path_ + ".tmp";
    out_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!out_) detail::throw_io(where_, temp_, "cannot create");
#endif
  }
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;
  ~atomic_file() {
    if (committed_) return;
#ifdef FROST_IO_POSIX
    if (fd_ >= 0) ::close(fd_);
#else
    out_.close();
#endif
    std::remove(temp_.c_str());
  }

  /// Appends `bytes`; throws `io_error` when the disk refuses them.
  void write(std::span<const std::byte> bytes) {
    constexpr std::size_t chunk = std::size_t{1} << 20;
    for (std::size_t at = 0; at < bytes.size();) {
      const std::size_t n = std::min(chunk, bytes.size() - at);
#ifdef FROST_IO_POSIX
      const ssize_t w = ::write(fd_, bytes.data() + at, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        detail::throw_io(where_, temp_, "cannot write: " + detail::errno_text(errno));
      }
      at += static_cast<std::size_t>(w);
#else
      if (!out_.write(reinterpret_cast<const char*>(bytes.data() + at), static_cast<std::streamsize>(n)))
        detail::throw_io(where_, temp_, "cannot write");
      at += n;
#endif
      written_ += n;
      if (detail::after_write_chunk != nullptr) detail::after_write_chunk(written_);
    }
  }

  /// Makes the written bytes the content of `path`, durably.
  void commit() {
#ifdef FROST_IO_POSIX
    if (::fsync(fd_) != 0) detail::throw_io(where_, temp_, "cannot sync: " + detail::errno_text(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) detail::throw_io(where_, temp_, "cannot close: " + detail::errno_text(errno));
#else
    out_.close();
    if (!out_) detail::throw_io(where_, temp_, "cannot close");
#endif
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
      detail::throw_io(where_, path_, "cannot rename " + temp_ + " over it: " + detail::errno_text(errno));
    committed_ = true;
#ifdef FROST_IO_POSIX
    // The rename itself is durable once the directory is synced.
    const std::size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
#endif
  }

 private:
  std::string path_;
  const char* where_;
  std::string temp_;
  std::size_t written_ = 0;
  bool committed_ = false;
#ifdef FROST_IO_POSIX
  int fd_ = -1;
#else
  std::ofstream out_;
#endif
};

}  // namespace frost
