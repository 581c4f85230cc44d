// The fused update against the gradient-arena path on functional models: a residual block and
// two inputs, each with a branch trainable and frozen (support/fused_update.hpp).

#include "support/fused_update.hpp"

#include <tuple>
#include <type_traits>

using namespace frost;
using namespace frost_test::fused;
namespace hana = boost::hana;

namespace {
template <bool FrozenBranch>
auto residual() {
  auto x = input<6>{};
  auto h = dense<8, relu>{}(x);
  auto r = std::conditional_t<FrozenBranch, frozen<dense<8, tanh_activation>>, dense<8, tanh_activation>>{}(h);
  auto out = dense<3, softmax>{}(add{}(h, r));
  return make_model(x, out);
}
template <bool FrozenBranch>
auto two_inputs() {
  auto a = input<5>{};
  auto b = input<4>{};
  auto p = std::conditional_t<FrozenBranch, frozen<dense<6, relu>>, dense<6, relu>>{}(a);
  auto r = dense<4, sigmoid>{}(b);
  auto out = dense<3, softmax>{}(concatenate{}(p, r));
  return make_model(hana::make_tuple(a, b), out);
}
}  // namespace

TEST_CASE("fused update: functional models give the same bits", "[train][fused]") {
  matrix<float, 6> x(9);
  frost_test::fill_uniform(x.values(), 5);
  SECTION("residual") { run_all<decltype(residual<false>())>(x); }
  SECTION("residual, branch frozen") { run_all<decltype(residual<true>())>(x); }
  matrix<float, 5> a(9);
  matrix<float, 4> b(9);
  frost_test::fill_uniform(a.values(), 6);
  frost_test::fill_uniform(b.values(), 7);
  const auto y = one_hot<3>(a);
  auto run = [&](auto start) {
    for_each_optimizer([&](auto spec) {
      for (std::size_t t : {1, 2}) {
        INFO("threads " << t);
        require_fused_equals_arena(start, spec, std::tie(a, b), y, t);
      }
    });
  };
  SECTION("two inputs") { run(decltype(two_inputs<false>())::init(2)); }
  SECTION("two inputs, branch frozen") { run(decltype(two_inputs<true>())::init(2)); }
}
