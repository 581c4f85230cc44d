#pragma once
/// \file
/// The variables of a model as weight files see them: for every layer in `model.layers` order,
/// each of its variables (graph/layer_spec.hpp `variables`) with its name (`dense_1/kernel`),
/// its Keras object path (`layers/dense_1`, by class, never by the layer's name), its shape in
/// Keras's layout, and where it lives in the model's arenas. All of it is a compile-time table;
/// the loaders and savers walk it at run time.

#include <frost/graph/model.hpp>
#include <frost/graph/names.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace frost {

/// Which arena holds a variable.
enum class arena { trainable, frozen, state };

/// One variable of a model: `layer` (index in `model.layers`), `node`, the layer's variable
/// `var` (name, shape), the index of the variable in its layer (Keras's `vars/<i>`), and its
/// arena and offset there.
struct model_variable {
  std::size_t layer = 0;
  std::size_t node = 0;
  std::size_t index = 0;
  variable var{};
  arena where = arena::trainable;
  std::size_t offset = 0;
};

namespace detail {

template <class Model, std::size_t I>
constexpr auto node_variables() {
  return []<class... In>(shape_list<In...>*) {
    if constexpr (Model::plan.facts[I].params == 0 && Model::plan.facts[I].state == 0)
      return std::array<variable, 0>{};
    else
      return layer_traits<typename Model::template node_spec<I>>::template variables<In...>;
  }(static_cast<typename Model::template node_input_shapes<I>*>(nullptr));
}

template <class Model>
constexpr std::size_t first_layer_node = Model::template node_of_layer<0>;

template <class Model>
constexpr std::size_t variable_count() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::size_t{0} + ... + node_variables<Model, I>().size());
  }(std::make_index_sequence<Model::node_count>{});
}

template <class Model>
constexpr auto variables_table() {
  constexpr std::size_t first = first_layer_node<Model>;
  std::array<model_variable, variable_count<Model>()> out{};
  std::size_t k = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          constexpr auto vars = node_variables<Model, I>();
          constexpr auto& plan = Model::plan;
          for (std::size_t v = 0; v < vars.size(); ++v) {
            model_variable m{I - first, I, v, vars[v], arena::state, 0};
            if (vars[v].state) {
              m.offset = plan.state_offset[I] + vars[v].offset;
            } else if (plan.frozen_offset[I] != plan.npos) {
              m.where = arena::frozen;
              m.offset = plan.frozen_offset[I] + vars[v].offset;
            } else {
              m.where = arena::trainable;
              m.offset = plan.trainable_offset[I] + vars[v].offset;
            }
            out[k++] = m;
          }
        }(),
        ...);
  }(std::make_index_sequence<Model::node_count>{});
  return out;
}

// Keras's object path of every node from the first layer on: the snake_case class name, then
// `_1`, `_2`, ... for later layers of the same class (saving_lib's container naming), whatever
// names the layers were given.
template <class Model>
constexpr auto keras_paths() {
  constexpr std::size_t first = first_layer_node<Model>;
  std::array<layer_name, Model::node_count> out{};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((out[I] = layer_name{keras_name_of<typename Model::template node_layer<I>>(), 0, false}), ...);
  }(std::make_index_sequence<Model::node_count>{});
  for (std::size_t i = first; i < out.size(); ++i)
    for (std::size_t j = first; j < i; ++j)
      if (out[j].base == out[i].base) ++out[i].suffix;
  return out;
}

}  // namespace detail

/// Every variable of `Model`, layer after layer in `model.layers` order, each layer's in Keras's
/// save order (dense and conv2d: kernel, bias; batch_normalization: gamma, beta, moving_mean,
/// moving_variance).
template <class Model>
inline constexpr auto model_variables = detail::variables_table<Model>();

/// The name weight files give a variable: `<layer name>/<variable>` (`dense_1/kernel`).
template <class Model>
std::string variable_name(const model_variable& v) {
  return Model::names[v.node].str() + "/" + std::string(v.var.name);
}

/// Keras's object path of layer node `node` in a `.weights.h5` file: `layers/dense_1`.
template <class Model>
std::string keras_layer_path(std::size_t node) {
  static constexpr auto paths = detail::keras_paths<Model>();
  return "layers/" + paths[node].str();
}

/// A variable's shape as text: `(100, 64)`.
inline std::string shape_string(const std::size_t* dims, std::size_t rank) {
  std::string s = "(";
  for (std::size_t d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(dims[d]);
  return s + (rank == 1 ? ",)" : ")");
}

/// The address of variable `v` in `model`'s arenas.
template <class Model>
auto* variable_data(Model& model, const model_variable& v) {
  switch (v.where) {
    case arena::trainable: return model.trainable_parameters().data() + v.offset;
    case arena::frozen: return model.frozen_parameters().data() + v.offset;
    default: return model.state().data() + v.offset;
  }
}

}  // namespace frost
