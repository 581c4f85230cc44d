#pragma once
/// \file
/// The plan: for every node of a model graph, computed once at compile time, what its forward
/// and backward must do and where its data lives. Forward and backward (graph/execute.hpp) are
/// straight-line code generated from it; nothing is decided at run time.
///
/// The plan is built from a list of `node_facts` in topological order, each naming its parent
/// node, so it serves any graph: a sequential model is the chain parent(i) = i - 1.

#include <array>
#include <cstddef>

namespace frost {

/// No parent: the node reads the model's input.
inline constexpr std::size_t model_input = static_cast<std::size_t>(-1);

/// What the plan needs to know about one node; filled from its layer spec and input shape.
struct node_facts {
  std::size_t parent = model_input;    ///< node whose output this node reads
  std::size_t in_size = 0;             ///< scalars per sample in
  std::size_t out_size = 0;            ///< scalars per sample out
  std::size_t params = 0;              ///< parameter count
  bool frozen = false;                 ///< trainable = False
  bool param_grad_reads_input = false; ///< its weight gradient reads its input (dense: dW = xᵀ·dz)
  bool backward_reads_output = false;  ///< its activation derivative reads its output
  bool backward_reads_input = false;   ///< its activation derivative reads its input (activation<f>)
  std::size_t extra_kept = 0;          ///< scalars per sample it keeps for itself (dense: z when f' needs it)
  bool pointwise = false;              ///< no parameters; its backward writes dL/d(input) directly
};

/// The compile-time plan of a graph of N nodes. Offsets into the parameter arenas are in
/// scalars; workspace offsets are in scalars per sample (multiply by the batch capacity).
template <std::size_t N>
struct graph_plan {
  static constexpr std::size_t nodes = N;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::array<node_facts, N> facts{};
  /// Trainable and has parameters: its weight gradient is computed.
  std::array<bool, N> needs_param_grad{};
  /// Some ancestor needs a parameter gradient: the gradient w.r.t. its input is computed.
  std::array<bool, N> needs_input_grad{};
  /// Either of the above: the node takes part in backward at all.
  std::array<bool, N> backward_active{};
  /// Its output is kept from the forward pass for backward (or for the loss).
  std::array<bool, N> keeps_output{};
  /// Offset of its parameter block in the trainable arena (npos if frozen or none).
  std::array<std::size_t, N> trainable_offset{};
  /// Offset of its parameter block in the frozen arena (npos if trainable or none).
  std::array<std::size_t, N> frozen_offset{};
  /// Workspace offset (per sample) of its output: in the kept region, or one of two
  /// ping-pong slots for outputs nobody reads after the next node.
  std::array<std::size_t, N> output_offset{};
  /// Workspace offset (per sample) of its private kept buffer (npos: none).
  std::array<std::size_t, N> extra_offset{};

  std::size_t trainable_count = 0;
  std::size_t frozen_count = 0;
  std::size_t kept_per_sample = 0;  ///< scalars kept for backward, per sample
  std::size_t slot_size = 0;        ///< one ping-pong slot, per sample
  std::size_t workspace_per_sample = 0;
  std::size_t backward_nodes = 0;   ///< how many nodes take part in backward
  /// Every node reads the one before it. The ping-pong slot layout (and so execute.hpp) needs
  /// this; a graph with branches keeps the flags above but needs a liveness-based layout.
  bool chain = true;
};

/// Builds the plan of a graph given in topological order (parents before children).
template <std::size_t N>
constexpr graph_plan<N> make_plan(const std::array<node_facts, N>& facts) {
  graph_plan<N> p{};
  p.facts = facts;
  // Does any node at or above i (towards the input) need a parameter gradient?
  std::array<bool, N> upstream_trainable{};
  for (std::size_t i = 0; i < N; ++i) {
    const node_facts& f = facts[i];
    const bool parent_up = f.parent != model_input && upstream_trainable[f.parent];
    p.needs_param_grad[i] = !f.frozen && f.params > 0;
    p.needs_input_grad[i] = parent_up;
    p.backward_active[i] = p.needs_param_grad[i] || p.needs_input_grad[i];
    upstream_trainable[i] = parent_up || p.needs_param_grad[i];
    if (p.backward_active[i]) ++p.backward_nodes;
  }
  // A node keeps its output if its own backward reads it, if a child's weight gradient reads
  // it as input, or if it is the model's output (the loss reads it).
  for (std::size_t i = 0; i < N; ++i) {
    bool keep = (p.backward_active[i] && facts[i].backward_reads_output) || i + 1 == N;
    for (std::size_t c = i + 1; c < N; ++c) {
      if (facts[c].parent != i) continue;
      if (p.needs_param_grad[c] && facts[c].param_grad_reads_input) keep = true;
      if (p.backward_active[c] && facts[c].backward_reads_input) keep = true;
    }
    bool has_child = false;
    for (std::size_t c = i + 1; c < N; ++c) has_child = has_child || facts[c].parent == i;
    p.keeps_output[i] = keep || !has_child;  // a sink is a model output
    if (facts[i].parent != (i == 0 ? model_input : i - 1)) p.chain = false;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const node_facts& f = facts[i];
    p.trainable_offset[i] = p.frozen_offset[i] = graph_plan<N>::npos;
    if (f.params == 0) continue;
    if (f.frozen) {
      p.frozen_offset[i] = p.frozen_count;
      p.frozen_count += f.params;
    } else {
      p.trainable_offset[i] = p.trainable_count;
      p.trainable_count += f.params;
    }
  }
  // Ping-pong slots hold transient outputs in forward and dL/d(output) in backward (after
  // forward, nothing transient is needed any more). Node i uses slot i % 2, so a node never
  // reads and writes the same slot in a chain.
  for (std::size_t i = 0; i < N; ++i) {
    if (p.keeps_output[i]) p.kept_per_sample += facts[i].out_size;
    if (p.backward_active[i]) p.kept_per_sample += facts[i].extra_kept;
    if (facts[i].out_size > p.slot_size) p.slot_size = facts[i].out_size;
  }
  std::size_t kept_at = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (p.keeps_output[i]) {
      p.output_offset[i] = kept_at;
      kept_at += facts[i].out_size;
    } else {
      p.output_offset[i] = p.kept_per_sample + (i % 2) * p.slot_size;
    }
    p.extra_offset[i] = graph_plan<N>::npos;
    if (p.backward_active[i] && facts[i].extra_kept > 0) {
      p.extra_offset[i] = kept_at;
      kept_at += facts[i].extra_kept;
    }
  }
  p.workspace_per_sample = p.kept_per_sample + 2 * p.slot_size;
  return p;
}

}  // namespace frost
