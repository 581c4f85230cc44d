#pragma once
/// \file
/// `summary(model)`: Keras's `model.summary()` table, plus what Keras cannot tell: the bytes of
/// gradient storage, optimizer state and training workspace the frozen/trainable split implies.

#include <frost/graph/frozen.hpp>
#include <frost/graph/names.hpp>
#include <frost/graph/node.hpp>

#include <algorithm>
#include <cstddef>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// "batch_normalization" -> "BatchNormalization", "max_pooling2d" -> "MaxPooling2D": a letter
// starts a word after '_' or a digit.
inline std::string class_name(std::string_view snake) {
  std::string out;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = c >= '0' && c <= '9';
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
/// parameter count with state such as moving statistics, for functional models the layers it
/// reads — Keras's "Connected to" — and whether it trains), Total/Trainable/Non-trainable params
/// (state counts as non-trainable, as in Keras), then the bytes of gradient storage (a trainer
/// made with keep_gradients; none with the fused update, the default) and optimizer state (per
/// slot: sgd 1, adam and adamw 2, rmsprop 3) that exist only for trainable parameters, and the
/// training workspace per sample. Throws `state_error` on a moved-from model.
template <class Model>
void summary(const Model& model, std::ostream& os = std::cout) {
  model.ensure_weights("frost::summary");
  using T = typename Model::scalar_type;
  constexpr auto& plan = Model::plan;
  constexpr bool functional = Model::template node_of_layer<0> == 0;
  constexpr std::size_t first = Model::template node_of_layer<0>;
  // The first column fits the longest "name (Type)" (at least 30 wide, as Keras's).
  std::vector<std::string> first_column(Model::node_count);
  std::size_t name_width = 30;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((first_column[I] = " " + Model::names[I].str() + " (" +
                        detail::class_name(detail::keras_name_of<typename Model::template node_layer<I>>()) + ")",
      name_width = I >= first ? std::max(name_width, first_column[I].size() + 2) : name_width),
     ...);
  }(std::make_index_sequence<Model::node_count>{});
  const std::size_t width = (functional ? 108 : 82) + name_width - 30;
  const std::string rule(width, '_'), double_rule(width, '=');
  os << "Model: \"" << (functional ? "functional" : "sequential") << "\"\n" << rule << '\n';
  os << detail::pad(" Layer (type)", name_width) << detail::pad("Output Shape", 22) << detail::pad("Param #", 14)
     << (functional ? detail::pad("Connected to", 26) : std::string()) << "Trainable\n" << double_rule << '\n';
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (I >= first) {
            using L = typename Model::template node_layer<I>;
            std::string row = first_column[I];
            std::vector<std::string> inbound;
            for (std::size_t e = plan.facts[I].first_edge; e < plan.facts[I].first_edge + plan.facts[I].arity; ++e)
              inbound.push_back(Model::names[plan.edges[e].from].str() + "[0][0]");
            row = detail::pad(row, name_width) +
                  detail::pad(detail::shape_text<typename Model::template node_output_shape<I>>(), 22) +
                  detail::pad(detail::with_commas(plan.facts[I].params + plan.facts[I].state), 14);
            if constexpr (functional) row += detail::pad(inbound.empty() ? std::string("-") : inbound[0], 26);
            row += std::string(is_input_layer_v<L> ? "-" : is_frozen_v<L> ? "N" : "Y") + "\n";
            for (std::size_t k = 1; k < inbound.size(); ++k) row += std::string(name_width + 36, ' ') + inbound[k] + "\n";
            os << row;
          }
        }(),
        ...);
  }(std::make_index_sequence<Model::node_count>{});
  os << double_rule << '\n';
  os << "Total params: " << detail::with_commas(Model::param_count + Model::state_count) << '\n';
  os << "Trainable params: " << detail::with_commas(Model::trainable_param_count) << '\n';
  os << "Non-trainable params: " << detail::with_commas(Model::frozen_param_count + Model::state_count) << '\n';
  os << rule << '\n';
  os << "Gradient storage: " << detail::with_commas(Model::trainable_param_count * sizeof(T))
     << " bytes with keep_gradients (0 with the fused update)\n";
  os << "Optimizer state: " << detail::with_commas(Model::trainable_param_count * sizeof(T))
     << " bytes per slot (sgd 1, adam 2, adamw 2, rmsprop 3)\n";
  os << "Training workspace: " << detail::with_commas(plan.workspace_per_sample * sizeof(T))
     << " bytes per sample (kept for backward: " << detail::with_commas(plan.kept_per_sample * sizeof(T)) << ")\n";
  os << rule << '\n';
}

/// Writes `summary(trainer.model())`, then what the trainer holds: how it updates (inside the
/// weight-gradient products, or from a gradient arena kept by `keep_gradients`) and the bytes of
/// each of its buffers, as `allocated_bytes()` counts them.
template <class Trainer>
  requires requires { Trainer::fused_update; typename Trainer::optimizer_type; }
void summary(const Trainer& tr, std::ostream& os = std::cout) {
  using T = typename Trainer::scalar_type;
  summary(tr.model(), os);
  const std::size_t state = Trainer::optimizer_type::state_size * sizeof(T);
  const std::size_t workspace = tr.allocated_bytes() - state - Trainer::gradient_bytes - tr.update_scratch_bytes();
  os << "Trainer: " << Trainer::optimizer_type::spec_type::name << ", max_batch " << detail::with_commas(tr.max_batch())
     << ", " << tr.thread_count() << (tr.thread_count() == 1 ? " thread\n" : " threads\n");
  if constexpr (Trainer::fused_update)
    os << "Update: fused into the weight-gradient products (no gradient stored)\n";
  else
    os << "Update: from a gradient arena (keep_gradients), after backward\n";
  os << "  Gradients: " << detail::with_commas(Trainer::gradient_bytes) << " bytes\n";
  if constexpr (Trainer::fused_update)
    os << "  Update scratch (one layer at most): " << detail::with_commas(tr.update_scratch_bytes()) << " bytes\n";
  os << "  Optimizer state: " << detail::with_commas(state) << " bytes\n";
  os << "  Workspace: " << detail::with_commas(workspace) << " bytes\n";
  os << "  Total: " << detail::with_commas(tr.allocated_bytes()) << " bytes\n";
  os << std::string(Trainer::model_type::template node_of_layer<0> == 0 ? 108 : 82, '_') << '\n';
}

/// `summary(model)` as a string.
template <class Model>
std::string summary_string(const Model& model) {
  std::ostringstream os;
  summary(model, os);
  return os.str();
}

}  // namespace frost
