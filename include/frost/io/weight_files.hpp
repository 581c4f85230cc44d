#pragma once
/// \file
/// Every weight-file header at once: safetensors (`save_safetensors`, `load_safetensors`),
/// checkpoints (`save_checkpoint`, `load_checkpoint`), PyTorch state_dicts
/// (`load_pytorch_safetensors`), the `model_checkpoint` callback of `fit`, and, when frost was configured with HDF5 (FROST_WITH_HDF5),
/// Keras 3 `.weights.h5` and `.keras` files (`save_keras_weights`, `load_keras_weights`).
/// Kept out of <frost/frost.hpp>: these need nlohmann::json (and HDF5), which the rest of
/// frost does not.

#include <frost/io/checkpoint.hpp>
#include <frost/io/model_checkpoint.hpp>
#include <frost/io/pytorch.hpp>
#include <frost/io/safetensors.hpp>
#ifdef FROST_WITH_HDF5
#include <frost/io/keras_h5.hpp>
#endif
