#pragma once
/// \file
/// `sequential<input<...>, Layers...>`: a linear stack of layers whose frozen/trainable status
/// is part of the type. Keras `keras.Sequential([...])`.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/graph/execute.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/plan.hpp>
#include <frost/layers/input.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

namespace frost {

/// Compile-error predicate: layer `Index` (a `Layer`) expects an input `Expected` and gets
/// `Got`. Both compilers print its arguments when the check fails.
template <std::size_t Index, class Layer, class Expected, class Got>
inline constexpr bool layer_input_fits = std::is_same_v<Got, invalid_shape> || unfrozen_t<Layer>::template accepts<Got>;

/// Compile-error predicate: entry `Index` of a sequential model is not a layer spec.
template <std::size_t Index, class Layer>
inline constexpr bool is_layer_spec_at = layer_spec<unfrozen_t<Layer>>;

namespace detail {

template <class S, class L>
struct next_shape {
  using type = invalid_shape;
};
template <class S, class L>
  requires(!std::is_same_v<S, invalid_shape> && layer_spec<unfrozen_t<L>>)
struct next_shape<S, L> {
  using U = unfrozen_t<L>;
  using type = std::conditional_t<U::template accepts<S>, typename U::template output_shape<S>, invalid_shape>;
};
template <class L>
  requires(layer_spec<unfrozen_t<L>>)
struct next_shape<invalid_shape, L> {
  using type = invalid_shape;
};

// Shape propagation as one left fold over the layers: the accumulator carries the running
// shape and the list of every layer's input shape. No recursive templates.
template <class... S>
struct shape_list {};
template <class Last, class List>
struct shape_acc {};
template <class L>
struct layer_tag {};
template <class Last, class... S, class L>
auto operator|(shape_acc<Last, shape_list<S...>>, layer_tag<L>)
    -> shape_acc<typename next_shape<Last, L>::type, shape_list<S..., Last>>;

template <class In, class... Ls>
using propagate_t = decltype((shape_acc<In, shape_list<>>{} | ... | layer_tag<Ls>{}));

template <class Acc>
struct acc_parts;
template <class Last, class... S>
struct acc_parts<shape_acc<Last, shape_list<S...>>> {
  using output = Last;
  using inputs = std::tuple<S...>;
};

template <class T, class S>
struct matrix_for {
  using type = matrix<T, 1>;  // only reached after a reported shape error
};
template <class T, std::size_t... D>
struct matrix_for<T, shape<D...>> {
  using type = matrix<T, D...>;
};

template <class L, class In>
constexpr std::size_t param_count_of() {
  if constexpr (std::is_same_v<In, invalid_shape> || !layer_spec<unfrozen_t<L>>) return 0;
  else return unfrozen_t<L>::template param_count<In>;
}

template <class L, class In>
constexpr node_facts facts_of(std::size_t index) {
  node_facts f{};
  f.parent = index == 0 ? model_input : index - 1;
  f.in_size = In::size;
  if constexpr (layer_spec<unfrozen_t<L>> && !std::is_same_v<In, invalid_shape>) {
    using U = unfrozen_t<L>;
    f.out_size = next_shape<In, L>::type::size;
    f.params = param_count_of<L, In>();
    f.frozen = is_frozen_v<L>;
    f.param_grad_reads_input = U::param_grad_reads_input;
    f.backward_reads_output = U::backward_reads_output;
    f.backward_reads_input = backward_reads_input_of<U>();
    f.extra_kept = extra_kept_of<U, In>();
    f.pointwise = pointwise_of<U>();
  }
  return f;
}

template <class In>
struct input_shape_of {
  using type = invalid_shape;  // reported by sequential's first static_assert
};
template <std::size_t... D>
struct input_shape_of<input<D...>> {
  using type = shape<D...>;
};

template <std::size_t I, class L, class In>
constexpr bool check_layer() {
  static_assert(is_layer_spec_at<I, L>,
                "frost::sequential: every entry after input<...> must be a layer spec (dense<...>, frozen<...>)");
  if constexpr (is_layer_spec_at<I, L>) {
    static_assert(layer_input_fits<I, L, typename unfrozen_t<L>::expected_input, In>,
                  "frost::sequential: layer input shape does not match the previous layer's output");
  }
  return true;
}

}  // namespace detail

/// A sequential model over scalar type `T`. Use the alias `sequential<...>` for float.
///
/// The first argument is `input<...>`; each following one a layer spec, optionally
/// `frozen<...>`. Parameters live in two 64-byte-aligned heap arenas, trainable and frozen,
/// allocated once; `layer<i>()` views a layer's block in place (Keras layout).
/// ```cpp
/// using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>,
///                               frost::dense<10, frost::softmax>>;
/// net m = net::init(42);
/// auto p = m(x);   // inference
/// ```
template <class T, class In, class... Ls>
class basic_sequential {
  static_assert(std::is_floating_point_v<T>, "frost::sequential: the scalar type must be float or double");
  static_assert(is_input_v<In>, "frost::sequential: the first argument must be input<...>, e.g. input<100>");
  static_assert(sizeof...(Ls) >= 1, "frost::sequential: give at least one layer after input<...>");

  using acc_ = detail::propagate_t<typename detail::input_shape_of<In>::type, Ls...>;
  using inputs_ = typename detail::acc_parts<acc_>::inputs;

  template <std::size_t... I>
  static constexpr auto check_(std::index_sequence<I...>) {
    return (detail::check_layer<I, std::tuple_element_t<I, std::tuple<Ls...>>, std::tuple_element_t<I, inputs_>>() && ...);
  }
  static_assert(check_(std::index_sequence_for<Ls...>{}));

  template <std::size_t... I>
  static constexpr std::array<node_facts, sizeof...(Ls)> facts_(std::index_sequence<I...>) {
    return {detail::facts_of<std::tuple_element_t<I, std::tuple<Ls...>>, std::tuple_element_t<I, inputs_>>(I)...};
  }

 public:
  using scalar_type = T;
  using input_type = In;
  using input_shape = typename detail::input_shape_of<In>::type;
  using output_shape = typename detail::acc_parts<acc_>::output;
  using input_matrix = typename detail::matrix_for<T, input_shape>::type;
  using output_matrix = typename detail::matrix_for<T, output_shape>::type;

  /// Number of layers, as Keras counts `model.layers` (the input is not one).
  static constexpr std::size_t layer_count = sizeof...(Ls);
  /// Layer `I` as written in the type, `frozen<...>` included.
  template <std::size_t I>
  using layer_type = std::tuple_element_t<I, std::tuple<Ls...>>;
  /// Input shape of layer `I`.
  template <std::size_t I>
  using layer_input_shape = std::tuple_element_t<I, inputs_>;
  /// Output shape of layer `I`.
  template <std::size_t I>
  using layer_output_shape = typename detail::next_shape<layer_input_shape<I>, layer_type<I>>::type;

  /// The compile-time plan (graph/plan.hpp).
  static constexpr graph_plan<sizeof...(Ls)> plan = make_plan(facts_(std::index_sequence_for<Ls...>{}));
  static constexpr std::size_t trainable_param_count = plan.trainable_count;
  static constexpr std::size_t frozen_param_count = plan.frozen_count;
  static constexpr std::size_t param_count = trainable_param_count + frozen_param_count;

  /// A model initialized as Keras does by default, from seed 0.
  basic_sequential() : basic_sequential(uninitialized_tag{}) { initialize(0); }

  /// A model initialized as Keras does by default (glorot_uniform kernels, zero biases),
  /// deterministically from `seed`. Layer i draws from its own stream, so freezing does not
  /// change what `init(seed)` gives.
  static basic_sequential init(std::uint64_t seed) {
    basic_sequential m{uninitialized_tag{}};
    m.initialize(seed);
    return m;
  }

  /// Views of layer `I`'s parameters (for dense: `kernel()`, `bias()` as fixed-extent spans).
  template <std::size_t I>
  auto layer() noexcept {
    static_assert(I < layer_count, "frost::sequential::layer<I>: index out of range");
    return typename unfrozen_t<layer_type<I>>::template params<layer_input_shape<I>, T>(parameter_block<I>());
  }
  template <std::size_t I>
  auto layer() const noexcept {
    static_assert(I < layer_count, "frost::sequential::layer<I>: index out of range");
    return typename unfrozen_t<layer_type<I>>::template params<layer_input_shape<I>, const T>(parameter_block<I>());
  }

  /// Start of layer `I`'s parameter block, in the trainable or the frozen arena.
  template <std::size_t I>
  T* parameter_block() noexcept {
    if constexpr (plan.frozen_offset[I] != plan.npos) return frozen_.data() + plan.frozen_offset[I];
    else if constexpr (plan.trainable_offset[I] != plan.npos) return trainable_.data() + plan.trainable_offset[I];
    else return nullptr;
  }
  template <std::size_t I>
  const T* parameter_block() const noexcept {
    return const_cast<basic_sequential*>(this)->template parameter_block<I>();
  }

  /// False once the model was moved from (e.g. by `freeze`/`unfreeze`): its arenas are gone.
  bool holds_weights() const noexcept {
    return (trainable_param_count == 0 || trainable_.data() != nullptr) &&
           (frozen_param_count == 0 || frozen_.data() != nullptr);
  }

  /// The trainable arena: every trainable parameter, layer after layer.
  std::span<T, trainable_param_count> trainable_parameters() noexcept {
    return std::span<T, trainable_param_count>(trainable_.data(), trainable_param_count);
  }
  std::span<const T, trainable_param_count> trainable_parameters() const noexcept {
    return std::span<const T, trainable_param_count>(trainable_.data(), trainable_param_count);
  }
  /// The frozen arena.
  std::span<T, frozen_param_count> frozen_parameters() noexcept {
    return std::span<T, frozen_param_count>(frozen_.data(), frozen_param_count);
  }
  std::span<const T, frozen_param_count> frozen_parameters() const noexcept {
    return std::span<const T, frozen_param_count>(frozen_.data(), frozen_param_count);
  }

  /// Inference (Keras `model(x)` / `predict`): runs every layer forward, keeps nothing for
  /// backward. Allocates the result and two scratch rows-sized buffers.
  output_matrix operator()(const input_matrix& x) const {
    if (!holds_weights()) detail::throw_moved_model("frost::sequential::operator()");
    output_matrix y(x.rows());
    aligned_buffer<T> ws(detail::inference_workspace_v<basic_sequential> * x.rows());
    detail::forward<false>(*this, x.data(), x.rows(), ws.data(), x.rows(), y.data());
    return y;
  }

  struct uninitialized_tag {};
  /// Allocates zeroed arenas without initializing (used by freeze/unfreeze and loaders).
  explicit basic_sequential(uninitialized_tag)
      : trainable_(trainable_param_count), frozen_(frozen_param_count) {}

 private:
  void initialize(std::uint64_t seed) {
    init_layers_(seed, std::index_sequence_for<Ls...>{});
  }
  template <std::size_t... I>
  void init_layers_(std::uint64_t seed, std::index_sequence<I...>) {
    (init_layer_<I>(seed), ...);
  }
  template <std::size_t I>
  void init_layer_(std::uint64_t seed) {
    if constexpr (plan.facts[I].params > 0) {
      random_stream rng(seed * 0x100000001b3ULL + I);
      unfrozen_t<layer_type<I>>::template initialize<layer_input_shape<I>>(parameter_block<I>(), rng);
    }
  }

  aligned_buffer<T> trainable_;
  aligned_buffer<T> frozen_;
};

/// A sequential model of `float`: `sequential<input<100>, dense<64, relu>, dense<10, softmax>>`.
template <class In, class... Ls>
using sequential = basic_sequential<float, In, Ls...>;

}  // namespace frost
