// The fused update against the gradient-arena path on convolutional models: convolution, batch
// normalization (moving statistics compared too), dropout and pooling (support/fused_update.hpp).

#include "support/fused_update.hpp"

using namespace frost;
using namespace frost_test::fused;

namespace {
// Convolutions on both weight-gradient paths (with f' fused into the load of dL/dy, and linear
// with a long patch, split by rows of dW), batch normalization (γ changes in the params stage,
// before its input stage), dropout, pooling and dense layers.
template <template <class> class F>
using cnn_relu = sequential<input<6, 6, 2>, F<conv2d<4, 3, 3, relu>>, flatten, dropout<0.25f>, dense<8, relu>,
                            dense<3, softmax>>;
template <template <class> class F>
using cnn_bn = sequential<input<6, 6, 4>, F<conv2d<6, 3, 3>>, batch_normalization<>, activation<relu>,
                          max_pooling2d<2, 2>, flatten, dense<3, softmax>>;
}  // namespace

TEST_CASE("fused update: convolution, batch normalization and dropout give the same bits", "[train][fused]") {
  matrix<float, 6, 6, 2> x2(8);
  frost_test::fill_uniform(x2.values(), 3);
  matrix<float, 6, 6, 4> x4(20);  // 20 × 16 positions: a reduction over more than 256 rows
  frost_test::fill_uniform(x4.values(), 4);
  SECTION("conv relu, all trainable") { run_all<cnn_relu<as_is>>(x2); }
  SECTION("conv relu frozen") { run_all<cnn_relu<frozen>>(x2); }
  SECTION("conv, batch normalization, all trainable") { run_all<cnn_bn<as_is>>(x4); }
  SECTION("conv frozen, batch normalization trainable") { run_all<cnn_bn<frozen>>(x4); }
}

