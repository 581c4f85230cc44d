#pragma once
/// \file
/// `summary(model)`: Keras's `model.summary()` table, plus what Keras cannot tell: the bytes of
/// gradient storage, optimizer state and training workspace the frozen/trainable split implies.

#include <frost/graph/execute.hpp>
#include <frost/graph/frozen.hpp>

#include <cstddef>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

namespace frost {
namespace detail {

inline std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

inline std::string class_name(std::string_view snake) {  // "batch_normalization" -> "BatchNormalization"
  std::string out;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

template <class S>
std::string shape_text() {
  std::string out = "(None";
  for (std::size_t d : S::dims) out += ", " + std::to_string(d);
  return out + ")";
}

inline std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace detail

/// Writes a Keras-like summary of `model` to `os`: one row per layer (name, type, output shape,
/// parameter count, trainable), Total/Trainable/Non-trainable params, then the bytes of gradient
/// storage and optimizer state (per slot: sgd 1, adam and adamw 2, rmsprop 3) that exist only
/// for trainable parameters, and the training workspace per sample.
template <class Model>
void summary(const Model& model, std::ostream& os = std::cout) {
  (void)model;
  using T = typename Model::scalar_type;
  constexpr auto& plan = Model::plan;
  const std::string rule(82, '_'), double_rule(82, '=');
  os << "Model: \"sequential\"\n" << rule << '\n';
  os << detail::pad(" Layer (type)", 30) << detail::pad("Output Shape", 22) << detail::pad("Param #", 14)
     << "Trainable\n" << double_rule << '\n';
  // Keras names layers per kind: dense, dense_1, ...; conv2d, conv2d_1, ...
  std::map<std::string_view, std::size_t> seen;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((os << [&] {
       using L = unfrozen_t<typename Model::template layer_type<I>>;
       std::string name(L::keras_name);
       if (const std::size_t n = seen[L::keras_name]++; n != 0) {
         name += '_';  // appended piecewise: g++ 12 -O3 warns (-Wrestrict) on "_" + to_string(n)
         name += std::to_string(n);
       }
       std::string row = " " + name + " (" + detail::class_name(L::keras_name) + ")";
       row = detail::pad(row, 30) + detail::pad(detail::shape_text<typename Model::template layer_output_shape<I>>(), 22) +
             detail::pad(detail::with_commas(plan.facts[I].params), 14) +
             (is_frozen_v<typename Model::template layer_type<I>> ? "N" : "Y") + "\n";
       return row;
     }()),
     ...);
  }(std::make_index_sequence<Model::layer_count>{});
  os << double_rule << '\n';
  os << "Total params: " << detail::with_commas(Model::param_count) << '\n';
  os << "Trainable params: " << detail::with_commas(Model::trainable_param_count) << '\n';
  os << "Non-trainable params: " << detail::with_commas(Model::frozen_param_count) << '\n';
  os << rule << '\n';
  os << "Gradient storage: " << detail::with_commas(Model::trainable_param_count * sizeof(T)) << " bytes\n";
  os << "Optimizer state: " << detail::with_commas(Model::trainable_param_count * sizeof(T))
     << " bytes per slot (sgd 1, adam 2, adamw 2, rmsprop 3)\n";
  os << "Training workspace: " << detail::with_commas(detail::training_workspace_v<Model> * sizeof(T))
     << " bytes per sample (kept for backward: " << detail::with_commas(plan.kept_per_sample * sizeof(T)) << ")\n";
  os << rule << '\n';
}

/// `summary(model)` as a string.
template <class Model>
std::string summary_string(const Model& model) {
  std::ostringstream os;
  summary(model, os);
  return os.str();
}

}  // namespace frost
