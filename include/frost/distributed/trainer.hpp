#pragma once
/// \file
/// `distributed`: data-parallel training across MPI processes, Keras's MirroredStrategy for a
/// trainer. Every rank holds the whole model; each step's global batch is split into one shard
/// per rank; each rank runs forward and backward on its shard into its gradient arena, and one
/// in-place sum over the ranks turns the shards' gradients into the global batch's before every
/// rank applies the same update. Because trainability is a type, the arena holds exactly the
/// trainable parameters: frozen ones never travel. Needs MPI (`FROST_WITH_MPI`).
///
/// ```cpp
/// frost::mpi::environment mpi(argc, argv);
/// auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, 16, frost::keep_gradients);
/// frost::distributed dist(tr, frost::mpi::communicator::world());  // rank 0's weights everywhere
/// float loss = dist.step(x, y);                                      // x, y: the global batch
/// ```

#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/distributed/fingerprint.hpp>
#include <frost/distributed/mpi.hpp>
#include <frost/train/inference.hpp>
#include <frost/train/trainer.hpp>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <array>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace frost {

namespace detail {
/// Rows [first, first + rows) of a target matrix, as a view.
template <class Target>
auto target_rows(const Target& y, std::size_t first, std::size_t rows) noexcept {
  using E = std::add_const_t<typename Target::value_type>;
  return matrix_view<E, Target::cols>(y.data() + first * Target::cols, rows);
}

template <class Trainer>
inline constexpr bool keeps_gradients = !Trainer::fused_update;

/// Layers with trainable parameters: the most gradient sums a step can start during backward.
template <class Model>
constexpr std::size_t trainable_nodes() noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < Model::node_count; ++i) n += Model::plan.trainable_offset[i] != Model::plan.npos;
  return n;
}
}  // namespace detail

/// How `distributed` sums the gradients: at least `value` bytes a sum. Backward finishes the
/// layers' gradients last layer first; as soon as the finished, not yet summed ones reach
/// `value` bytes, their sum starts (non-blocking) while backward goes on with earlier layers,
/// and what remains is summed after backward. `bucket_bytes{0}`: one sum per trainable layer;
/// `bucket_bytes::one_sum` (the default): one sum of the whole arena after backward.
struct bucket_bytes {
  static constexpr std::size_t one_sum = static_cast<std::size_t>(-1);
  std::size_t value = one_sum;
};

/// Trains `Trainer`'s model on every rank of a communicator: the global batch given to `step`
/// (the same on every rank) is split into contiguous shards, the first `rows % size` ranks taking
/// one row more; a shard's gradients, the mean over its rows, are weighted by its share of the
/// global batch and summed over the ranks in place, so that every rank applies the gradient of
/// the global batch's mean loss, as one process would. The trainer must keep a gradient arena
/// (`make_trainer(..., keep_gradients)`): the sum sits between the gradient and the update.
/// Construction checks that every rank runs the same trainer type (model, frozen layers, loss,
/// optimizer) and capacity, then copies rank 0's parameters and state to the others.
/// Batch normalization's moving statistics, which each rank updates from its own shard, are
/// averaged over the ranks after each step (MirroredStrategy's mean aggregation).
template <class Trainer>
class distributed {
  static_assert(detail::keeps_gradients<Trainer>,
                "frost::distributed: the gradient sum sits between the gradient and the update, so the trainer must "
                "keep a gradient arena: make it with make_trainer(..., frost::keep_gradients)");

 public:
  using trainer_type = Trainer;
  using model_type = typename Trainer::model_type;
  using scalar_type = typename Trainer::scalar_type;
  using step_outcome = typename Trainer::step_outcome;
  using loss_type = typename Trainer::loss_type;
  using optimizer_type = typename Trainer::optimizer_type;
  /// Scalars each step's gradient sum carries: the trainable parameters, and nothing else.
  static constexpr std::size_t gradient_values = gradients<model_type>::size;
  /// Scalars averaged after each step: the model's state (batch normalization's moving statistics).
  static constexpr std::size_t state_values = model_type::state_count;

  distributed(Trainer& trainer, mpi::communicator comm, bucket_bytes buckets = {})
      : trainer_(&trainer), comm_(comm), bucket_bytes_(buckets.value) {
    constexpr const char* where = "frost::distributed";
    // Every rank must start the same sums in the same order: bucket_bytes agrees too.
    const std::uint64_t mine = type_fingerprint<Trainer>() ^
                               (static_cast<std::uint64_t>(trainer.max_batch()) * 0x9e3779b97f4a7c15ull) ^
                               (static_cast<std::uint64_t>(bucket_bytes_) * 0xc2b2ae3d27d4eb4full);
    const auto [lo, hi] = comm_.min_max(mine, where);
    if (lo != hi) {
      std::ostringstream got;
      got << "fingerprints from 0x" << std::hex << lo << " to 0x" << hi << " (this rank, " << std::dec << comm_.rank()
          << ": 0x" << std::hex << mine << ")";
      mpi::detail::fail(where, "trainer on every rank",
                        "the same model type, frozen layers, loss, optimizer, max_batch and bucket_bytes everywhere", got.str());
    }
    model_type& m = trainer.model();
    m.ensure_weights(where);
    if constexpr (model_type::trainable_param_count != 0)
      comm_.broadcast(m.trainable_parameters().data(), model_type::trainable_param_count, 0, where);
    if constexpr (model_type::frozen_param_count != 0)
      comm_.broadcast(m.frozen_parameters().data(), model_type::frozen_param_count, 0, where);
    if constexpr (state_values != 0) comm_.broadcast(m.state().data(), state_values, 0, where);
    // Each rank its own dropout masks, the same on every run.
    trainer.set_random_state(trainer.random_seed() ^ (0xd1b54a32d192ed03ull * (comm_.rank() + 1)), trainer.passes());
  }

  /// Rows [first, first + count) of a global batch of `rows` that this rank trains on.
  std::pair<std::size_t, std::size_t> shard(std::size_t rows) const noexcept { return shard_of(comm_.rank(), rows); }
  std::pair<std::size_t, std::size_t> shard_of(std::size_t rank, std::size_t rows) const noexcept {
    const std::size_t p = comm_.size(), base = rows / p, extra = rows % p;
    return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
  }
  /// The largest global batch a step takes: every shard within the trainer's max_batch.
  std::size_t max_batch() const noexcept { return trainer_->max_batch() * comm_.size(); }

  /// One step on the global batch (x, y), the same on every rank; returns the global batch's
  /// loss (the mean over its rows), the same on every rank. Throws as `trainer::step` does, and
  /// `distributed_error` when a rank does not answer within the communicator's timeout.
  template <class X, class Target>
  scalar_type step(const X& x, const Target& y) {
    const step_outcome r = try_step(x, y);
    if (!r.applied())
      ::frost::detail::raise(value_error("frost::distributed::step: " + trainer_->nonfinite_message(r) +
                                         " (the update was refused on every rank)"));
    return r.loss;
  }

  /// `trainer::try_step` on the global batch: every rank refuses or applies the same update,
  /// since the checks read the summed loss and gradients. `observe(out, rows)` sees this rank's
  /// shard of the output.
  template <class X, class Target, class Observe = detail::no_observer>
  step_outcome try_step(const X& x, const Target& y, Observe&& observe = {}) {
    using Loss = typename Trainer::loss_type;
    constexpr const char* where = "frost::distributed::step";
    static_assert(Loss::needs_target, "frost::distributed::step: this loss takes no target");
    static_assert(detail::check_inputs<model_type, X>());
    static_assert(detail::check_loss<model_type, Loss, Target>());
    std::array<const scalar_type*, model_type::input_count> first{};
    const std::size_t rows = detail::input_pointers<model_type>(where, x, first);
    detail::check_batch<model_type, Loss>(where, trainer_->model(), rows, &y);
    // Every rank checks the largest shard (rank 0's), so that all refuse the same batches.
    if (shard_of(0, rows).second > trainer_->max_batch())
      detail::throw_shape(where, "batch rows",
                          "at most " + std::to_string(max_batch()) + " (max_batch " + std::to_string(trainer_->max_batch()) +
                              " on each of " + std::to_string(comm_.size()) + " ranks)",
                          std::to_string(rows));
    const auto [begin, count] = shard(rows);
    const auto ys = detail::target_rows(y, begin, count);
    const scalar_type share = static_cast<scalar_type>(count) / static_cast<scalar_type>(rows);
    // The observer sees this rank's rows of the output; one that takes a third argument is told
    // where they start in the global batch (fit's metrics read their targets from there).
    const std::size_t shard_begin = begin;
    auto shard_observer = [&](const scalar_type* out, std::size_t n) {
      if constexpr (std::is_invocable_v<Observe&, const scalar_type*, std::size_t, std::size_t>) observe(out, n, shard_begin);
      else observe(out, n);
    };
    // The sums of this step, started during backward (buckets of gradients) and after it (what
    // remains, the loss, the model state), all finished before the update.
    std::array<MPI_Request, max_sums> requests;
    requests.fill(MPI_REQUEST_NULL);
    std::size_t started = 0;
    std::size_t unsent = gradient_values;  // gradients [0, unsent) are not in a started sum
    int failed = MPI_SUCCESS;
    auto start = [&](scalar_type* g, std::size_t from) noexcept {
      for (std::size_t i = from; i < unsent; ++i) g[i] *= share;
      if (failed == MPI_SUCCESS) failed = comm_.start_sum(g + from, unsent - from, requests[started++]);
      gradient_bytes_ += (unsent - from) * sizeof(scalar_type);
      ++gradient_sums_;
      unsent = from;
    };
    step_outcome r = trainer_->step_rows(
        detail::input_rows<model_type>(x, begin), count, &ys, shard_observer,
        [&](scalar_type& loss, gradients<model_type>& g) {
          if constexpr (gradient_values != 0)
            if (unsent != 0) start(g.data(), 0);
          loss *= share;
          if (failed == MPI_SUCCESS) failed = comm_.start_sum(&loss, 1, requests[started++]);
          if constexpr (state_values != 0)
            if (failed == MPI_SUCCESS) failed = comm_.start_sum(trainer_->model().state().data(), state_values, requests[started++]);
          other_bytes_ += (1 + state_values) * sizeof(scalar_type);
          mpi::detail::check(failed, where, "MPI_Iallreduce");
          comm_.wait_all(requests.data(), started, where, "a sum over every rank");
          if constexpr (state_values != 0) {
            scalar_type* st = trainer_->model().state().data();
            const scalar_type inverse = scalar_type(1) / static_cast<scalar_type>(comm_.size());
            for (std::size_t i = 0; i < state_values; ++i) st[i] *= inverse;
          }
        },
        [&](gradients<model_type>& g, std::size_t from) noexcept {
          comm_.progress(requests.data(), started);
          if ((unsent - from) * sizeof(scalar_type) >= bucket_bytes_ && bucket_bytes_ != bucket_bytes::one_sum)
            start(g.data(), from);
        });
    return r;
  }

  /// Sums `values[0..n)` over the ranks in place (fit sums its metrics' counts with it).
  void reduce_sums(double* values, std::size_t n) { comm_.sum(values, n, "frost::distributed"); }

  // What fit, evaluate, callbacks and checkpoints use, forwarded to this rank's trainer (whose
  // model, optimizer and weights every rank holds alike).
  model_type& model() noexcept { return trainer_->model(); }
  const model_type& model() const noexcept { return trainer_->model(); }
  optimizer_type& get_optimizer() noexcept { return trainer_->get_optimizer(); }
  const optimizer_type& get_optimizer() const noexcept { return trainer_->get_optimizer(); }
  std::uint64_t random_seed() const noexcept { return trainer_->random_seed(); }
  std::uint64_t passes() const noexcept { return trainer_->passes(); }
  void set_random_state(std::uint64_t seed, std::uint64_t passes) noexcept { trainer_->set_random_state(seed, passes); }
  void check_finite(bool on) { trainer_->check_finite(on); }
  bool check_finite() const noexcept { return trainer_->check_finite(); }
  std::string nonfinite_message(const step_outcome& r) const { return trainer_->nonfinite_message(r); }
  /// Inference on this rank alone (every rank holds the whole model): rows ≤ the trainer's max_batch.
  void predict_into(const std::array<const scalar_type*, model_type::input_count>& xs, std::size_t rows,
                    scalar_type* out) noexcept {
    trainer_->predict_into(xs, rows, out);
  }
  /// Inference rows a call takes: the trainer's max_batch (predict_into runs on one rank).
  std::size_t inference_batch() const noexcept { return trainer_->max_batch(); }

  Trainer& trainer() noexcept { return *trainer_; }
  const mpi::communicator& communicator() const noexcept { return comm_; }
  std::size_t rank() const noexcept { return comm_.rank(); }
  std::size_t size() const noexcept { return comm_.size(); }
  /// Bytes this rank has put into gradient sums so far: gradient_values scalars a step.
  std::uint64_t gradient_bytes_sent() const noexcept { return gradient_bytes_; }
  /// Bytes of everything else it has reduced: the loss (one scalar a step) and the model state.
  std::uint64_t other_bytes_sent() const noexcept { return other_bytes_; }
  /// Sums of gradients it has started so far: one a step with `bucket_bytes::one_sum`, up to one
  /// per trainable layer with smaller buckets.
  std::uint64_t gradient_sums() const noexcept { return gradient_sums_; }
  /// The bucket size this trainer sums gradients by (`bucket_bytes`).
  std::size_t bucket_size() const noexcept { return bucket_bytes_; }

 private:
  // At most one sum per trainable layer, the loss and the state.
  static constexpr std::size_t max_sums = detail::trainable_nodes<model_type>() + 2;
  static_assert(gradient_values < (std::size_t(1) << 31) && state_values < (std::size_t(1) << 31),
                "frost::distributed: an MPI collective carries fewer than 2^31 values");

  Trainer* trainer_;
  mpi::communicator comm_;
  std::size_t bucket_bytes_;
  std::uint64_t gradient_bytes_ = 0;
  std::uint64_t gradient_sums_ = 0;
  std::uint64_t other_bytes_ = 0;
};

}  // namespace frost
