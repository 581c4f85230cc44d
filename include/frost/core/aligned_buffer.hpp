#pragma once
/// \file
/// `aligned_buffer<T>`: one 64-byte-aligned heap array, allocated once, zero-initialized.
/// Arrays of 2 MiB or more are aligned to 2 MiB and, on Linux, asked for transparent huge pages.

#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace frost {

/// Alignment of every buffer frost allocates: one cache line, a whole AVX-512 register.
inline constexpr std::size_t buffer_alignment = 64;
/// Buffers of this many bytes or more are aligned to it and asked for huge pages: a 4 KiB page
/// covers only 4 rows of a 1024-wide float layer, and a pass that walks W, its moments and its
/// gradient tile by tile (the fused update) would otherwise miss the TLB at every row.
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

namespace detail {
inline constexpr std::size_t buffer_alignment_for(std::size_t bytes) noexcept {
  return bytes >= huge_page_bytes ? huge_page_bytes : buffer_alignment;
}
}  // namespace detail

/// An owning, 64-byte-aligned array of trivially copyable `T`, zero-initialized, movable and
/// deep-copyable. Used for parameter arenas, gradients, optimizer state and workspaces.
template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "frost::aligned_buffer: T must be trivially copyable");

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t n) : size_(n) {
    if (n != 0) {
      const std::size_t bytes = n * sizeof(T);
      data_ = static_cast<T*>(::operator new(bytes, std::align_val_t{detail::buffer_alignment_for(bytes)}));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      // Advice only: where the kernel does not give huge pages, nothing changes.
      if (bytes >= huge_page_bytes) (void)::madvise(static_cast<void*>(data_), bytes, MADV_HUGEPAGE);
#endif
      std::memset(static_cast<void*>(data_), 0, bytes);
    }
  }
  aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
    if (size_ != 0) std::memcpy(static_cast<void*>(data_), other.data_, size_ * sizeof(T));
  }
  aligned_buffer(aligned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  aligned_buffer& operator=(aligned_buffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~aligned_buffer() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{detail::buffer_alignment_for(size_ * sizeof(T))});
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<T> span() noexcept { return {data_, size_}; }
  std::span<const T> span() const noexcept { return {data_, size_}; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace frost
