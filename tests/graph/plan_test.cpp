#include <frost/graph/freeze.hpp>
#include <frost/graph/plan.hpp>
#include <frost/layers/dense.hpp>
#include <frost/train/optimizer.hpp>
#include <frost/train/trainer.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace {

using base = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                               frost::dense<10, frost::softmax>>;

template <unsigned Mask>  // bit i set: layer i frozen
using masked = frost::basic_sequential<float, frost::input<100>,
                                       std::conditional_t<(Mask & 1) != 0, frost::frozen<frost::dense<64, frost::relu>>, frost::dense<64, frost::relu>>,
                                       std::conditional_t<(Mask & 2) != 0, frost::frozen<frost::dense<32, frost::relu>>, frost::dense<32, frost::relu>>,
                                       std::conditional_t<(Mask & 4) != 0, frost::frozen<frost::dense<10, frost::softmax>>, frost::dense<10, frost::softmax>>>;

// The plan's facts for one freeze mask, against rules derived by hand for a chain of dense
// layers (node 0 is the input, layer i is node i + 1): a layer is backward-active iff it or a
// layer before it is trainable; it computes its input gradient iff a layer before it is
// trainable; an output is kept iff its own backward reads it (relu/softmax, when active), the
// next layer's weight gradient reads it, or it is the last.
template <unsigned Mask>
void check_mask() {
  using M = masked<Mask>;
  constexpr auto& p = M::plan;
  constexpr std::size_t params[] = {100 * 64 + 64, 64 * 32 + 32, 32 * 10 + 10};
  constexpr std::size_t width[] = {64, 32, 10};
  std::size_t trainable = 0, kept = 0;
  bool before = false;
  bool keep[3]{}, receives[3]{};
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t n = i + 1;
    const bool frozen = (Mask >> i) & 1;
    REQUIRE(p.needs_param_grad[n] == !frozen);
    REQUIRE(p.needs_input_grad[n] == before);
    const bool active = !frozen || before;
    REQUIRE(p.backward_active[n] == active);
    const bool next_trains = i + 1 < 3 && !((Mask >> (i + 1)) & 1);
    keep[i] = active || next_trains || i == 2;
    REQUIRE(p.keeps_output[n] == keep[i]);
    if (keep[i]) kept += width[i];
    if (!frozen) trainable += params[i];
    before = before || !frozen;
    // dL/d(output of layer i) exists for the output, and where layer i or one before it trains.
    receives[i] = i == 2 || before;
  }
  REQUIRE(!p.backward_active[0]);
  REQUIRE(M::trainable_param_count == trainable);
  REQUIRE(M::frozen_param_count == params[0] + params[1] + params[2] - trainable);
  REQUIRE(p.kept_per_sample == kept);
  // The layout: buffers alive at the same time never share a scalar, and all fit in the
  // workspace. Lifetimes on the step's timeline, derived by hand: forward of node n at n, the
  // loss at 4, backward of node n at 8 - n; a kept output lives to the end, a transient one
  // until the next node has read it; dL/dy of node n from the loss (n = 3) or the backward of
  // node n + 1, to its own backward.
  struct buffer {
    std::size_t start, end, offset, size;
  };
  std::vector<buffer> live;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t n = i + 1;
    live.push_back({n, keep[i] ? 8 : n + 1, p.output_offset[n], width[i]});
    if (receives[i]) live.push_back({n == 3 ? 4 : 8 - (n + 1), 8 - n, p.gradient_offset[n], width[i]});
    else REQUIRE(p.gradient_offset[n] == p.npos);
  }
  for (std::size_t a = 0; a < live.size(); ++a) {
    REQUIRE(live[a].offset + live[a].size <= p.workspace_per_sample);
    for (std::size_t b = a + 1; b < live.size(); ++b) {
      const bool same_time = live[a].start <= live[b].end && live[b].start <= live[a].end;
      const bool same_space = live[a].offset < live[b].offset + live[b].size && live[b].offset < live[a].offset + live[a].size;
      REQUIRE(!(same_time && same_space));
    }
  }
  // The compile-time sizes that follow from the plan.
  STATIC_REQUIRE(frost::gradients<M>::size == M::trainable_param_count);
  STATIC_REQUIRE(frost::optimizer<M, frost::adam>::state_size == 2 * M::trainable_param_count);
  STATIC_REQUIRE(frost::optimizer<M, frost::sgd>::state_size == M::trainable_param_count);
  STATIC_REQUIRE(frost::trainer<M, frost::categorical_crossentropy, frost::adam>::workspace_per_sample ==
                 p.workspace_per_sample);
}

}  // namespace

TEST_CASE("the plan follows the chain rules for every freeze mask", "[graph][plan]") {
  check_mask<0>();
  check_mask<1>();
  check_mask<2>();
  check_mask<3>();
  check_mask<4>();
  check_mask<5>();
  check_mask<6>();
  check_mask<7>();
}

TEST_CASE("freezing the feature layers shrinks gradients, optimizer state and kept activations", "[graph][plan]") {
  using ft = masked<3>;
  // Only the head trains: 330 gradients and 660 Adam scalars instead of 8,874 and 17,748.
  STATIC_REQUIRE(frost::gradients<ft>::size == 330);
  STATIC_REQUIRE(frost::optimizer<ft, frost::adam>::state_size == 660);
  STATIC_REQUIRE(frost::gradients<base>::size == 8874);
  STATIC_REQUIRE(frost::optimizer<base, frost::adam>::state_size == 17748);
  // Kept per sample: the head's input (32) and the output (10); layer 0's 64 outputs are transient.
  STATIC_REQUIRE(ft::plan.kept_per_sample == 42);
  STATIC_REQUIRE(base::plan.kept_per_sample == 106);
  // Workspace, by hand: the frozen net adds layer 0's transient output (64), which the output's
  // gradient (10, alive only after the forward pass) reuses. The trainable net adds the three
  // gradients, placed first-fit in the order backward writes them: the output's (10) at 0,
  // layer 1's (32) beside it while both are alive, then layer 0's (64) after layer 1's, which is
  // still being read when it is written: 106 + 10 + 32 + 64.
  STATIC_REQUIRE(ft::plan.workspace_per_sample == 42 + 64);
  STATIC_REQUIRE(base::plan.workspace_per_sample == 106 + 10 + 32 + 64);
  // Inference keeps nothing: layer 0's and layer 1's outputs, alive together.
  STATIC_REQUIRE(base::plan.inference_per_sample == 64 + 32);
  STATIC_REQUIRE(!ft::plan.backward_active[1] && !ft::plan.backward_active[2] && ft::plan.backward_active[3]);
  STATIC_REQUIRE(ft::plan.backward_nodes == 1);
  STATIC_REQUIRE(base::plan.backward_nodes == 3);
  // Frozen layers live in the frozen arena, trainable ones in the trainable arena.
  STATIC_REQUIRE(ft::plan.frozen_offset[1] == 0);
  STATIC_REQUIRE(ft::plan.frozen_offset[2] == 6464);
  STATIC_REQUIRE(ft::plan.trainable_offset[3] == 0);
  STATIC_REQUIRE(ft::plan.trainable_offset[1] == ft::plan.npos);
}

TEST_CASE("the plan is a graph plan: parents, not positions, drive it", "[graph][plan]") {
  // Node 0 is an input; nodes 1 and 2 read it (two branches, 2 frozen); node 3 reads both.
  constexpr std::array<frost::node_facts, 4> facts = {
      frost::node_facts{.first_edge = 0, .arity = 0, .out_size = 4},
      frost::node_facts{.first_edge = 0, .arity = 1, .out_size = 3, .params = 15, .param_grad_reads_input = true},
      frost::node_facts{.first_edge = 1, .arity = 1, .out_size = 2, .params = 10, .frozen = true,
                        .param_grad_reads_input = true},
      frost::node_facts{.first_edge = 2, .arity = 2, .out_size = 5}};
  constexpr std::array<frost::edge_facts, 4> edges = {frost::edge_facts{0, 4}, frost::edge_facts{0, 4},
                                                       frost::edge_facts{1, 3}, frost::edge_facts{2, 2}};
  constexpr auto p = frost::make_plan<4, 4>(facts, edges, 4, 4);
  STATIC_REQUIRE(p.needs_param_grad[1]);
  STATIC_REQUIRE(!p.needs_input_grad[1]);  // it reads the input: nothing above it trains
  STATIC_REQUIRE(!p.backward_active[2]);   // the frozen branch gets no backward at all
  STATIC_REQUIRE(p.backward_active[3]);
  STATIC_REQUIRE(p.edge_needs_grad[2]);    // node 3 passes a gradient into the trainable branch
  STATIC_REQUIRE(!p.edge_needs_grad[3]);   // and none into the frozen one
  STATIC_REQUIRE(p.gradient_offset[2] == p.npos);
  STATIC_REQUIRE(p.trainable_count == 15);
  STATIC_REQUIRE(p.frozen_count == 10);
  STATIC_REQUIRE(p.input_position[0] == 0);
  // Kept: node 3 (the output); node 1's and 2's outputs are read only by node 3's forward.
  STATIC_REQUIRE(!p.keeps_output[1] && !p.keeps_output[2] && p.keeps_output[3]);
  STATIC_REQUIRE(p.kept_per_sample == 5);
}

TEST_CASE("a node read by two consumers gathers their gradients: the first writes, the next adds", "[graph][plan]") {
  // 0: input; 1: dense; 2: dense reading 1; 3: add(1, 2). Backward runs 3, 2, 1: node 3 writes
  // dL/dy of 1 through its first edge, then node 2 adds its share.
  constexpr std::array<frost::node_facts, 4> facts = {
      frost::node_facts{.first_edge = 0, .arity = 0, .out_size = 4},
      frost::node_facts{.first_edge = 0, .arity = 1, .out_size = 3, .params = 15, .param_grad_reads_input = true},
      frost::node_facts{.first_edge = 1, .arity = 1, .out_size = 3, .params = 12, .param_grad_reads_input = true},
      frost::node_facts{.first_edge = 2, .arity = 2, .out_size = 3}};
  constexpr std::array<frost::edge_facts, 4> edges = {frost::edge_facts{0, 4}, frost::edge_facts{1, 3},
                                                       frost::edge_facts{1, 3}, frost::edge_facts{2, 3}};
  constexpr auto p = frost::make_plan<4, 4>(facts, edges, 4, 4);
  STATIC_REQUIRE(p.edge_needs_grad[1] && p.edge_needs_grad[2] && p.edge_needs_grad[3]);
  STATIC_REQUIRE(!p.edge_accumulates[2]);  // add → node 1: first
  STATIC_REQUIRE(!p.edge_accumulates[3]);  // add → node 2: first
  STATIC_REQUIRE(p.edge_accumulates[1]);   // node 2 → node 1: adds
  STATIC_REQUIRE(p.keeps_output[1]);       // node 2's weight gradient reads it
}
