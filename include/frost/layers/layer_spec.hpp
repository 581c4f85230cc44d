#pragma once
/// \file
/// The layer protocol: what a layer spec provides for the plan (graph/plan.hpp) and the passes
/// (graph/forward.hpp, graph/backward.hpp) to run it, checked member by member
/// (`layer_protocol_member`), with every optional fact defaulted in one place (`layer_traits`).
/// docs/layers.md walks through writing a layer.
///
/// A layer spec is an empty type `L`. For an input shape `In` (a `shape<...>`; a merge layer
/// takes several, `In...`) and a scalar type `T` it gives:
///
///  | member                          | what                                                              |
///  |---------------------------------|-------------------------------------------------------------------|
///  | `keras_name`                    | Keras's snake_case name: `"dense"`                                 |
///  | `expected_input`                | a type naming the requirement, printed in compile errors            |
///  | `accepts<In...>`                | does it take inputs of these shapes?                               |
///  | `output_shape<In...>`           | the shape it produces                                              |
///  | `param_count<In...>`            | its parameters (0: none)                                           |
///  | `params<In..., T>`              | a view over its parameter block (`kernel()`, `bias()`)             |
///  | `initialize<In...>(T*, random_stream&)` | Keras's default initialization                             |
///  | `forward<In...>(const forward_args<T>&)` | y from x                                                  |
///  | `backward<In...>(stage<S>, const backward_args<T>&)` | one entry point for every backward stage (below) |
///
/// Optional facts, read through `layer_traits<L>` (defaults in brackets): `param_grad_reads_input`
/// [false], `backward_reads_output` [false], `backward_reads_input` [false], `extra_kept<In...>` [0]
/// (scalars per sample it keeps for its own backward), `extra_kept_for_params` [false] (it keeps
/// them for its weight gradient only: none when frozen), `scratch<In...>` [0] (scalars per sample
/// of working space for one forward or backward call, not kept), `state_count<In...>` [0]
/// (non-trainable state such as moving statistics, in the model's state arena, updated only by
/// training-mode passes), `flops<In...>` [2·param_count] (floating-point operations per sample of
/// its forward product, for the thread split policy), `rows_independent` [false] (each sample's
/// output depends on that sample alone, so a step may split the batch across threads),
/// `splits_units` [false] (forward and the params stage honour `share` as a share of the output
/// units), `param_grad_splits_units` [splits_units] (the params stage alone does), `fuses_activation` [false] (the params stage can apply f' itself: see below),
/// `input_after_params` [false] (the input stage reads what the params stage left in scratch, so
/// it runs second even when a fused update changes the parameters in the params stage: the
/// layer then keeps what the input stage needs of its parameters in scratch too),
/// `reduction_rows<In...>` [1] (rows per sample its weight-gradient products reduce over: a
/// convolution's output positions; 0 for a layer whose params stage never stores partial sums),
/// `merge` [false] (it takes several inputs), `frozen_form` [L] (the spec that runs when the
/// layer is frozen: batch normalization becomes its inference-mode affine form),
/// `gradient_params<In..., T>` [params] (the view of its gradient block), `variables<In...>`
/// [one variable `params` over the parameter block, one `state` over the state block] (its
/// variables as weight files name and shape them, in Keras's save order). Epilogue fusion (the
/// plan computes a producer, a per-channel affine and an activation as one product where nothing
/// reads the values between them): `fusable_producer<In...>` [false] (a product with a linear
/// activation that provides `forward_fused<In...>(args, scale, shift, f)`: y = f(scale·(x·W + b)
/// + shift) per output channel), `affine_in_training` / `affine_in_inference` [false] (in that
/// mode the layer is y = x·s + t per channel, with `affine<In...>(params, state, s, t)`),
/// `pointwise_activation` [false] (y = f(x) for the elementwise functor `epilogue_function`),
/// `activation_epilogue` [false] (a layer that is not a product but provides `forward_fused(args,
/// nullptr, nullptr, f)`, applying f to its output: batch normalization).
///
/// Backward stages (the first argument of `backward`, a compile-time `stage<S>` so that a stage
/// the plan never calls is never instantiated), called only where the plan needs them:
///  - `activation`: g ← f'(…)·g in place (dL/dy → dL/dz) for `rows` rows. Layers with parameters.
///  - `params`: dparams ← ∂L/∂params from x and g (dL/dz; or dL/dy when `with_activation`, the
///    layer then applies f' to g in place as it goes, needing `fuses_activation`). `share` is a
///    share of the units when the layer `splits_units`; shares may run at once. A layer may take
///    a third argument, a gradient sink (kernels/gradient_sink.hpp), and hand it each finished
///    piece of its gradient instead of storing it (dparams then holds only partial sums, if
///    any): a fused trainer's sink applies the optimizer there. A layer without that argument
///    stores its whole block, and a fused trainer updates from it once the stage is done.
///  - `input`: dx (= or, with `accumulate`, +=) dL/d(input `input`) for `rows` rows (the passes
///    offset every row pointer); with `with_activation`, f' is applied to g's rows first. A layer
///    whose rows are not independent but `splits_units` gets `share` of the units instead.
/// The plan calls no stage for layers below the first trainable one and never `params` for a
/// frozen layer: a frozen layer's weight gradient is not even instantiated.

#include <frost/core/part.hpp>
#include <frost/core/random.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace frost {

/// What `model.layer<i>()` gives for a layer without parameters.
struct no_parameters {
  explicit constexpr no_parameters(const void*) noexcept {}
  constexpr no_parameters() noexcept = default;
};

/// The protocol members of a layer without parameters, to derive from: `param_count` 0, the
/// `no_parameters` view, nothing to initialize.
struct parameter_free {
  template <class... In>
  static constexpr std::size_t param_count = 0;
  template <class... InAndT>
  using params = no_parameters;
  template <class... In, class T>
  static void initialize(T*, random_stream&) noexcept {}
};

/// The arguments of a layer's forward pass, for rows [0, rows) of its input(s).
template <class T>
struct forward_args {
  const T* params = nullptr;         ///< its parameter block (null: none)
  const T* x = nullptr;              ///< its (first) input, `rows` × In::size
  const T* const* inputs = nullptr;  ///< every input (merge layers), each offset to the same rows
  std::size_t rows = 0;
  T* y = nullptr;                    ///< its output, `rows` × Out::size
  T* kept = nullptr;                 ///< its `extra_kept` buffer in training (else null)
  part share = part::whole();        ///< the share of output units to compute (`splits_units`)
  T* state = nullptr;                ///< its state block (`state_count`); written only when `training`
  T* scratch = nullptr;              ///< its `scratch` space for these rows
  bool training = false;             ///< Keras's `training` argument: a training-mode pass
  std::uint64_t noise = 0;           ///< the key of its random stream in this pass (dropout)
  std::size_t first_row = 0;         ///< the batch row that row 0 of `x` is (random streams per row)
};

/// The stages of a layer's backward pass (see the header comment).
enum class backward_stage { activation, params, input };

/// A backward stage as a type: `backward<In>(stage<backward_stage::params>{}, args)`.
template <backward_stage S>
struct stage {
  static constexpr backward_stage value = S;
};

/// The arguments of a layer's backward pass.
template <class T>
struct backward_args {
  const T* params = nullptr;    ///< its parameter block
  const T* x = nullptr;         ///< its input rows (when kept: param_grad_reads_input / backward_reads_input)
  const T* y = nullptr;         ///< its output rows (when kept: backward_reads_output)
  const T* kept = nullptr;      ///< its extra_kept rows
  T* g = nullptr;               ///< dL/dy rows; becomes dL/dz in place where f' is applied
  std::size_t rows = 0;
  T* dparams = nullptr;         ///< params stage: the gradient block, laid out as the parameters
  T* dx = nullptr;              ///< input stage: dL/d(input `input`) rows
  std::size_t input = 0;        ///< input stage: which input (merge layers)
  bool accumulate = false;      ///< input stage: add into dx instead of overwriting it
  bool with_activation = false; ///< params/input stage: apply f' to g first
  part share = part::whole();   ///< params stage: the share of units (`splits_units`)
  const T* state = nullptr;     ///< its state block (`state_count`)
  T* scratch = nullptr;         ///< its `scratch` space for these rows
};

/// One variable of a layer as weight files see it: its name (`kernel`), where it lives (the
/// layer's parameter block or its state block, at `offset` scalars from the block's start) and
/// its shape in Keras's layout (`dims[0..rank)`, row-major).
struct variable {
  std::string_view name{};
  bool state = false;
  std::size_t offset = 0;
  std::size_t rank = 1;
  std::array<std::size_t, 4> dims{};
  constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
};

namespace detail {
template <class L, class... In>
constexpr std::size_t extra_kept_of() {
  if constexpr (requires { L::template extra_kept<In...>; }) return L::template extra_kept<In...>;
  else return 0;
}
template <class L, class... In>
constexpr std::size_t scratch_of() {
  if constexpr (requires { L::template scratch<In...>; }) return L::template scratch<In...>;
  else return 0;
}
template <class L, class... In>
constexpr std::size_t state_count_of() {
  if constexpr (requires { L::template state_count<In...>; }) return L::template state_count<In...>;
  else return 0;
}
template <class L, class... In>
constexpr double flops_of() {
  if constexpr (requires { L::template flops<In...>; }) return static_cast<double>(L::template flops<In...>);
  else return 2.0 * static_cast<double>(L::template param_count<In...>);
}
// A layer's variables; without a `variables` member, `params` (its parameter block) and
// `state` (its state block), each one-dimensional.
template <class L, class... In>
constexpr auto variables_of() {
  if constexpr (requires { L::template variables<In...>; }) {
    return L::template variables<In...>;
  } else {
    constexpr std::size_t p = L::template param_count<In...>, s = state_count_of<L, In...>();
    std::array<variable, (p != 0) + (s != 0)> out{};
    std::size_t k = 0;
    if (p != 0) out[k++] = variable{"params", false, 0, 1, {p}};
    if (s != 0) out[k] = variable{"state", true, 0, 1, {s}};
    return out;
  }
}
template <class L>
struct frozen_form_of {
  using type = L;
};
template <class L>
  requires requires { typename L::frozen_form; }
struct frozen_form_of<L> {
  using type = typename L::frozen_form;
};
}  // namespace detail

/// The optional facts of layer spec `L`, with their defaults: the one place defaults live.
template <class L>
struct layer_traits {
  static constexpr bool param_grad_reads_input = [] {
    if constexpr (requires { L::param_grad_reads_input; }) return bool(L::param_grad_reads_input);
    else return false;
  }();
  static constexpr bool backward_reads_output = [] {
    if constexpr (requires { L::backward_reads_output; }) return bool(L::backward_reads_output);
    else return false;
  }();
  static constexpr bool backward_reads_input = [] {
    if constexpr (requires { L::backward_reads_input; }) return bool(L::backward_reads_input);
    else return false;
  }();
  static constexpr bool rows_independent = [] {
    if constexpr (requires { L::rows_independent; }) return bool(L::rows_independent);
    else return false;
  }();
  static constexpr bool splits_units = [] {
    if constexpr (requires { L::splits_units; }) return bool(L::splits_units);
    else return false;
  }();
  /// The params stage honours `share` as a share of the units (default: as `splits_units`).
  static constexpr bool param_grad_splits_units = [] {
    if constexpr (requires { L::param_grad_splits_units; }) return bool(L::param_grad_splits_units);
    else return splits_units;
  }();
  static constexpr bool fuses_activation = [] {
    if constexpr (requires { L::fuses_activation; }) return bool(L::fuses_activation);
    else return false;
  }();
  static constexpr bool merge = [] {
    if constexpr (requires { L::merge; }) return bool(L::merge);
    else return false;
  }();
  static constexpr bool extra_kept_for_params = [] {
    if constexpr (requires { L::extra_kept_for_params; }) return bool(L::extra_kept_for_params);
    else return false;
  }();
  static constexpr bool input_after_params = [] {
    if constexpr (requires { L::input_after_params; }) return bool(L::input_after_params);
    else return false;
  }();
  template <class... In>
  static constexpr std::size_t reduction_rows = [] {
    if constexpr (requires { L::template reduction_rows<In...>; }) return std::size_t{L::template reduction_rows<In...>};
    else return std::size_t{1};
  }();
  template <class... In>
  static constexpr std::size_t extra_kept = detail::extra_kept_of<L, In...>();
  template <class... In>
  static constexpr std::size_t scratch = detail::scratch_of<L, In...>();
  template <class... In>
  static constexpr std::size_t state_count = detail::state_count_of<L, In...>();
  template <class... In>
  static constexpr double flops = detail::flops_of<L, In...>();
  template <class... In>
  static constexpr auto variables = detail::variables_of<L, In...>();
  /// The spec that runs when `L` is frozen.
  using frozen_form = typename detail::frozen_form_of<L>::type;
  template <class... In>
  static constexpr bool fusable_producer = [] {
    if constexpr (requires { L::template fusable_producer<In...>; }) return bool(L::template fusable_producer<In...>);
    else return false;
  }();
  static constexpr bool affine_in_training = [] {
    if constexpr (requires { L::affine_in_training; }) return bool(L::affine_in_training);
    else return false;
  }();
  static constexpr bool affine_in_inference = [] {
    if constexpr (requires { L::affine_in_inference; }) return bool(L::affine_in_inference);
    else return false;
  }();
  static constexpr bool activation_epilogue = [] {
    if constexpr (requires { L::activation_epilogue; }) return bool(L::activation_epilogue);
    else return false;
  }();
  static constexpr bool pointwise_activation = [] {
    if constexpr (requires { L::pointwise_activation; }) return bool(L::pointwise_activation);
    else return false;
  }();
};

/// A layer spec as far as it can be checked without an input shape: a Keras name and an expected
/// input. `layer_protocol_member` checks the rest once the input shapes are known.
template <class L>
concept layer_spec = requires {
  { L::keras_name } -> std::convertible_to<std::string_view>;
  typename L::expected_input;
};

/// The members of the layer protocol, as types that read well in a compile error.
namespace protocol {
struct accepts;
struct output_shape;
struct param_count;
struct params;
struct initialize;
struct forward;
struct backward;
}  // namespace protocol

namespace detail {
// The parameter view type of L on inputs In... (alias templates take no pack expansion into a
// parameter that is not a pack, so one input and several go separate ways).
template <class L, class T, class... In>
struct params_type {
  using type = typename L::template params<In..., T>;
};
template <class L, class T, class In>
struct params_type<L, T, In> {
  using type = typename L::template params<In, T>;
};
// The view of its gradient block: `gradient_params` where the layer has one, else `params`.
template <class L, class T, class... In>
struct gradient_params_type : params_type<L, T, In...> {};
template <class L, class T, class In>
  requires requires { typename L::template gradient_params<In, T>; }
struct gradient_params_type<L, T, In> {
  using type = typename L::template gradient_params<In, T>;
};

template <class L, class T, class... In>
constexpr bool has_member(protocol::accepts*) {
  return requires { { L::template accepts<In...> } -> std::convertible_to<bool>; };
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::output_shape*) {
  return requires { typename L::template output_shape<In...>; };
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::param_count*) {
  return requires { { L::template param_count<In...> } -> std::convertible_to<std::size_t>; };
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::params*) {
  if constexpr (requires { typename params_type<L, T, In...>::type; })
    return std::is_constructible_v<typename params_type<L, T, In...>::type, T*> ||
           (state_count_of<L, In...>() > 0 && std::is_constructible_v<typename params_type<L, T, In...>::type, T*, T*>);
  else
    return false;
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::initialize*) {
  return requires(T* p, random_stream& r) { L::template initialize<In...>(p, r); } ||
         requires(T* p, T* state, random_stream& r) { L::template initialize<In...>(p, state, r); };
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::forward*) {
  return requires(const forward_args<T>& a) { L::template forward<In...>(a); };
}
template <class L, class T, class... In>
constexpr bool has_member(protocol::backward*) {
  return requires(const backward_args<T>& a) { L::template backward<In...>(stage<backward_stage::input>{}, a); };
}
}  // namespace detail

/// Compile-error predicate: layer `Index` (a `Layer`, taking inputs of shapes `In...`) provides
/// protocol member `Member` (one of `frost::protocol::*`).
template <std::size_t Index, class Layer, class Member, class T, class... In>
inline constexpr bool layer_protocol_member = detail::has_member<Layer, T, In...>(static_cast<Member*>(nullptr));

namespace detail {
/// The first protocol member `L` lacks for inputs `In...` (void: none).
template <class L, class T, class... In>
constexpr auto missing_member() {
  if constexpr (!has_member<L, T, In...>(static_cast<protocol::accepts*>(nullptr))) return static_cast<protocol::accepts*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::output_shape*>(nullptr))) return static_cast<protocol::output_shape*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::param_count*>(nullptr))) return static_cast<protocol::param_count*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::params*>(nullptr))) return static_cast<protocol::params*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::initialize*>(nullptr))) return static_cast<protocol::initialize*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::forward*>(nullptr))) return static_cast<protocol::forward*>(nullptr);
  else if constexpr (!has_member<L, T, In...>(static_cast<protocol::backward*>(nullptr))) return static_cast<protocol::backward*>(nullptr);
  else return static_cast<void*>(nullptr);
}
template <class L, class T, class... In>
using missing_member_t = std::remove_pointer_t<decltype(missing_member<L, T, In...>())>;
}  // namespace detail

/// Lets `Spec{}(x)` connect a layer in a functional model: `dense<64, relu>{}(in)`. The call is
/// resolved by argument-dependent lookup of `connect` in graph/, where symbolic tensors live.
/// It is `consteval`: symbolic tensors are empty values whose types are the graph, so building
/// a graph leaves no function behind in the program (whose names would grow with the graph).
template <class Spec>
struct layer_call {
  template <class... X>
  consteval auto operator()(X... x) const {
    return connect(Spec{}, x...);
  }
};

}  // namespace frost
