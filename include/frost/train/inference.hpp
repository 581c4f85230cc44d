#pragma once
/// \file
/// Inference for people: `make_inference(model, max_batch, threads{n})` makes a reusable object
/// that holds a workspace for `max_batch` rows and its threads, and `predict(model, x, {...})`
/// runs a whole array through one in batches (Keras `model.predict(x, batch_size)`). After the
/// object is made, `run(x, out)` allocates nothing and writes the caller's buffer.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/storage.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/forward.hpp>
#include <frost/train/dataset.hpp>
#include <frost/train/value_and_grad.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>

namespace frost {

/// Options of `predict(model, x, options)` and `evaluate(model, ...)`: Keras's `batch_size`
/// (default 32), and the threads each batch is split across.
struct predict_options {
  std::size_t batch_size = 32;
  frost::threads threads{};
};

namespace detail {
/// The pointers to rows [first, first + n) of every input of `x` (a view or a tuple of views).
template <class Model, class X>
std::array<const typename Model::scalar_type*, Model::input_count> input_rows(const X& x, std::size_t first) noexcept {
  std::array<const typename Model::scalar_type*, Model::input_count> out{};
  const auto list = input_list<X>::of(x);
  std::apply(
      [&](const auto&... m) {
        std::size_t k = 0;
        ((out[k++] = m.data() + first * std::remove_cvref_t<decltype(m)>::cols), ...);
      },
      list);
  return out;
}
}  // namespace detail

/// Inference of `Model` on batches of up to `max_batch` rows, on `threads{n}` threads (the
/// caller and n − 1 workers this object owns). Holds a reference to the model: keep the model
/// alive. Results are bit for bit those of `model(x)`, whatever the thread count.
/// ```cpp
/// auto run = frost::make_inference(model, 256, frost::threads{2});
/// frost::matrix<float, 10> out(x.rows());
/// run(x, out);                    // x.rows() ≤ 256: allocates nothing
/// auto p = run.predict(big_x);    // any rows, in batches of 256: allocates the result only
/// ```
/// `MaxBatch` above 0 (`make_inference<MaxBatch>(model)`) puts the workspace inside the object,
/// sized at compile time: with a `storage::inline_` model and one thread, no heap at all.
template <class Model, std::size_t MaxBatch = 0>
class inference {
 public:
  using model_type = Model;
  using scalar_type = typename Model::scalar_type;
  using output_matrix = typename Model::output_matrix;
  static constexpr std::size_t outputs = Model::output_shape::size;
  /// The compile-time batch capacity (0: set at run time, the workspace on the heap).
  static constexpr std::size_t static_max_batch = MaxBatch;
  /// Does nothing of this object or its model live on the heap (one thread)?
  static constexpr bool heap_free = MaxBatch != 0 && std::is_same_v<typename Model::storage_type, storage::inline_>;

  inference(const Model& model, std::size_t max_batch, threads t = {})
      : model_(&model), cap_(max_batch), ws_(Model::plan.inference_per_sample * max_batch) {
    if (max_batch == 0) detail::throw_shape("frost::make_inference", "max_batch", "at least 1", "0");
    if (MaxBatch != 0 && max_batch != MaxBatch)
      detail::throw_shape("frost::make_inference", "max_batch", std::to_string(MaxBatch) + " (the compile-time capacity)",
                          std::to_string(max_batch));
    if (t.count == 0) detail::throw_value("frost::make_inference", "threads", "at least 1", "0");
    if (t.count > 1) pool_ = std::make_unique<thread_pool>(t);
  }

  std::size_t max_batch() const noexcept { return cap_; }
  /// Threads a call uses, the calling thread included.
  std::size_t thread_count() const noexcept { return pool_ ? pool_->size() : 1; }
  const Model& model() const noexcept { return *model_; }
  /// Bytes this object allocated on the heap (its workspace; 0 when the workspace is inside it).
  std::size_t allocated_bytes() const noexcept { return detail::heap_bytes(ws_); }

  /// The model's output for `x` (one matrix or view; `std::tie(a, b)` for several inputs) into
  /// `out` (a matrix or view with x's rows). Throws `shape_error` for more rows than max_batch
  /// or an `out` of other rows; then runs without allocating or throwing.
  template <class X, class Out>
  void operator()(const X& x, Out&& out) {
    static_assert(detail::check_inputs<Model, X>());
    static_assert(std::remove_cvref_t<Out>::cols == outputs,
                  "frost::inference: the output matrix must have as many columns as the model has outputs");
    model_->ensure_weights("frost::inference");
    const auto xs = detail::input_rows<Model>(x, 0);
    const std::size_t rows = detail::checked_rows("frost::inference", detail::input_list<X>::of(x));
    if (rows > cap_)
      detail::throw_shape("frost::inference", "batch rows", "at most " + std::to_string(cap_) + " (max_batch)",
                          std::to_string(rows));
    if (out.rows() != rows)
      detail::throw_shape("frost::inference", "rows of the output", std::to_string(rows) + " (the rows of x)",
                          std::to_string(out.rows()));
    run_rows(xs, rows, out.data());
  }

  /// The model's output for any number of rows, computed max_batch rows at a time straight
  /// into the result (the only allocation). Keras `model.predict(x)`.
  template <class X>
  output_matrix predict(const X& x) {
    static_assert(detail::check_inputs<Model, X>());
    model_->ensure_weights("frost::inference::predict");
    const std::size_t rows = detail::checked_rows("frost::predict", detail::input_list<X>::of(x));
    output_matrix out(rows);
    for (std::size_t first = 0; first < rows; first += cap_)
      run_rows(detail::input_rows<Model>(x, first), std::min(cap_, rows - first), out.data() + first * outputs);
    return out;
  }

  /// The unchecked core: `rows` ≤ max_batch rows starting at `xs` (one pointer per input) into
  /// `out` (rows × outputs).
  void run_rows(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows,
                scalar_type* out) noexcept {
    // One row of a model that runs in registers from its input: no workspace, no call per pass.
    if constexpr (detail::runs_in_registers<Model>()) {
      if (rows == 1) {
        const flush_denormals flush;
        detail::run_register_chain<Model, 1>(*model_, xs[0], out);
        return;
      }
    }
    if (rows != 0)
      detail::forward<false>(*model_, detail::pass_buffers<scalar_type>{xs.data(), ws_.data(), rows, out}, rows,
                             pool_.get());
  }

 private:
  const Model* model_;
  std::size_t cap_;
  detail::workspace_t<scalar_type, Model::plan.inference_per_sample * MaxBatch> ws_;
  std::unique_ptr<thread_pool> pool_;  // null for one thread
};

/// An inference object for `model`: batches of up to `max_batch` rows on `threads{n}` threads.
template <class Model>
inference<Model> make_inference(const Model& model, std::size_t max_batch, threads t = {}) {
  return inference<Model>(model, max_batch, t);
}

/// An inference object whose workspace lives inside it, for batches of up to `MaxBatch` rows.
/// ```cpp
/// static auto run = frost::make_inference<1>(model);   // one sample per call, no heap
/// ```
template <std::size_t MaxBatch, class Model>
inference<Model, MaxBatch> make_inference(const Model& model, threads t = {}) {
  static_assert(MaxBatch >= 1, "frost::make_inference<MaxBatch>: the capacity is at least one row");
  return inference<Model, MaxBatch>(model, MaxBatch, t);
}

/// The model's output for every row of `x`, `options.batch_size` rows at a time on
/// `options.threads` threads. Keras `model.predict(x, batch_size=32)`. Allocates the result
/// and one workspace; for repeated calls, keep a `make_inference` object instead.
/// ```cpp
/// auto p = frost::predict(model, x, {.batch_size = 256, .threads = frost::threads{2}});
/// ```
template <class Model, class X>
typename Model::output_matrix predict(const Model& model, const X& x, const predict_options& options = {}) {
  static_assert(detail::check_inputs<Model, X>());
  if (options.batch_size == 0) detail::throw_value("frost::predict", "batch_size", "at least 1", "0");
  const std::size_t rows = detail::checked_rows("frost::predict", detail::input_list<X>::of(x));
  return inference<Model>(model, std::max<std::size_t>(1, std::min(options.batch_size, rows)), options.threads)
      .predict(x);
}

}  // namespace frost
