#pragma once
/// \file
/// `aligned_buffer<T>`: one 64-byte-aligned heap array, allocated once, zero-initialized.

#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

namespace frost {

/// Alignment of every buffer frost allocates: one cache line, a whole AVX-512 register.
inline constexpr std::size_t buffer_alignment = 64;

/// An owning, 64-byte-aligned array of trivially copyable `T`, zero-initialized, movable and
/// deep-copyable. Used for parameter arenas, gradients, optimizer state and workspaces.
template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "frost::aligned_buffer: T must be trivially copyable");

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t n) : size_(n) {
    if (n != 0) {
      data_ = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{buffer_alignment}));
      std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
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
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{buffer_alignment});
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
