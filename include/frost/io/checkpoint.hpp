#pragma once
/// \file
/// Checkpoints: `save_checkpoint(trainer, path)` and `load_checkpoint(trainer, path)` keep
/// everything a training run needs to go on with the same bits — every variable of the model
/// (trainable, frozen, state), the optimizer's state slots of every trainable variable, its
/// step count, and the trainer's random stream (seed and passes taken, for dropout) — in one
/// safetensors file. Names: `dense/kernel` (the weights, as `save_safetensors`),
/// `optimizer/<slot>/dense/kernel` (slots as Keras names them: `momentum`, `velocity`, ...),
/// `optimizer/iterations`, `trainer/seed`, `trainer/passes` (I64/U64 scalars); the metadata names
/// the optimizer. A checkpoint is itself a weights file: `load_safetensors` with
/// `.strict = false` reads the model from it.

#include <frost/io/safetensors.hpp>
#include <frost/io/staged_load.hpp>
#include <frost/io/variables.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace frost {
namespace detail {

template <class Spec>
std::string slot_name(std::size_t s) {
  if constexpr (requires { Spec::slot_names; }) return std::string(Spec::slot_names[s]);
  else return "slot" + std::to_string(s);
}

// Visits every optimizer slot of every trainable variable: (tensor name, shape, offset in the
// optimizer's state).
template <class Model, class Spec, class F>
void for_each_slot(F&& f) {
  for (std::size_t s = 0; s < Spec::slots; ++s)
    for (const model_variable& v : model_variables<Model>)
      if (v.where == arena::trainable)
        f("optimizer/" + slot_name<Spec>(s) + "/" + variable_name<Model>(v),
          std::vector<std::size_t>(v.var.dims.begin(), v.var.dims.begin() + v.var.rank),
          s * Model::trainable_param_count + v.offset, v.var.size());
}

inline std::uint64_t read_counter(const tensor_table& table, const std::string& name, const char* where) {
  const tensor_record* r = table.find(name);
  if (r == nullptr) throw_format(where, table.path(), "tensor '" + name + "'", "present (a frost checkpoint)", "none");
  if ((r->type != dtype::i64 && r->type != dtype::u64) || !r->shape.empty() || r->bytes.size() != 8)
    throw_format(where, table.path(), "tensor '" + name + "'", "a scalar I64 or U64",
                 std::string(dtype_name(r->type)) + " of shape " + shape_text(r->shape));
  const std::uint64_t v = load_little<std::uint64_t>(r->bytes.data());
  if (r->type == dtype::i64 && static_cast<std::int64_t>(v) < 0)
    throw_format(where, table.path(), "tensor '" + name + "'", "a count of at least 0", std::to_string(static_cast<std::int64_t>(v)));
  return v;
}

}  // namespace detail

/// Saves `trainer`'s model, optimizer state, step count and random stream to `path`
/// (safetensors), replacing the file only once the new one is complete. Throws `io_error`.
/// ```cpp
/// frost::save_checkpoint(tr, "run.ckpt.safetensors");
/// ```
template <class Trainer>
void save_checkpoint(const Trainer& trainer, const std::string& path) {
  constexpr const char* where = "frost::save_checkpoint";
  using Model = typename Trainer::model_type;
  using Spec = typename Trainer::optimizer_type::spec_type;
  using T = typename Model::scalar_type;
  const Model& model = trainer.model();
  model.ensure_weights(where);
  std::vector<tensor_to_write> tensors = detail::model_tensors_to_write(model);
  const T* state = trainer.get_optimizer().state().data();
  detail::for_each_slot<Model, Spec>([&](std::string name, std::vector<std::size_t> shape, std::size_t at, std::size_t n) {
    tensors.push_back({std::move(name), detail::dtype_of<T>(), std::move(shape), std::as_bytes(std::span<const T>(state + at, n))});
  });
  const std::uint64_t iterations = trainer.get_optimizer().iterations(), seed = trainer.random_seed(),
                      passes = trainer.passes();
  tensors.push_back({"optimizer/iterations", dtype::i64, {}, std::as_bytes(std::span<const std::uint64_t>(&iterations, 1))});
  tensors.push_back({"trainer/seed", dtype::u64, {}, std::as_bytes(std::span<const std::uint64_t>(&seed, 1))});
  tensors.push_back({"trainer/passes", dtype::u64, {}, std::as_bytes(std::span<const std::uint64_t>(&passes, 1))});
  write_safetensors(path, tensors, {{"format", "frost checkpoint"}, {"optimizer", std::string(Spec::name)}}, where);
}

/// Restores what `save_checkpoint` saved into `trainer` and its model, so that the next steps
/// give the bits they would have given in the saved run. All or nothing: on any error (another
/// optimizer, another model, a damaged file) neither the model nor the trainer changes. The
/// hyper-parameters are the trainer's own (a checkpoint holds state, not configuration).
/// Throws `io_error` or `format_error`.
/// ```cpp
/// frost::load_checkpoint(tr, "run.ckpt.safetensors");
/// ```
template <class Trainer>
void load_checkpoint(Trainer& trainer, const std::string& path) {
  constexpr const char* where = "frost::load_checkpoint";
  using Model = typename Trainer::model_type;
  using Spec = typename Trainer::optimizer_type::spec_type;
  using T = typename Model::scalar_type;
  Model& model = trainer.model();
  model.ensure_weights(where);
  const mapped_file file(path, where);
  const tensor_table table = parse_safetensors(file.bytes(), path, where);
  const auto opt = table.metadata.find("optimizer");
  if (opt == table.metadata.end())
    detail::throw_format(where, path, "metadata 'optimizer'", "present (a frost checkpoint)",
                         "none (a weights file? load it with load_safetensors)");
  if (opt->second != Spec::name)
    detail::throw_format(where, path, "optimizer", std::string(Spec::name) + " (this trainer's)", opt->second);
  const std::uint64_t iterations = detail::read_counter(table, "optimizer/iterations", where);
  const std::uint64_t seed = detail::read_counter(table, "trainer/seed", where);
  const std::uint64_t passes = detail::read_counter(table, "trainer/passes", where);
  auto expected = model_tensors(model);
  T* state = trainer.get_optimizer().state().data();
  detail::for_each_slot<Model, Spec>([&](std::string name, std::vector<std::size_t> shape, std::size_t at, std::size_t n) {
    expected.push_back({std::move(name), std::move(shape), state + at, n, {}, {}, {}});
  });
  staged_load(table, expected, where, {}, {"optimizer/iterations", "trainer/seed", "trainer/passes"});
  trainer.get_optimizer().set_iterations(iterations);
  trainer.set_random_state(seed, passes);
}

}  // namespace frost
