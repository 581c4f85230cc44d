#pragma once
// The law suite every layer spec passes (see check_layer_laws below).

#include <frost/graph/freeze.hpp>
#include <frost/layers/dense.hpp>
#include <frost/train/value_and_grad.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <type_traits>

namespace frost_test {

// The law suite every layer spec passes: output shape, Keras initialization, forward independent
// of freezing, a finite-difference check of its weight gradient and of the gradient it passes to
// the layer below, and no_gradient when frozen. A new layer adds one line below.
template <class L, std::size_t In, std::size_t Out>
inline void check_layer_laws() {
  using alone = frost::basic_sequential<double, frost::input<In>, L>;
  STATIC_REQUIRE(std::is_same_v<typename alone::output_shape, frost::shape<Out>>);

  // Below a trainable tanh layer of the same width, so L's input gradient is checked through that
  // layer's kernel.
  using stack = frost::basic_sequential<double, frost::input<In>, frost::dense<In, frost::tanh_activation>, L>;
  using stack_frozen = frost::frozen_model_t<stack, 1>;
  frost::matrix<double, In> x(3);
  frost::matrix<double, Out> y(3);
  frost_test::fill_uniform(x.values(), 11);
  frost_test::fill_uniform(y.values(), 12, 0.1, 0.9);

  stack m = stack::init(5);
  stack_frozen f = frost::freeze<1>(stack::init(5));
  const auto pm = m(x), pf = f(x);
  REQUIRE(std::memcmp(pm.data(), pf.data(), pm.size() * sizeof(double)) == 0);

  REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == stack::trainable_param_count);
  REQUIRE(frost_test::check_model_gradients(f, frost::mean_squared_error{}, x, y) == stack_frozen::trainable_param_count);

  auto [loss, grads] = frost::value_and_grad(f, frost::mean_squared_error{}, x, y);
  STATIC_REQUIRE(std::is_same_v<decltype(grads.template layer<1>()), frost::no_gradient>);
  REQUIRE(loss > 0);
}

}  // namespace frost_test
