#include <frost/graph/freeze.hpp>
#include <frost/graph/plan.hpp>
#include <frost/layers/dense.hpp>
#include <frost/train/optimizer.hpp>
#include <frost/train/trainer.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <utility>

namespace {

using base = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                               frost::dense<10, frost::softmax>>;

template <unsigned Mask>  // bit i set: layer i frozen
using masked = frost::basic_sequential<float, frost::input<100>,
                                       std::conditional_t<(Mask & 1) != 0, frost::frozen<frost::dense<64, frost::relu>>, frost::dense<64, frost::relu>>,
                                       std::conditional_t<(Mask & 2) != 0, frost::frozen<frost::dense<32, frost::relu>>, frost::dense<32, frost::relu>>,
                                       std::conditional_t<(Mask & 4) != 0, frost::frozen<frost::dense<10, frost::softmax>>, frost::dense<10, frost::softmax>>>;

// The plan's facts for one freeze mask, against rules derived by hand for a chain of dense
// layers: a layer is backward-active iff it or a layer before it is trainable; it computes its
// input gradient iff a layer before it is trainable; an output is kept iff its own backward reads
// it (relu/softmax, when active), the next layer's weight gradient reads it, or it is the last.
template <unsigned Mask>
void check_mask() {
  using M = masked<Mask>;
  constexpr auto& p = M::plan;
  constexpr std::size_t params[] = {100 * 64 + 64, 64 * 32 + 32, 32 * 10 + 10};
  constexpr std::size_t width[] = {64, 32, 10};
  std::size_t trainable = 0, kept = 0;
  bool before = false;
  for (std::size_t i = 0; i < 3; ++i) {
    const bool frozen = (Mask >> i) & 1;
    REQUIRE(p.needs_param_grad[i] == !frozen);
    REQUIRE(p.needs_input_grad[i] == before);
    const bool active = !frozen || before;
    REQUIRE(p.backward_active[i] == active);
    const bool next_trains = i + 1 < 3 && !((Mask >> (i + 1)) & 1);
    const bool keep = active || next_trains || i == 2;
    REQUIRE(p.keeps_output[i] == keep);
    if (keep) kept += width[i];
    if (!frozen) trainable += params[i];
    before = before || !frozen;
  }
  REQUIRE(M::trainable_param_count == trainable);
  REQUIRE(M::frozen_param_count == params[0] + params[1] + params[2] - trainable);
  REQUIRE(p.kept_per_sample == kept);
  // The compile-time sizes that follow from the plan.
  STATIC_REQUIRE(frost::gradients<M>::size == M::trainable_param_count);
  STATIC_REQUIRE(frost::optimizer<M, frost::adam>::state_size == 2 * M::trainable_param_count);
  STATIC_REQUIRE(frost::optimizer<M, frost::sgd>::state_size == M::trainable_param_count);
  STATIC_REQUIRE(frost::trainer<M, frost::categorical_crossentropy, frost::adam>::workspace_per_sample ==
                 p.kept_per_sample + 2 * 64);
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
  static_assert(frost::gradients<ft>::size == 330);
  static_assert(frost::optimizer<ft, frost::adam>::state_size == 660);
  static_assert(frost::gradients<base>::size == 8874);
  static_assert(frost::optimizer<base, frost::adam>::state_size == 17748);
  // Kept per sample: the head's input (32) and the output (10); layer 0's 64 outputs are transient.
  static_assert(ft::plan.kept_per_sample == 42);
  static_assert(base::plan.kept_per_sample == 106);
  static_assert(!ft::plan.backward_active[0] && !ft::plan.backward_active[1] && ft::plan.backward_active[2]);
  static_assert(ft::plan.backward_nodes == 1 && base::plan.backward_nodes == 3);
  // Frozen layers live in the frozen arena, trainable ones in the trainable arena.
  static_assert(ft::plan.frozen_offset[0] == 0 && ft::plan.frozen_offset[1] == 6464);
  static_assert(ft::plan.trainable_offset[2] == 0 && ft::plan.trainable_offset[0] == ft::plan.npos);
  SUCCEED("the facts above are compile-time");
}

TEST_CASE("the plan is a graph plan: parents, not positions, drive it", "[graph][plan]") {
  // Two nodes reading the model input directly (as a functional model's branches would): neither
  // computes an input gradient, since nothing above them has parameters.
  constexpr std::array<frost::node_facts, 2> facts = {
      frost::node_facts{.parent = frost::model_input, .in_size = 4, .out_size = 3, .params = 15, .frozen = false,
                        .param_grad_reads_input = true, .backward_reads_output = false},
      frost::node_facts{.parent = frost::model_input, .in_size = 4, .out_size = 2, .params = 10, .frozen = true,
                        .param_grad_reads_input = true, .backward_reads_output = false}};
  constexpr auto p = frost::make_plan(facts);
  STATIC_REQUIRE(p.needs_param_grad[0]);
  STATIC_REQUIRE(!p.needs_input_grad[1]);
  STATIC_REQUIRE(!p.backward_active[1]);
  STATIC_REQUIRE(p.trainable_count == 15);
  STATIC_REQUIRE(p.frozen_count == 10);
  // Both are sinks, so both are model outputs and kept; the slot layout is for chains only.
  STATIC_REQUIRE(p.keeps_output[0] && p.keeps_output[1]);
  STATIC_REQUIRE(!p.chain);
  STATIC_REQUIRE(base::plan.chain);
}
