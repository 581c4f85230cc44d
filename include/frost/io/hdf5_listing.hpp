#pragma once
/// \file
/// `hdf5_listing`: what a Keras weights file holds, as plain data — every object down to
/// `layers/<layer>/vars/<i>` with how it is linked, what it is, and for datasets their type,
/// shape and values — read by the HDF5 library in a child process. The HDF5 C library is not
/// hardened against damaged files (fuzzing libhdf5 1.10 reaches out-of-bounds reads and leaks
/// within seconds), so on POSIX systems frost never lets it parse an untrusted file in the
/// caller's process: a child reads the file and sends the listing back through a pipe; a
/// child that crashes, hangs (a time limit) or sends a malformed listing becomes a
/// `format_error`. The listing is all frost's own code then checks. It comes back through
/// memory shared with the reader.

#include <frost/io/file.hpp>
#include <frost/io/hdf5.hpp>
#include <frost/io/tensor_table.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#ifdef FROST_IO_POSIX
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#endif

namespace frost {

/// One object of a listing.
struct hdf5_entry {
  enum class kind : std::uint8_t { group, dataset, soft_link, external_link, other, damaged };
  std::string path;
  kind what = kind::other;
  /// Datasets: the element type (nullopt: not a number type frost reads), shape, and values
  /// (F32 for float datasets of up to 4 bytes, F64 for wider ones; empty when not read).
  std::optional<dtype> type;
  std::vector<std::size_t> shape;
  std::vector<std::byte> bytes;
  std::uint32_t type_class = 0, type_size = 0;
};

/// A file's listing: `opened` false when HDF5 could not open it; `legacy` when the root carries
/// Keras 2's attributes.
struct hdf5_listing {
  bool opened = false;
  bool legacy = false;
  std::vector<hdf5_entry> entries;
};

namespace detail {

/// Test hook: called first thing in the reader process (the fuzzers clear their crash
/// reporting there, the reader's crashes being expected). Null in normal use.
inline void (*reader_started)() = nullptr;

#if defined(__SANITIZE_ADDRESS__)
#define FROST_IO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FROST_IO_ASAN 1
#endif
#endif

// Caps the reader's address space at what it has plus `extra` bytes (Linux; not under
// AddressSanitizer, whose shadow memory needs the whole space), so that a file claiming huge
// sizes fails an allocation in the reader instead of taking the machine's memory.
inline void limit_reader_memory([[maybe_unused]] std::size_t extra) {
#if defined(__linux__) && !defined(FROST_IO_ASAN)
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (statm == nullptr) return;
  const bool read = std::fscanf(statm, "%lu", &pages) == 1;
  std::fclose(statm);
  if (!read) return;
  rlimit r{};
  const rlim_t want = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + extra;
  if (::getrlimit(RLIMIT_AS, &r) == 0 && (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > want)) {
    r.rlim_cur = want;
    ::setrlimit(RLIMIT_AS, &r);
  }
#endif
}

inline std::optional<dtype> h5_number_type(const hdf5::dataset_info& info) {
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

// Lists `loc`'s member `name` (at `path`) into `out`; returns the kind.
inline hdf5_entry::kind list_object(hid_t loc, const std::string& name, const std::string& path, hdf5_listing& out,
                                    std::size_t& budget) {
  hdf5_entry e;
  e.path = path;
  switch (hdf5::link_of(loc, name)) {
    case hdf5::link_kind::soft: e.what = hdf5_entry::kind::soft_link; break;
    case hdf5::link_kind::external: e.what = hdf5_entry::kind::external_link; break;
    case hdf5::link_kind::hard: {
      const H5O_type_t t = hdf5::object_type(loc, name);
      e.what = t == H5O_TYPE_GROUP     ? hdf5_entry::kind::group
               : t == H5O_TYPE_DATASET ? hdf5_entry::kind::dataset
               : t == H5O_TYPE_UNKNOWN ? hdf5_entry::kind::damaged
                                       : hdf5_entry::kind::other;
      break;
    }
    default: e.what = hdf5_entry::kind::damaged; break;
  }
  if (e.what == hdf5_entry::kind::dataset) {
    hdf5::handle ds = hdf5::open_dataset(loc, name);
    const auto info = ds ? hdf5::info_of(ds.get()) : std::nullopt;
    if (!info || !info->simple) {
      e.what = hdf5_entry::kind::damaged;
    } else {
      e.type_class = static_cast<std::uint32_t>(info->type_class);
      e.type_size = static_cast<std::uint32_t>(info->type_size);
      e.shape = info->shape;
      e.type = h5_number_type(*info);
      // Values of float datasets, as long as they fit what the file could hold.
      std::size_t n = 1;
      bool fits = true;
      for (std::size_t d : e.shape) {
        if (d != 0 && n > budget / d) fits = false;
        n *= fits ? d : 1;
      }
      // A valid file stores each value (contiguous, unfiltered), so its values fit in the file.
      if (e.type && (*e.type == dtype::f32 || *e.type == dtype::f16 || *e.type == dtype::f64) && fits &&
          n <= budget / info->type_size) {
        const bool wide = *e.type == dtype::f64;
        std::vector<std::byte> bytes(n * (wide ? 8 : 4));
        const bool ok = wide ? hdf5::read(ds.get(), reinterpret_cast<double*>(bytes.data()))
                             : hdf5::read(ds.get(), reinterpret_cast<float*>(bytes.data()));
        if (!ok) {
          e.what = hdf5_entry::kind::damaged;
        } else {
          e.type = wide ? dtype::f64 : dtype::f32;
          e.bytes = std::move(bytes);
          budget -= n * info->type_size;
        }
      }
    }
  }
  out.entries.push_back(std::move(e));
  return out.entries.back().what;
}

/// The most objects a listing holds.
inline constexpr std::size_t max_listing_entries = 100000;

// Lists the members of group `g` (at `path`, "" for the root); false when they cannot be read.
inline bool list_members(hid_t g, const std::string& path, hdf5_listing& out, std::size_t& budget, int depth) {
  const auto names = hdf5::member_names(g);
  if (!names) return false;
  for (const std::string& n : *names) {
    // A Keras file lists a few objects per layer: a listing past this is a damaged file (and is
    // kept from growing until the reader runs out of memory).
    if (out.entries.size() >= max_listing_entries) return false;
    const std::string child = path.empty() ? n : path + "/" + n;
    const hdf5_entry::kind k = list_object(g, n, child, out, budget);
    // Down to layers/<layer>/vars/<i>; and /vars's members.
    const bool descend = k == hdf5_entry::kind::group &&
                         (depth == 0 ? (n == "layers" || n == "vars") : depth == 1 ? path == "layers" : depth == 2 && n == "vars");
    if (descend) {
      hdf5::handle sub = hdf5::open_group(g, n);
      if (!sub || !list_members(sub.get(), child, out, budget, depth + 1)) out.entries.back().what = hdf5_entry::kind::damaged;
    }
  }
  return true;
}

/// Lists an open file (in this process). `budget`: bytes of values it may read (the file's size
/// bounds what a valid file holds).
inline hdf5_listing list_file(hid_t file, std::size_t budget) {
  hdf5::quiet q;
  hdf5_listing out;
  out.opened = true;
  out.legacy = hdf5::has_attribute(file, "layer_names") || hdf5::has_attribute(file, "keras_version");
  if (!list_members(file, "", out, budget, 0)) out.entries.push_back({"", hdf5_entry::kind::damaged, {}, {}, {}, 0, 0});
  return out;
}

// The listing as bytes through the pipe, and back (bounds-checked: a child that died part-way
// sends a truncated stream).
// Writes the listing through `put(bytes, n)`.
template <class Put>
void serialize(const hdf5_listing& l, Put&& put) {
  auto u64 = [&](std::uint64_t v) { put(&v, 8); };
  u64(0x66726f73746c7374ULL);  // a tag
  u64(l.opened), u64(l.legacy), u64(l.entries.size());
  for (const auto& e : l.entries) {
    u64(e.path.size());
    put(e.path.data(), e.path.size());
    u64(static_cast<std::uint64_t>(e.what));
    u64(e.type ? static_cast<std::uint64_t>(*e.type) + 1 : 0);
    u64(e.type_class), u64(e.type_size);
    u64(e.shape.size());
    for (std::size_t d : e.shape) u64(d);
    u64(e.bytes.size());
    put(e.bytes.data(), e.bytes.size());
  }
  u64(0x656e64ULL);  // the end: a listing cut short is refused
}
inline std::vector<std::byte> serialize(const hdf5_listing& l) {
  std::vector<std::byte> out;
  serialize(l, [&](const void* p, std::size_t n) {
    if (n == 0) return;
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}
inline std::optional<hdf5_listing> deserialize(std::span<const std::byte> in) {
  std::size_t at = 0;
  bool bad = false;
  auto u64 = [&]() -> std::uint64_t {
    if (bad || in.size() - at < 8) {
      bad = true;
      return 0;
    }
    std::uint64_t v;
    std::memcpy(&v, in.data() + at, 8);
    at += 8;
    return v;
  };
  auto take = [&](std::uint64_t n) -> std::span<const std::byte> {
    if (bad || n > in.size() - at) {
      bad = true;
      return {};
    }
    const auto s = in.subspan(at, static_cast<std::size_t>(n));
    at += static_cast<std::size_t>(n);
    return s;
  };
  if (u64() != 0x66726f73746c7374ULL) return std::nullopt;
  hdf5_listing l;
  l.opened = u64() != 0;
  l.legacy = u64() != 0;
  const std::uint64_t count = u64();
  for (std::uint64_t k = 0; k < count && !bad; ++k) {
    hdf5_entry e;
    const auto name = take(u64());
    e.path.assign(reinterpret_cast<const char*>(name.data()), name.size());
    const std::uint64_t what = u64(), type = u64();
    if (what > static_cast<std::uint64_t>(hdf5_entry::kind::damaged) || type > static_cast<std::uint64_t>(dtype::f8_e4m3) + 1)
      return std::nullopt;
    e.what = static_cast<hdf5_entry::kind>(what);
    if (type != 0) e.type = static_cast<dtype>(type - 1);
    e.type_class = static_cast<std::uint32_t>(u64());
    e.type_size = static_cast<std::uint32_t>(u64());
    const std::uint64_t rank = u64();
    if (rank > 32) return std::nullopt;
    for (std::uint64_t d = 0; d < rank; ++d) e.shape.push_back(static_cast<std::size_t>(u64()));
    const auto bytes = take(u64());
    e.bytes.assign(bytes.begin(), bytes.end());
    l.entries.push_back(std::move(e));
  }
  if (u64() != 0x656e64ULL || bad || at != in.size()) return std::nullopt;
  return l;
}

}  // namespace detail

/// Lists the HDF5 file that `open` opens, in a child process where the system has fork (see
/// the file comment), else in this one. `budget`: bytes of dataset values to read at most.
/// Throws `format_error` (naming `path`) when the reader crashed, hung for `seconds` or sent
/// nothing readable.
inline hdf5_listing list_hdf5(const std::function<hdf5::handle()>& open, std::size_t budget, const std::string& path,
                              const char* where, double seconds = 30.0) {
#ifdef FROST_IO_POSIX
  // The listing travels through memory shared with the reader, written in place (no copies
  // through a pipe); the pipe only tells when the reader is gone (its end closes as the reader
  // exits). The mapping reserves address space; pages come as they are used.
  const std::size_t cap = (std::size_t{64} << 20) + 4 * budget;
  void* shared = ::mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (shared == MAP_FAILED) detail::throw_io(where, path, "cannot map memory for the HDF5 reader: " + detail::errno_text(errno));
  struct unmap {
    void* p;
    std::size_t n;
    ~unmap() { ::munmap(p, n); }
  } unmap_shared{shared, cap};
  auto* region = static_cast<std::byte*>(shared);
  H5open();  // initialized once here, not in every reader
  int fds[2];
  if (::pipe(fds) != 0) detail::throw_io(where, path, "cannot create a pipe: " + detail::errno_text(errno));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]), ::close(fds[1]);
    detail::throw_io(where, path, "cannot start the HDF5 reader: " + detail::errno_text(errno));
  }
  if (child == 0) {
    // The reader: list the file, leave the listing in the shared memory, exit without running
    // the parent's exit handlers. A crash here is the reader's alone: the parent's crash
    // handlers do not run for it.
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
    if (detail::reader_started != nullptr) detail::reader_started();
#ifndef FROST_NO_EXCEPTIONS
    try {  // the unwinder sets itself up now, while memory is not capped
      throw 0;
    } catch (int) {
    }
#endif
    detail::limit_reader_memory((std::size_t{1} << 30) + 16 * budget);
    ::close(fds[0]);
#ifndef FROST_NO_EXCEPTIONS
    try {
#else
    {  // without exceptions, running out of the capped memory aborts the reader: a crash, reported as one
#endif
      hdf5_listing l;
      {
        hdf5::handle f = open();
        if (f) l = detail::list_file(f.get(), budget);
      }
      std::uint64_t n = 0;
      detail::serialize(l, [&](const void* p, std::size_t k) {
        if (k == 0) return;
        if (k > cap - 8 - n) ::_exit(5);
        std::memcpy(region + 8 + n, p, k);
        n += k;
      });
      std::memcpy(region, &n, 8);
#ifndef FROST_NO_EXCEPTIONS
    } catch (...) {  // out of its capped memory: a file claiming more than it holds
      ::_exit(4);
    }
#else
    }
#endif
    ::_exit(0);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    std::byte ignored[64];
    const ssize_t n = ::read(fds[0], ignored, sizeof ignored);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the reader is gone
  }
  ::close(fds[0]);
  if (timed_out) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::ostringstream limit;
  limit << seconds;
  if (timed_out)
    detail::throw_format(where, path, "file", "an HDF5 file read within " + limit.str() + " s",
                         "one the HDF5 library was still reading (a damaged file?)");
  if (WIFSIGNALED(status))
    detail::throw_format(where, path, "file", "an HDF5 file the HDF5 library can read",
                         "one that crashed it (signal " + std::to_string(WTERMSIG(status)) + "; a damaged file)");
  std::uint64_t length = 0;
  std::memcpy(&length, region, 8);
  const bool complete = WIFEXITED(status) && WEXITSTATUS(status) == 0 && length <= cap - 8;
  std::optional<hdf5_listing> listing;
  if (complete) listing = detail::deserialize(std::span<const std::byte>(region + 8, static_cast<std::size_t>(length)));
  if (!listing || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    detail::throw_format(where, path, "file", "an HDF5 file the HDF5 library can read", "one its reader could not list");
  return std::move(*listing);
#else
  (void)path, (void)where, (void)seconds;
  hdf5::handle f = open();
  if (!f) return {};
  return detail::list_file(f.get(), budget);
#endif
}

}  // namespace frost
