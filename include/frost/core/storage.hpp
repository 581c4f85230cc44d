#pragma once
/// \file
/// `storage::heap` and `storage::inline_`: where a model keeps its parameter, state and optimizer
/// arenas. `heap` (the default) allocates each arena once, 64-byte aligned (core/aligned_buffer.hpp);
/// `inline_` keeps them inside the object (`inline_buffer<T, N>`, a 64-byte-aligned array), so a
/// program without a heap can hold, run and train the model and `sizeof` is a compile-time fact.
/// ```cpp
/// using filter = frost::sequential<frost::input<8>, frost::dense<32, frost::tanh_activation>,
///                                  frost::dense<1>, frost::storage::inline_>;
/// static filter model;                       // in static storage: no heap anywhere
/// static_assert(sizeof(filter) >= filter::param_count * sizeof(float));
/// ```

#include <frost/core/aligned_buffer.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <type_traits>

namespace frost {

namespace storage {
/// Arenas on the heap, allocated once when the model (optimizer, trainer, inference object) is
/// made; moving the object moves pointers. The default.
struct heap {};
/// Arenas inside the object: nothing is allocated, moving copies the arrays. For models small
/// enough to sit in static storage or on a stack (a few kilobytes for a real-time filter).
struct inline_ {};
}  // namespace storage

/// A storage policy: `storage::heap` or `storage::inline_`.
template <class S>
inline constexpr bool is_storage_policy_v = std::is_same_v<S, storage::heap> || std::is_same_v<S, storage::inline_>;

/// `N` scalars inside the object, 64-byte aligned and zero-initialized: the inline twin of
/// `aligned_buffer<T>`, with the same `data()`, `size()` and `span()`. Like a moved-from
/// `aligned_buffer`, a moved-from `inline_buffer` is empty (`data()` is null), so a moved-from
/// model reports that it holds no weights whichever storage it uses.
template <class T, std::size_t N>
class inline_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "frost::inline_buffer: T must be trivially copyable");

 public:
  inline_buffer() noexcept = default;
  /// `n` must be N: the run-time size the heap twin would take.
  explicit inline_buffer(std::size_t) noexcept : inline_buffer() {}
  inline_buffer(const inline_buffer&) noexcept = default;
  inline_buffer(inline_buffer&& other) noexcept : data_(other.data_), live_(other.live_) { other.live_ = false; }
  inline_buffer& operator=(const inline_buffer&) noexcept = default;
  inline_buffer& operator=(inline_buffer&& other) noexcept {
    data_ = other.data_;
    live_ = other.live_;
    other.live_ = false;
    return *this;
  }

  T* data() noexcept { return live_ && N != 0 ? data_.data() : nullptr; }
  const T* data() const noexcept { return live_ && N != 0 ? data_.data() : nullptr; }
  std::size_t size() const noexcept { return live_ ? N : 0; }
  std::span<T> span() noexcept { return {data(), size()}; }
  std::span<const T> span() const noexcept { return {data(), size()}; }

 private:
  alignas(buffer_alignment) std::array<T, N> data_{};
  bool live_ = true;
};

namespace detail {
/// The arena of `N` scalars under policy `Storage`.
template <class T, std::size_t N, class Storage>
struct arena_for {
  using type = aligned_buffer<T>;
};
template <class T, std::size_t N>
struct arena_for<T, N, storage::inline_> {
  using type = inline_buffer<T, N>;
};
template <class T, std::size_t N, class Storage>
using arena_t = typename arena_for<T, N, Storage>::type;

/// Bytes a buffer holds on the heap: all of an `aligned_buffer`, none of an `inline_buffer`.
template <class T>
std::size_t heap_bytes(const aligned_buffer<T>& b) noexcept {
  return b.size() * sizeof(T);
}
template <class T, std::size_t N>
std::size_t heap_bytes(const inline_buffer<T, N>&) noexcept {
  return 0;
}

/// A workspace of `N` scalars: on the heap (sized at run time) when `N` is 0, inline otherwise.
template <class T, std::size_t N>
using workspace_t = std::conditional_t<N == 0, aligned_buffer<T>, inline_buffer<T, N>>;
}  // namespace detail

}  // namespace frost
