#pragma once
/// \file
/// `layer_spec`: what a layer type must provide for the plan (graph/plan.hpp) to run it.
///
/// A layer spec is an empty type. For an input shape `In` (a `shape<...>`) it gives:
///  - `keras_name`; `accepts<In>` and `expected_input` (a type naming the requirement, for errors);
///  - `output_shape<In>`, `param_count<In>`;
///  - what its backward reads: `param_grad_reads_input`, `backward_reads_output`, and optionally
///    `backward_reads_input` (false if absent), `extra_kept<In>` (scalars per sample it keeps for
///    itself, 0 if absent) and `pointwise` (false if absent: see below);
///  - `params<In, T>`: a view over its parameter block (e.g. `kernel()`, `bias()`);
///  - `initialize<In>(T* params, random_stream&)`: Keras default initialization;
///  - `forward<In>(params, x, rows, y, kept)` (`kept`: its extra buffer in training, else null);
///    and, called only when the plan needs them, `backward_activation<In>(x, y, kept, g, out,
///    rows)` (dL/dy in g → dL/dz in out; out == g except for pointwise layers, whose out is
///    dL/d(input) and which have no param_grad or input_grad), `param_grad<In>(x, dz, rows,
///    dparams)` and `input_grad<In>(params, dz, rows, dx)`. Optionally
///    `activation_and_param_grad<In>(x, y, kept, g, rows, dparams)`: backward_activation and
///    param_grad in one pass, used for trainable layers when present. Both param_grad forms may
///    take a trailing `part` (core/part.hpp): the step then splits them across its threads.
///  - optionally `rows_independent` (false if absent): each sample's output, and its share of
///    dL/d(input), depend on that sample alone, so a step may split the batch across threads.
/// The plan instantiates `param_grad` only for trainable layers and no backward member at all
/// for layers below the first trainable one.

#include <cstddef>
#include <string_view>
#include <concepts>

namespace frost {

template <class L>
concept layer_spec = requires {
  { L::keras_name } -> std::convertible_to<std::string_view>;
  typename L::expected_input;
  { L::param_grad_reads_input } -> std::convertible_to<bool>;
  { L::backward_reads_output } -> std::convertible_to<bool>;
};

namespace detail {
template <class L>
constexpr bool backward_reads_input_of() {
  if constexpr (requires { L::backward_reads_input; }) return L::backward_reads_input;
  else return false;
}
template <class L>
constexpr bool pointwise_of() {
  if constexpr (requires { L::pointwise; }) return L::pointwise;
  else return false;
}
template <class L>
constexpr bool rows_independent_of() {
  if constexpr (requires { L::rows_independent; }) return L::rows_independent;
  else return false;
}
template <class L, class In>
constexpr std::size_t extra_kept_of() {
  if constexpr (requires { L::template extra_kept<In>; }) return L::template extra_kept<In>;
  else return 0;
}
}  // namespace detail

}  // namespace frost
