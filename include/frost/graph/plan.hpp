#pragma once
/// \file
/// The plan: for every node of a model graph, computed once at compile time, what its forward
/// and backward must do, where its data lives and how a step is split across threads. Forward
/// (graph/forward.hpp) and backward (graph/backward.hpp) are straight-line code generated from
/// it; nothing is decided at run time but the batch size.
///
/// The plan is built from `node_facts` in topological order (parents before children, as
/// Keras's `model.layers`), each naming its parents through `edges`; a sequential model is the
/// chain where node i reads node i - 1 and node 0 is the input.
///
/// Workspace (training), in scalars per sample (multiply by the batch capacity):
///   [ region A: what is alive when the loss runs (kept outputs, kept extras) |
///     region B: forward transients, then backward gradients, reusing one another's space ]
/// Within B, buffers are placed first-fit by lifetime: a node's output lives from its forward to
/// its last reader; dL/d(output) from its first writer (the loss, or the first consumer whose
/// backward runs) to the node's own backward.

#include <array>
#include <cstddef>

namespace frost {

/// What the plan needs to know about one node; filled from its layer spec and input shapes.
struct node_facts {
  std::size_t first_edge = 0;          ///< its inputs are edges [first_edge, first_edge + arity)
  std::size_t arity = 0;               ///< number of inputs (0: a model input)
  std::size_t out_size = 0;            ///< scalars per sample out
  std::size_t params = 0;              ///< parameter count
  std::size_t extra_kept = 0;          ///< scalars per sample it keeps for its own backward
  bool extra_kept_for_params = false;  ///< ... for its weight gradient only (none when frozen)
  std::size_t scratch = 0;             ///< scalars per sample of working space in one call
  std::size_t state = 0;               ///< non-trainable state (moving statistics)
  double flops = 0;                    ///< floating-point operations per sample of its forward
  bool frozen = false;                 ///< trainable = False
  bool param_grad_reads_input = false; ///< its weight gradient reads its input (dense: dW = xᵀ·dz)
  bool backward_reads_output = false;  ///< its activation derivative reads its output
  bool backward_reads_input = false;   ///< its activation derivative reads its input (activation<f>)
  bool rows_independent = false;       ///< a sample's output depends on that sample alone
  bool splits_units = false;           ///< forward and weight gradient split by units
  bool param_grad_splits_units = false;  ///< weight gradient split by units
  bool fuses_activation = false;       ///< its weight gradient can apply f' as it loads dL/dy
  bool input_after_params = false;     ///< its input stage reads what its params stage leaves
  std::size_t reduction_rows = 1;      ///< rows per sample its weight-gradient products reduce over
  bool params_take_sink = false;       ///< its params stage hands finished values to a gradient sink
  bool fusable_producer = false;       ///< a product whose epilogue can take an affine and an activation
  bool affine_in_training = false;     ///< y = x·s + t per channel in a training pass
  bool affine_in_inference = false;    ///< ... in inference
  bool pointwise_activation = false;   ///< y = f(x) elementwise
  bool activation_epilogue = false;    ///< it can apply a following activation to its output itself
};

/// One input of a node: the node it reads and the scalars per sample that come in.
struct edge_facts {
  std::size_t from = 0;
  std::size_t size = 0;
};

/// The compile-time plan of a graph of N nodes and E edges.
template <std::size_t N, std::size_t E>
struct graph_plan {
  static constexpr std::size_t nodes = N;
  static constexpr std::size_t edge_count = E;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  /// The model output: the one node no other reads (Keras orders it last).
  static constexpr std::size_t output = N - 1;

  std::array<node_facts, N> facts{};
  std::array<edge_facts, E == 0 ? 1 : E> edges{};

  /// Trainable and has parameters: its weight gradient is computed.
  std::array<bool, N> needs_param_grad{};
  /// Some input of it needs a gradient (an ancestor through that input trains).
  std::array<bool, N> needs_input_grad{};
  /// Either: the node takes part in backward at all.
  std::array<bool, N> backward_active{};
  /// Edge e passes a gradient back to its `from` node.
  std::array<bool, E == 0 ? 1 : E> edge_needs_grad{};
  /// Edge e adds into its `from` node's gradient (an earlier consumer's backward wrote it first).
  std::array<bool, E == 0 ? 1 : E> edge_accumulates{};
  /// Its output outlives the forward pass (read by a backward or by the loss).
  std::array<bool, N> keeps_output{};

  /// Offset of its parameter block in the trainable arena (npos if frozen or none).
  std::array<std::size_t, N> trainable_offset{};
  /// Offset of its parameter block in the frozen arena (npos if trainable or none).
  std::array<std::size_t, N> frozen_offset{};
  /// Offset of its state block in the state arena (npos: none).
  std::array<std::size_t, N> state_offset{};
  /// Training workspace offset (per sample) of its output (npos: a model input).
  std::array<std::size_t, N> output_offset{};
  /// Training workspace offset of its private kept buffer (npos: none).
  std::array<std::size_t, N> extra_offset{};
  /// Training workspace offset of dL/d(its output) (npos: it receives no gradient).
  std::array<std::size_t, N> gradient_offset{};
  /// Training workspace offsets of its scratch in forward and in backward (npos: none).
  std::array<std::size_t, N> scratch_offset{};
  std::array<std::size_t, N> backward_scratch_offset{};
  /// Inference workspace offset of its scratch (npos: none).
  std::array<std::size_t, N> inference_scratch_offset{};
  /// Inference workspace offset of its output (npos: a model input, or the output, which goes
  /// to the caller's buffer).
  std::array<std::size_t, N> inference_offset{};
  /// Which model input a node is (npos: a layer).
  std::array<std::size_t, N> input_position{};
  /// Epilogue fusion, for the training and the inference pass: a fused node runs inside the
  /// product of `fused_into` (npos: it runs itself); a producer writes its chain's result into the
  /// output of `fused_last` (itself when nothing is fused into it).
  std::array<std::size_t, N> fused_into{}, fused_last{};
  std::array<std::size_t, N> inference_fused_into{}, inference_fused_last{};

  std::size_t trainable_count = 0;
  std::size_t frozen_count = 0;
  std::size_t state_count = 0;
  std::size_t kept_per_sample = 0;       ///< scalars alive from forward to backward, per sample
  std::size_t workspace_per_sample = 0;  ///< training workspace, per sample
  std::size_t inference_per_sample = 0;  ///< inference workspace, per sample
  std::size_t backward_nodes = 0;        ///< how many nodes take part in backward
  std::size_t inputs = 0;                ///< model inputs
  /// The output node reads one node and has no parameters (e.g. activation<softmax>): a loss
  /// fused with its activation then writes dL/d(its input) straight into that node's gradient.
  bool output_pointwise = false;

  // Thread split policy (graph/detail/schedule.hpp reads these).
  double forward_flops_per_row = 0;  ///< two per parameter
  double step_flops_per_row = 0;     ///< two per parameter per product the step computes
  bool rows_independent = true;      ///< every layer's: a step may split the batch by rows
  bool split_forward_by_units = false;  ///< a layer's weights are too big for every thread's caches
  std::size_t row_grain = 8;         ///< rows of a share: register tiles and vector-aligned values
};

namespace detail {

struct lifetime {
  std::size_t start = 0, end = 0, size = 0;  // [start, end] on the step's timeline, scalars per sample
};

/// First-fit placement of buffers that live at different times in one region, swept by start
/// time (larger first at equal starts): each buffer goes to the lowest offset where no buffer
/// still alive lies. The buffers alive at a time are few, so this is about linear in the
/// buffers. Returns the region's size.
template <std::size_t B>
constexpr std::size_t place_first_fit(const std::array<lifetime, B>& life, std::size_t count,
                                      std::array<std::size_t, B>& offset) {
  std::array<std::size_t, B> order{}, active{};
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  // Insertion sort by (start, size descending): buffers are listed nearly in start order, so
  // this is about linear too.
  auto before = [&](std::size_t a, std::size_t b) {
    return life[a].start < life[b].start || (life[a].start == life[b].start && life[a].size > life[b].size);
  };
  for (std::size_t i = 1; i < count; ++i)
    for (std::size_t j = i; j > 0 && before(order[j], order[j - 1]); --j) {
      const std::size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  std::size_t total = 0, alive = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t b = order[k];
    const lifetime l = life[b];
    // Drop the buffers that ended before this one starts.
    std::size_t kept = 0;
    for (std::size_t q = 0; q < alive; ++q)
      if (life[active[q]].end >= l.start) active[kept++] = active[q];
    alive = kept;
    std::size_t at = 0;
    if (l.size != 0) {
      for (bool moved = true; moved;) {
        moved = false;
        for (std::size_t q = 0; q < alive; ++q) {
          const std::size_t o = active[q];
          if (offset[o] < at + l.size && at < offset[o] + life[o].size) {
            at = offset[o] + life[o].size;
            moved = true;
          }
        }
      }
      active[alive++] = b;
    }
    offset[b] = at;
    if (at + l.size > total) total = at + l.size;
  }
  return total;
}

constexpr std::size_t lcm_of(std::size_t a, std::size_t b) {
  std::size_t x = a, y = b;
  while (y != 0) {
    const std::size_t t = x % y;
    x = y;
    y = t;
  }
  return a / x * b;
}

}  // namespace detail

/// Builds the plan of a graph given in topological order. `lanes`: scalars per vector register
/// of the model's scalar type; `scalar_bytes`: its size (for the thread split policy).
template <std::size_t N, std::size_t E>
constexpr graph_plan<N, E> make_plan(const std::array<node_facts, N>& facts,
                                     const std::array<edge_facts, E == 0 ? 1 : E>& edges, std::size_t lanes,
                                     std::size_t scalar_bytes) {
  using plan_t = graph_plan<N, E>;
  constexpr std::size_t npos = plan_t::npos;
  plan_t p{};
  p.facts = facts;
  p.edges = edges;

  // Trainability flows down the graph: a node is upstream-trainable when it or an ancestor
  // needs a weight gradient; an edge carries a gradient back exactly when its source is.
  std::array<bool, N> upstream{};
  for (std::size_t i = 0; i < N; ++i) {
    const node_facts& f = facts[i];
    p.needs_param_grad[i] = !f.frozen && f.params > 0;
    bool any = false;
    for (std::size_t e = f.first_edge; e < f.first_edge + f.arity; ++e) {
      p.edge_needs_grad[e] = upstream[edges[e].from];
      any = any || p.edge_needs_grad[e];
    }
    p.needs_input_grad[i] = any;
    p.backward_active[i] = p.needs_param_grad[i] || any;
    upstream[i] = p.backward_active[i];
    if (p.backward_active[i]) ++p.backward_nodes;
  }
  // Backward runs nodes from last to first, each node's edges in order: the first edge into a
  // node in that order writes its gradient, later ones add.
  {
    std::array<bool, N> written{};
    for (std::size_t k = N; k-- > 0;) {
      const node_facts& f = facts[k];
      if (!p.backward_active[k]) continue;
      for (std::size_t e = f.first_edge; e < f.first_edge + f.arity; ++e) {
        if (!p.edge_needs_grad[e]) continue;
        p.edge_accumulates[e] = written[edges[e].from];
        written[edges[e].from] = true;
      }
    }
  }

  p.output_pointwise = facts[N - 1].arity == 1 && facts[N - 1].params == 0;

  // Parameter and state arenas, in node order.
  for (std::size_t i = 0; i < N; ++i) {
    const node_facts& f = facts[i];
    p.trainable_offset[i] = p.frozen_offset[i] = p.state_offset[i] = npos;
    p.input_position[i] = npos;
    if (f.arity == 0) p.input_position[i] = p.inputs++;
    if (f.state != 0) {
      p.state_offset[i] = p.state_count;
      p.state_count += f.state;
    }
    if (f.params == 0) continue;
    if (f.frozen) {
      p.frozen_offset[i] = p.frozen_count;
      p.frozen_count += f.params;
    } else {
      p.trainable_offset[i] = p.trainable_count;
      p.trainable_count += f.params;
    }
  }

  // Lifetimes on the step's timeline: forward of node i at time i, the loss at N, backward of
  // node i at 2N - i.
  const std::size_t loss_time = N;
  auto backward_time = [](std::size_t i) { return 2 * N - i; };
  std::array<std::size_t, N> last_forward_read{}, last_read{};
  for (std::size_t i = 0; i < N; ++i) last_forward_read[i] = last_read[i] = i;
  last_read[N - 1] = loss_time;  // the loss reads the model output
  for (std::size_t c = 0; c < N; ++c) {
    const node_facts& f = facts[c];
    if (p.backward_active[c] && f.backward_reads_output) last_read[c] = backward_time(c);
    for (std::size_t e = f.first_edge; e < f.first_edge + f.arity; ++e) {
      const std::size_t from = edges[e].from;
      if (c > last_forward_read[from]) last_forward_read[from] = c;
      if (c > last_read[from]) last_read[from] = c;
      const bool backward_reads = (p.needs_param_grad[c] && f.param_grad_reads_input) ||
                                  (p.backward_active[c] && f.backward_reads_input);
      if (backward_reads && backward_time(c) > last_read[from]) last_read[from] = backward_time(c);
    }
  }
  // Epilogue fusion: producer → per-channel affine → elementwise activation, each the only reader
  // of the one before, computed as one product whose epilogue applies the rest; or a layer that
  // applies a following activation itself (batch normalization → relu). In a training pass the
  // values between them must not be read by any backward either.
  std::array<std::size_t, N> readers{}, consumer{};
  for (std::size_t c = 0; c < N; ++c)
    for (std::size_t e = facts[c].first_edge; e < facts[c].first_edge + facts[c].arity; ++e) {
      ++readers[edges[e].from];
      consumer[edges[e].from] = c;
    }
  auto fuse = [&](bool training, std::array<std::size_t, N>& into, std::array<std::size_t, N>& last) {
    for (std::size_t n = 0; n < N; ++n) into[n] = npos, last[n] = n;
    auto only_reader = [&](std::size_t n) {  // the one node reading n, in forward only (npos: none)
      if (n + 1 == N || readers[n] != 1) return npos;
      const std::size_t c = consumer[n];
      return facts[c].arity == 1 && (!training || last_read[n] == c) ? c : npos;
    };
    for (std::size_t i = 0; i < N; ++i) {
      if (facts[i].activation_epilogue && into[i] == npos) {  // e.g. batch normalization → relu
        const std::size_t k = only_reader(i);
        if (k != npos && facts[k].pointwise_activation) {
          into[k] = i;
          last[i] = k;
        }
        continue;
      }
      if (!facts[i].fusable_producer) continue;
      const std::size_t j = only_reader(i);
      if (j == npos || !(training ? facts[j].affine_in_training : facts[j].affine_in_inference)) continue;
      into[j] = i;
      last[i] = j;
      const std::size_t k = only_reader(j);
      if (k != npos && facts[k].pointwise_activation) {
        into[k] = i;
        last[i] = k;
      }
    }
  };
  fuse(true, p.fused_into, p.fused_last);
  fuse(false, p.inference_fused_into, p.inference_fused_last);
  // A fused chain's result is written when its producer runs; the values inside it never are.
  auto first_write_of = [](const std::array<std::size_t, N>& into, const std::array<std::size_t, N>& last,
                           std::size_t n) {
    return into[n] != npos && last[into[n]] == n ? into[n] : n;
  };
  auto materialized = [](const std::array<std::size_t, N>& into, const std::array<std::size_t, N>& last,
                         std::size_t n) {
    return last[n] == n && (into[n] == npos || last[into[n]] == n);
  };

  // Which nodes receive a gradient, and when it is first written.
  std::array<bool, N> receives{};
  std::array<std::size_t, N> first_write{};
  receives[N - 1] = true;
  first_write[N - 1] = loss_time;
  for (std::size_t c = N; c-- > 0;) {
    const node_facts& f = facts[c];
    for (std::size_t e = f.first_edge; e < f.first_edge + f.arity; ++e) {
      if (!p.edge_needs_grad[e] || !p.backward_active[c]) continue;
      const std::size_t from = edges[e].from;
      // The loss may write straight into the output's parent (output_pointwise): from time N.
      const std::size_t t = (c == N - 1 && p.output_pointwise) ? loss_time : backward_time(c);
      if (!receives[from] || t < first_write[from]) first_write[from] = t;
      receives[from] = true;
    }
  }

  // Region A: everything alive when the loss runs, laid out in node order.
  std::size_t a = 0;
  for (std::size_t i = 0; i < N; ++i) {
    p.output_offset[i] = p.extra_offset[i] = p.gradient_offset[i] = p.inference_offset[i] = npos;
    if (facts[i].arity == 0) continue;
    p.keeps_output[i] = last_read[i] >= loss_time;
    if (p.keeps_output[i]) {
      p.output_offset[i] = a;
      a += facts[i].out_size;
    }
    const bool keeps_extra = facts[i].extra_kept_for_params ? p.needs_param_grad[i] : p.backward_active[i];
    if (keeps_extra && facts[i].extra_kept > 0) {
      p.extra_offset[i] = a;
      a += facts[i].extra_kept;
    }
  }
  p.kept_per_sample = a;

  // Region B: forward transients and gradients, first-fit by lifetime.
  {
    // Owners: node i's output (i), its gradient (N + i), its forward scratch (2N + i), its
    // backward scratch (3N + i).
    std::array<detail::lifetime, 4 * N> life{};
    std::array<std::size_t, 4 * N> owner{}, offset{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < N; ++i) {
      p.scratch_offset[i] = p.backward_scratch_offset[i] = p.inference_scratch_offset[i] = npos;
      if (facts[i].arity == 0) continue;
      if (facts[i].scratch != 0) {
        life[count] = {i, i, facts[i].scratch};
        owner[count++] = 2 * N + i;
      }
      if (p.keeps_output[i]) continue;
      life[count] = {first_write_of(p.fused_into, p.fused_last, i), last_forward_read[i],
                     materialized(p.fused_into, p.fused_last, i) ? facts[i].out_size : 0};
      owner[count++] = i;
    }
    for (std::size_t i = N; i-- > 0;) {
      if (p.backward_active[i] && facts[i].scratch != 0) {
        life[count] = {backward_time(i), backward_time(i), facts[i].scratch};
        owner[count++] = 3 * N + i;
      }
      if (!receives[i]) continue;
      life[count] = {first_write[i], backward_time(i), facts[i].out_size};
      owner[count++] = N + i;
    }
    const std::size_t b = detail::place_first_fit(life, count, offset);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t node = owner[k] % N;
      switch (owner[k] / N) {
        case 0: p.output_offset[node] = a + offset[k]; break;
        case 1: p.gradient_offset[node] = a + offset[k]; break;
        case 2: p.scratch_offset[node] = a + offset[k]; break;
        default: p.backward_scratch_offset[node] = a + offset[k]; break;
      }
    }
    p.workspace_per_sample = a + b;
  }

  // Inference: outputs only, each alive until its last forward reader; the model output goes to
  // the caller's buffer.
  {
    std::array<detail::lifetime, 2 * N> life{};
    std::array<std::size_t, 2 * N> owner{}, offset{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < N; ++i) {
      if (facts[i].arity == 0) continue;
      if (facts[i].scratch != 0) {
        life[count] = {i, i, facts[i].scratch};
        owner[count++] = N + i;
      }
      if (i + 1 == N) continue;
      life[count] = {first_write_of(p.inference_fused_into, p.inference_fused_last, i), last_forward_read[i],
                     materialized(p.inference_fused_into, p.inference_fused_last, i) ? facts[i].out_size : 0};
      owner[count++] = i;
    }
    p.inference_per_sample = detail::place_first_fit(life, count, offset);
    for (std::size_t k = 0; k < count; ++k) {
      if (owner[k] < N) p.inference_offset[owner[k]] = offset[k];
      else p.inference_scratch_offset[owner[k] - N] = offset[k];
    }
  }

  // The thread split policy's facts.
  p.row_grain = 8;
  for (std::size_t i = 0; i < N; ++i) {
    const node_facts& f = facts[i];
    p.forward_flops_per_row += f.flops;
    p.step_flops_per_row +=
        f.flops * (1.0 + double(p.needs_param_grad[i]) + double(p.needs_input_grad[i] && f.params > 0));
    if (f.arity != 0 && !f.rows_independent) p.rows_independent = false;
    if (f.params * scalar_bytes >= 512 * 1024) p.split_forward_by_units = true;
    // Every share of every node's rows × width values starts on a vector boundary, so an
    // elementwise loop treats each value exactly as one unsplit pass would.
    std::size_t g = lanes, w = f.out_size;
    while (w != 0) {
      const std::size_t t = g % w;
      g = w;
      w = t;
    }
    p.row_grain = detail::lcm_of(p.row_grain, lanes / (g == 0 ? lanes : g));
  }
  return p;
}

}  // namespace frost
