#pragma once
/// \file
/// The forward pass, generated from a model's plan: one call per node in Keras's layer order,
/// unrolled with a fold expression. Training writes every output where the plan's training
/// layout says; inference uses the inference layout and writes the model output into the
/// caller's buffer.

#include <frost/core/denormals.hpp>
#include <frost/core/part.hpp>
#include <frost/core/random.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/detail/register_chain.hpp>
#include <frost/graph/detail/schedule.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/model.hpp>
#include <frost/graph/plan.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace frost::detail {

/// Where node I's output starts, as a whole matrix: model inputs are the caller's; in training,
/// kept outputs (all that backward and the loss read) are in the workspace's first region.
template <bool Training, class Model, std::size_t I, class T>
const T* node_output(const pass_buffers<T>& b) noexcept {
  constexpr auto& p = Model::plan;
  if constexpr (p.input_position[I] != p.npos) return b.x[p.input_position[I]];
  else if constexpr (Training) return b.ws + p.output_offset[I] * b.cap;
  else if constexpr (I == Model::output_node) return b.out;
  else return b.ws + p.inference_offset[I] * b.cap;
}

/// Row `r.begin` of node I's output in a forward pass. Kept outputs (training) and model
/// inputs and outputs are whole matrices, row after row. Transient outputs live where the plan
/// lets buffers of other lifetimes share space; when the batch is split by rows and each share
/// runs every node without waiting for the others (`ShareLocal`), one share could then write a
/// later buffer over rows another share still reads. So there each share lays out the transient
/// region for its own rows alone: its rows × the region's scalars per sample, at its first row.
template <bool Training, bool ShareLocal, class Model, std::size_t I, class T>
T* forward_row(const pass_buffers<T>& b, index_range r) noexcept {
  constexpr auto& p = Model::plan;
  constexpr std::size_t size = p.facts[I].out_size;
  constexpr bool kept = Training && p.keeps_output[I];
  constexpr std::size_t base = Training ? p.kept_per_sample : 0;
  constexpr std::size_t region = Training ? p.workspace_per_sample - p.kept_per_sample : p.inference_per_sample;
  constexpr std::size_t offset = Training ? p.output_offset[I] : p.inference_offset[I];
  if constexpr (p.input_position[I] != p.npos) return const_cast<T*>(b.x[p.input_position[I]]) + r.begin * size;
  else if constexpr (!Training && I == Model::output_node) return b.out + r.begin * size;
  else if constexpr (kept || !ShareLocal) return b.ws + offset * b.cap + r.begin * size;
  else return b.ws + base * b.cap + r.begin * region + (offset - base) * r.size();
}

/// Row `r.begin` of node I's scratch in a forward pass (laid out as a transient output is).
template <bool Training, bool ShareLocal, class Model, std::size_t I, class T>
T* scratch_row(const pass_buffers<T>& b, index_range r) noexcept {
  constexpr auto& p = Model::plan;
  constexpr std::size_t size = p.facts[I].scratch;
  if constexpr (size == 0) {
    return nullptr;
  } else {
    constexpr std::size_t base = Training ? p.kept_per_sample : 0;
    constexpr std::size_t region = Training ? p.workspace_per_sample - p.kept_per_sample : p.inference_per_sample;
    constexpr std::size_t offset = Training ? p.scratch_offset[I] : p.inference_scratch_offset[I];
    if constexpr (!ShareLocal) return b.ws + offset * b.cap + r.begin * size;
    else return b.ws + base * b.cap + r.begin * region + (offset - base) * r.size();
  }
}

/// Node I forward over rows r (and, for layers that split units, `units` of its outputs).
/// The node a fused producer's output goes to: its only reader (the affine of its chain).
template <class Plan>
constexpr std::size_t fused_affine_of(const Plan& p, bool training, std::size_t producer) {
  for (std::size_t n = producer + 1; n < Plan::nodes; ++n)
    if ((training ? p.fused_into[n] : p.inference_fused_into[n]) == producer) return n;
  return producer;
}

/// Node I forward over rows r (and, for layers that split units, `units` of its outputs). A node
/// fused into a product runs inside it; a producer of a fused chain computes the whole chain.
template <bool Training, bool ShareLocal, class Model, std::size_t I, class T>
void forward_node(const Model& m, const pass_buffers<T>& b, index_range r, part units = part::whole()) noexcept {
  constexpr auto& p = Model::plan;
  constexpr node_facts f = p.facts[I];
  constexpr std::size_t into = Training ? p.fused_into[I] : p.inference_fused_into[I];
  constexpr std::size_t last = Training ? p.fused_last[I] : p.inference_fused_last[I];
  if constexpr (f.arity != 0 && into == p.npos) {
    using L = typename Model::template node_spec<I>;
    [&]<class... In>(shape_list<In...>*) {
      std::array<const T*, sizeof...(In)> ins{};
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((ins[J] = forward_row<Training, ShareLocal, Model, p.edges[f.first_edge + J].from>(b, r)), ...);
      }(std::make_index_sequence<sizeof...(In)>{});
      forward_args<T> a;
      a.params = m.template parameter_block<I>();
      a.x = ins[0];
      a.inputs = ins.data();
      a.rows = r.size();
      a.y = forward_row<Training, ShareLocal, Model, last>(b, r);
      if constexpr (Training && p.extra_offset[I] != p.npos)
        a.kept = b.ws + p.extra_offset[I] * b.cap + r.begin * f.extra_kept;
      a.share = units;
      if constexpr (p.state_offset[I] != p.npos) {
        // Inference only reads the state; a training pass gets the arena it may update.
        if constexpr (Training) a.state = b.state + p.state_offset[I];
        else a.state = const_cast<T*>(m.template state_block<I>());
      }
      a.scratch = scratch_row<Training, ShareLocal, Model, I>(b, r);
      a.training = Training;
      a.noise = mix_keys(b.noise, I);
      a.first_row = r.begin;
      if constexpr (last == I) {
        L::template forward<In...>(a);
      } else if constexpr (p.facts[fused_affine_of(p, Training, I)].pointwise_activation) {
        // y = f(the layer's output), f the activation's.
        L::template forward_fused<In...>(a, static_cast<const T*>(nullptr), static_cast<const T*>(nullptr),
                                         typename Model::template node_spec<last>::epilogue_function{});
      } else {
        // y = f(s·(x·W + b) + t): the affine node's s and t per channel, f the activation's.
        constexpr std::size_t J = fused_affine_of(p, Training, I);
        using A = typename Model::template node_spec<J>;
        using AIn = typename Model::template node_input_shapes<J>;
        constexpr std::size_t C = Model::template node_output_shape<J>::dims[Model::template node_output_shape<J>::rank - 1];
        std::array<T, C> scale{}, shift{};
        [&]<class X>(shape_list<X>*) {
          A::template affine<X>(m.template parameter_block<J>(), m.template state_block<J>(), scale.data(), shift.data());
        }(static_cast<AIn*>(nullptr));
        if constexpr (last == J)
          L::template forward_fused<In...>(a, scale.data(), shift.data(), kernels::identity{});
        else
          L::template forward_fused<In...>(a, scale.data(), shift.data(),
                                           typename Model::template node_spec<last>::epilogue_function{});
      }
    }(static_cast<typename Model::template node_input_shapes<I>*>(nullptr));
  }
}

/// One node of a forward pass split node by node: by units where the layer can, else by rows.
template <bool Training, class Model, std::size_t I, class T>
void forward_node_split(const Model& m, const pass_buffers<T>& b, std::size_t rows, thread_pool* pool) noexcept {
  constexpr node_facts f = Model::plan.facts[I];
  const double flops = double(rows) * f.flops;
  if constexpr (f.splits_units) {
    run_parts(pool, worth_splitting(flops, pool), [&](part units) noexcept {
      forward_node<Training, false, Model, I>(m, b, index_range{0, rows}, units);
    });
  } else {
    run_parts(pool, f.rows_independent && worth_splitting(flops, pool), [&](part share) noexcept {
      const index_range r = share.of(rows, Model::plan.row_grain);
      if (!r.empty()) forward_node<Training, false, Model, I>(m, b, r);
    });
  }
}

/// Is the model one input and then a chain of layers that runs in registers (a real-time model
/// such as 1 → 8 tanh → 8 tanh → 1)? One row of inference then goes from the caller's input
/// straight to its output with `run_register_chain<Model, 1>`, no workspace in between.
template <class Model>
consteval bool runs_in_registers() {
  return Model::input_count == 1 && register_chain_start<Model>() == 1 && Model::plan.input_position[0] == 0;
}

/// Runs the model forward over `rows` samples. With a pool, the batch is split by rows across
/// its threads when every layer's rows are independent (no thread waits for another until the
/// end), or, for models with big weight matrices or layers that need the whole batch, node by
/// node, each by units or rows where it can.
template <bool Training, class Model, class T>
void forward(const Model& m, const pass_buffers<T>& b, std::size_t rows, thread_pool* pool = nullptr) noexcept {
  const flush_denormals flush;
  constexpr auto& p = Model::plan;
  constexpr std::size_t n = Model::node_count;
  // One row of inference: the nodes before the model's closing chain of small layers as usual,
  // the chain in registers (graph/detail/register_chain.hpp).
  if constexpr (!Training && register_chain_start<Model>() < n) {
    if (rows == 1) {
      constexpr std::size_t C = register_chain_start<Model>();
      constexpr index_range one{0, 1};
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (forward_node<false, true, Model, I>(m, b, one), ...);
      }(std::make_index_sequence<C>{});
      run_register_chain<Model, C>(m, static_cast<const T*>(forward_row<false, true, Model, C - 1>(b, one)), b.out);
      return;
    }
  }
  // Models whose samples are not independent (batch statistics) go node by node too: each node
  // splits where it can, and a node that needs the whole batch sees it whole.
  if constexpr (p.split_forward_by_units || !p.rows_independent) {
    if (pool != nullptr && pool->size() > 1) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (forward_node_split<Training, Model, I>(m, b, rows, pool), ...);
      }(std::make_index_sequence<n>{});
      return;
    }
  }
  const bool split = p.rows_independent && worth_splitting(p.forward_flops_per_row * double(rows), pool);
  run_parts(pool, split, [&](part share) noexcept {
    const index_range r = share.of(rows, p.row_grain);
    if (r.empty()) return;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (forward_node<Training, true, Model, I>(m, b, r), ...);
    }(std::make_index_sequence<n>{});
  });
}

}  // namespace frost::detail
