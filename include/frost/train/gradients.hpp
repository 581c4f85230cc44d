#pragma once
/// \file
/// `gradients<Model>`: gradient storage for a model's trainable parameters only, mirroring the
/// trainable arena; `no_gradient` for everything frozen.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/storage.hpp>
#include <frost/graph/frozen.hpp>

#include <cstddef>
#include <span>

namespace frost {

/// What `gradients<M>::layer<i>()` returns for a frozen (or parameter-free) layer: the
/// compile-time counterpart of the `None` that `tape.gradient` returns in Keras.
struct no_gradient {};

/// The gradients of every trainable parameter of `Model`, in one 64-byte-aligned block laid out
/// exactly as the model's trainable arena. `size == Model::trainable_param_count`.
/// ```cpp
/// auto [loss, grads] = frost::value_and_grad(model, frost::categorical_crossentropy{}, x, y);
/// std::span<float, 32 * 10> gk = grads.layer<2>().kernel();
/// ```
template <class Model>
class gradients {
 public:
  using model_type = Model;
  using scalar_type = typename Model::scalar_type;
  static constexpr std::size_t size = Model::trainable_param_count;

  gradients() : data_(size) {}

  /// Layer `I`'s gradients (`kernel()`, `bias()`), or `no_gradient` when it is frozen.
  template <std::size_t I>
  auto layer() noexcept {
    return view_<I, scalar_type>(data_.data());
  }
  template <std::size_t I>
  auto layer() const noexcept {
    return view_<I, const scalar_type>(data_.data());
  }

  std::span<scalar_type, size> values() noexcept { return std::span<scalar_type, size>(data_.data(), size); }
  std::span<const scalar_type, size> values() const noexcept {
    return std::span<const scalar_type, size>(data_.data(), size);
  }
  scalar_type* data() noexcept { return data_.data(); }
  const scalar_type* data() const noexcept { return data_.data(); }

 private:
  template <std::size_t I, class T, class P>
  static auto view_(P* base) noexcept {
    static_assert(I < Model::layer_count, "frost::gradients::layer<I>: index out of range");
    constexpr std::size_t node = Model::template node_of_layer<I>;
    if constexpr (Model::plan.trainable_offset[node] == Model::plan.npos) return no_gradient{};
    else return Model::template node_gradient_view<node>(base + Model::plan.trainable_offset[node]);
  }

  detail::arena_t<scalar_type, size, typename Model::storage_type> data_;
};

}  // namespace frost
