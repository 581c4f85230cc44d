#pragma once
/// \file
/// The backward pass, generated from a model's plan: nodes from last to first, each running
/// only the stages the plan asks of it (layers/layer_spec.hpp): nothing for a node no trainable
/// parameter depends on, no weight gradient for a frozen layer, no input gradient into a branch
/// that does not train. Gradients from several consumers of a node add up in place.

#include <frost/core/part.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/detail/schedule.hpp>
#include <frost/graph/forward.hpp>
#include <frost/kernels/gradient_sink.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace frost::detail {

/// What a gradient arena tells when a layer's gradient is final: nothing.
struct no_report {
  void operator()(std::size_t) const noexcept {}
};

/// Where backward puts weight gradients: in the gradient arena (`grads`, laid out as the
/// trainable arena). The other kind, `update_sinks` (train/fused_update.hpp), applies the
/// optimizer to each finished tile instead. A kind provides, for node I, the block the kernels
/// address (`dparams`), the sink they hand finished values to (`sink`), and `finished`, called
/// once node I's backward is done. The arena's `report(from)` then learns that the gradients
/// from `from` to the arena's end are final: nodes run last to first and the arena is laid out
/// in node order, so each trainable node adds its block to the front of that range.
template <class T, class Report = no_report>
struct gradient_arena {
  static constexpr bool fused = false;
  T* grads;
  [[no_unique_address]] Report report{};
  template <class Model, std::size_t I>
  void finished() const noexcept {
    if constexpr (Model::plan.trainable_offset[I] != Model::plan.npos) report(Model::plan.trainable_offset[I]);
  }
  template <class Model, std::size_t I>
  T* dparams() const noexcept {
    return grads + Model::plan.trainable_offset[I];
  }
  template <class Model, std::size_t I>
  kernels::store_gradient sink(T*) const noexcept {
    return {};
  }
  template <class Model, std::size_t I>
  static constexpr bool whole_block = false;
};

/// Does node I pass a gradient to any of its inputs?
template <class Model, std::size_t I>
constexpr bool any_input_trains() {
  constexpr auto& p = Model::plan;
  for (std::size_t e = p.facts[I].first_edge; e < p.facts[I].first_edge + p.facts[I].arity; ++e)
    if (p.edge_needs_grad[e]) return true;
  return false;
}

template <class Model, const loss_plan& LP, std::size_t I, class T, class Sinks>
void backward_node(const Model& m, const pass_buffers<T>& b, std::size_t rows, const Sinks& sinks,
                   thread_pool* pool) noexcept {
  constexpr auto& p = Model::plan;
  constexpr node_facts f = p.facts[I];
  constexpr bool is_output = I == Model::output_node;
  if constexpr (p.backward_active[I] && !(is_output && LP.skip_output)) {
    using L = typename Model::template node_spec<I>;
    using Out = typename Model::template node_output_shape<I>;
    [&]<class... In>(shape_list<In...>*) {
      constexpr std::array<std::size_t, sizeof...(In)> sizes{In::size...};
      T* g = b.ws + p.gradient_offset[I] * b.cap;
      const T* y = node_output<true, Model, I>(b);
      const T* kept = p.extra_offset[I] != p.npos ? b.ws + p.extra_offset[I] * b.cap : nullptr;
      std::array<const T*, sizeof...(In)> xs{};
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((xs[J] = node_output<true, Model, p.edges[f.first_edge + J].from>(b)), ...);
      }(std::make_index_sequence<sizeof...(In)>{});
      // The loss fused with the output's activation wrote dL/dz: f' is already applied.
      constexpr bool activation_pending = !(is_output && LP.fused);
      // Floating-point operations of one product over this layer's weights (its forward).
      const double product_flops = double(rows) * f.flops;

      auto args = [&](index_range r) {
        backward_args<T> a;
        a.params = m.template parameter_block<I>();
        a.x = xs[0] + r.begin * sizes[0];
        a.y = y + r.begin * Out::size;
        a.kept = kept != nullptr ? kept + r.begin * f.extra_kept : nullptr;
        a.g = g + r.begin * Out::size;
        a.rows = r.size();
        a.state = m.template state_block<I>();
        if constexpr (f.scratch != 0) a.scratch = b.ws + p.backward_scratch_offset[I] * b.cap + r.begin * f.scratch;
        return a;
      };
      constexpr bool inputs_train = any_input_trains<Model, I>();
      // A fused update changes the parameters in the params stage, so the input stage, which
      // reads them, runs first (after f' on its own), unless the layer keeps what it needs. The
      // gradient arena takes the same order: f' computed by the activation stage and by the
      // weight-gradient prologue may differ in the last bit (vector widths, scalar tails), and
      // both paths must give the same bits.
      constexpr bool params_last = p.needs_param_grad[I] && inputs_train && !f.input_after_params;
      constexpr bool fuse = activation_pending && f.fuses_activation && !params_last;
      if constexpr (p.needs_param_grad[I] && activation_pending && !fuse)
        L::template backward<In...>(stage<backward_stage::activation>{}, args({0, rows}));
      // Never instantiated for a layer without a params stage (a frozen one).
      auto params_stage = [&](auto) {
        if constexpr (p.needs_param_grad[I]) {
          // dW (and db, and f' when fused) split by units: each share touches only its columns.
          constexpr bool whole = !f.params_take_sink || Sinks::template whole_block<Model, I>;
          T* const dparams = sinks.template dparams<Model, I>();
          const auto sink = sinks.template sink<Model, I>(dparams);
          run_parts(pool, f.param_grad_splits_units && worth_splitting(product_flops, pool), [&](part share) noexcept {
            backward_args<T> a = args({0, rows});
            a.dparams = dparams;
            a.with_activation = fuse;
            a.share = share;
            if constexpr (!f.params_take_sink)
              L::template backward<In...>(stage<backward_stage::params>{}, a);
            else if constexpr (whole)
              L::template backward<In...>(stage<backward_stage::params>{}, a, kernels::store_gradient{});
            else
              L::template backward<In...>(stage<backward_stage::params>{}, a, sink);
          });
          // A layer written without a sink, or one the sinks take whole, stored its gradient block
          // (in the fused update's scratch): it goes to the sink as one span.
          if constexpr (whole) {
            // Split as the optimizer splits its pass over an arena: only where it is large.
            const bool split = pool != nullptr && pool->size() > 1 && f.params >= 65536 * pool->size();
            run_parts(pool, split, [&](part share) noexcept {
              const index_range r = share.of(f.params, 64 / sizeof(T));
              if (!r.empty()) sink.span(dparams + r.begin, dparams + r.begin, r.size());
            });
          }
        }
      };
      if constexpr (p.needs_param_grad[I] && !params_last) params_stage(0);
      // dL/d(input k) for every input that trains, split by rows: each share reads its rows of
      // dL/dy and writes its rows of dL/dx.
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        (
            [&] {
              constexpr std::size_t e = f.first_edge + J;
              if constexpr (p.edge_needs_grad[e]) {
                T* dx = b.ws + p.gradient_offset[p.edges[e].from] * b.cap;
                const bool split = (f.rows_independent || f.splits_units) && worth_splitting(product_flops, pool);
                run_parts(pool, split, [&](part share) noexcept {
                  // By rows; a layer that needs the whole batch (batch statistics), by units.
                  const index_range r = f.rows_independent ? share.of(rows, p.row_grain) : index_range{0, rows};
                  if (r.empty()) return;
                  backward_args<T> a = args(r);
                  a.dx = dx + r.begin * sizes[J];
                  a.input = J;
                  a.accumulate = p.edge_accumulates[e];
                  a.with_activation = activation_pending && !p.needs_param_grad[I];
                  if constexpr (!f.rows_independent) a.share = share;
                  L::template backward<In...>(stage<backward_stage::input>{}, a);
                });
              }
            }(),
            ...);
      }(std::make_index_sequence<sizeof...(In)>{});
      if constexpr (params_last) params_stage(0);
    }(static_cast<typename Model::template node_input_shapes<I>*>(nullptr));
  }
}

/// Runs backward from the loss's gradient (already written where `LP` says) to the first node
/// that needs it, handing every trainable layer's gradient to `sinks` (gradient_arena: written
/// into the trainable arena's mirror). With a pool, each product is split across its threads
/// where that pays.
template <class Model, const loss_plan& LP, class T, class Sinks>
void backward(const Model& m, const pass_buffers<T>& b, std::size_t rows, const Sinks& sinks,
              thread_pool* pool = nullptr) noexcept {
  constexpr std::size_t n = Model::node_count;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((backward_node<Model, LP, n - 1 - I>(m, b, rows, sinks, pool), sinks.template finished<Model, n - 1 - I>()), ...);
  }(std::make_index_sequence<n>{});
}

}  // namespace frost::detail
