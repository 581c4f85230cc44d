#pragma once
/// \file
/// The whole of frost: `#include <frost/frost.hpp>`.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/expr/activations.hpp>
#include <frost/graph/freeze.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/plan.hpp>
#include <frost/graph/sequential.hpp>
#include <frost/io/summary.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/layers/dense.hpp>
#include <frost/layers/input.hpp>
#include <frost/train/gradients.hpp>
#include <frost/train/losses.hpp>
#include <frost/train/optimizer.hpp>
#include <frost/train/optimizers.hpp>
#include <frost/train/trainer.hpp>
#include <frost/train/value_and_grad.hpp>
