#pragma once
/// \file
/// `fit`, `evaluate`: Keras's training loop over in-memory data, on a trainer. `fit(trainer, x, y,
/// {.epochs, .batch_size, .validation_split, .shuffle, ...}, extras...)` trains epoch after epoch
/// and returns the `history`; the extras, in any order, are metrics (`accuracy{}`), callbacks
/// (`early_stopping{...}`, lambdas), `validation_data(xv, yv)` and `unfreeze_at<I...>{.epoch}`
/// stages. Every buffer is made before the first step: a step inside fit allocates nothing.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/random.hpp>
#include <frost/graph/freeze.hpp>
#include <frost/train/callbacks.hpp>
#include <frost/train/dataset.hpp>
#include <frost/train/history.hpp>
#include <frost/train/inference.hpp>
#include <frost/train/metrics.hpp>
#include <frost/train/progress.hpp>
#include <frost/train/trainer.hpp>

#include <boost/hana/at.hpp>
#include <boost/hana/equal.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/less_equal.hpp>
#include <boost/hana/range.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost {

/// What `fit` does when a step's loss (or, with `check_finite`, a gradient) is NaN or Inf. In
/// both cases that update is refused: parameters and optimizer state stay as they were.
enum class nonfinite {
  stop,  ///< end training with `nonfinite_error` (Keras's TerminateOnNaN), the history so far inside
  skip,  ///< leave the batch out and go on; each epoch logs "nonfinite_batches"
};

/// `fit`'s arguments, with Keras's names and defaults.
struct fit_options {
  std::size_t epochs = 1;
  std::size_t batch_size = 32;  ///< at most the trainer's max_batch
  /// The last fraction of the samples validates (taken before shuffling), as Keras's.
  float validation_split = 0;
  bool shuffle = true;  ///< reshuffle the training samples before every epoch
  std::uint64_t seed = 0;  ///< of the shuffling
  int verbose = 1;  ///< 0 silent; 1 a progress bar on a terminal, plain lines elsewhere; 2 plain lines
  std::size_t initial_epoch = 0;  ///< the epoch to start at (to resume training)
  std::size_t validation_batch_size = 0;  ///< 0: batch_size
  bool check_finite = false;  ///< also check every gradient (the trainer's finite-check mode), not only the loss
  nonfinite on_nonfinite = nonfinite::stop;
  std::FILE* output = nullptr;  ///< where progress goes (null: stdout)
};

/// Thrown by `fit` when a step is not finite and `on_nonfinite` is `nonfinite::stop`: the
/// message says where and what; `history()` holds the epochs that completed.
class nonfinite_error : public value_error {
 public:
  nonfinite_error(const std::string& message, history h)
      : value_error(message), history_(std::make_shared<const frost::history>(std::move(h))) {}
  const frost::history& history() const noexcept { return *history_; }

 private:
  std::shared_ptr<const frost::history> history_;
};

/// Validation data given to `fit` instead of a split (Keras's `validation_data=(x_val, y_val)`).
template <class X, class Y>
struct validation_data_t {
  dataset<X, Y> data;
};
template <class XM, class YM>
auto validation_data(const XM& x, const YM& y) {
  auto d = make_dataset(x, y);
  return validation_data_t<typename decltype(d)::inputs_type, typename decltype(d)::targets_type>{d};
}
template <class X, class Y>
validation_data_t<X, Y> validation_data(const dataset<X, Y>& d) {
  return {d};
}

/// A stage of progressive unfreezing for `fit`: from epoch `epoch` on, layers `I...` (indices as
/// `unfreeze` takes) train. fit then re-types the model (`unfreeze<I...>`) and the trainer
/// (`rebind`: optimizer state carried over, new parameters starting from zero state), so it
/// takes the trainer as `std::move(trainer)` and returns a `fit_result` holding the new ones.
/// ```cpp
/// auto r = frost::fit(std::move(tr), x, y, {.epochs = 10}, frost::unfreeze_at<0, 1>{.epoch = 5});
/// r.model();  // layers 0 and 1 trainable again
/// ```
template <std::size_t... I>
struct unfreeze_at {
  std::size_t epoch = 0;
};

/// What `fit` returns when it re-typed the model: the history, the model in its last type
/// (owned here; the model fit started from was moved from) and the trainer bound to it.
template <class Model, class Trainer>
struct fit_result {
  frost::history history;
  std::unique_ptr<Model> owned_model;
  Trainer trainer;
  Model& model() noexcept { return *owned_model; }
  const Model& model() const noexcept { return *owned_model; }
};

namespace detail {

template <class T>
struct is_validation : std::false_type {};
template <class X, class Y>
struct is_validation<validation_data_t<X, Y>> : std::true_type {};
template <class T>
struct is_stage : std::false_type {};
template <std::size_t... I>
struct is_stage<unfreeze_at<I...>> : std::true_type {};
template <class T>
struct is_metric : std::bool_constant<metric<T>> {};
template <class T>
struct is_callback : std::bool_constant<!metric<T> && !is_validation<T>::value && !is_stage<T>::value> {};

/// The positions of fit's extras that `Pred` picks, as a hana tuple of hana::size_t.
template <template <class> class Pred, class... E>
constexpr auto extras_where() {
  namespace hana = boost::hana;
  using all = std::tuple<std::remove_cvref_t<E>...>;
  return hana::filter(hana::to_tuple(hana::range_c<std::size_t, 0, sizeof...(E)>), [](auto i) {
    return hana::bool_c<Pred<std::tuple_element_t<decltype(i)::value, all>>::value>;
  });
}

/// The extras at `Ids`, as a std::tuple of references (or, with Copy, of copies).
template <bool Copy, class Ids, class Refs>
auto extras_at(Ids ids, Refs& refs) {
  return boost::hana::unpack(ids, [&](auto... i) {
    if constexpr (Copy) return std::tuple<std::remove_cvref_t<std::tuple_element_t<decltype(i)::value, Refs>>...>(
        std::get<decltype(i)::value>(refs)...);
    else return std::tuple<std::tuple_element_t<decltype(i)::value, Refs>...>(std::get<decltype(i)::value>(refs)...);
  });
}

/// Compile-error predicate: fit's extra argument number `Position` (from 0, after the options),
/// of type `Extra`, is a metric, a callback for contexts `Ctx`, validation data or a stage.
template <std::size_t Position, class Extra, class Ctx>
inline constexpr bool fit_extra_understood =
    metric<Extra> || is_validation<Extra>::value || is_stage<Extra>::value || callback_for<Extra, Ctx>;

template <class Tr, class... E, std::size_t... I>
constexpr bool check_extras(std::index_sequence<I...>) {
  static_assert((fit_extra_understood<I, std::remove_cvref_t<E>, fit_context<Tr>> && ...),
                "frost::fit: an extra argument is neither a metric (accuracy{}), a callback (a type with "
                "on_epoch_end(ctx) or another hook, or a lambda taking the fit_context), validation_data(x, y) "
                "nor unfreeze_at<I...>{.epoch}");
  return true;
}

/// Compile-error predicate: fit got the trainer as an rvalue (`std::move(trainer)`), which a fit
/// with unfreeze_at stages needs: it re-types and returns the trainer.
template <class TrainerArg>
inline constexpr bool trainer_moved_into_fit = !std::is_lvalue_reference_v<TrainerArg>;

template <std::size_t Outputs, class Target, std::size_t TargetValues, class... M>
constexpr bool check_metrics_of(std::tuple<M...>*) {
  static_assert((metric_fits_targets<M, Outputs, Target, TargetValues> && ...),
                "frost::fit, frost::evaluate: a metric does not fit the targets: categorical_accuracy, binary_accuracy and "
                "mean_absolute_error compare each output with a target of the same width; integer labels go with "
                "accuracy or sparse_categorical_accuracy");
  return true;
}

template <class Model, class Y, class Metrics>
constexpr bool check_metrics(const char*, Metrics* m) {
  return check_metrics_of<Model::output_shape::size, std::remove_const_t<typename Y::value_type>, Y::cols>(m);
}

template <class Tuple, class F>
void for_each(Tuple& t, F&& f) {
  std::apply([&](auto&... e) { (f(e), ...); }, t);
}

/// The loss and metrics of `model`'s outputs over `data`, in batches of `batch` rows computed
/// by `run(xs, rows, out)` (inference mode); `out` and `scratch` hold batch × outputs scalars.
template <class Model, class Loss, class X, class Y, class Run, class Metrics>
double evaluate_batches(Run&& run, const dataset<X, Y>& data, std::size_t batch, typename Model::scalar_type* out,
                        typename Model::scalar_type* scratch, Metrics& metrics) {
  constexpr std::size_t K = Model::output_shape::size;
  for_each(metrics, [](auto& m) { m.reset(); });
  double sum = 0;
  for (std::size_t first = 0; first < data.size(); first += batch) {
    const std::size_t n = std::min(batch, data.size() - first);
    run(input_rows<Model>(data.x(), first), n, out);
    const auto* y = data.y().data() + first * Y::cols;
    sum += static_cast<double>(Loss::template evaluate<K, false>(out, y, n, scratch)) * static_cast<double>(n);
    for_each(metrics, [&](auto& m) { m.template update<K>(static_cast<const typename Model::scalar_type*>(out), y, n); });
  }
  return data.size() == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(data.size());
}

template <class Model, class Loss, class X, class Y>
void check_targets(const char* where, const dataset<X, Y>& data) {
  if constexpr (Loss::sparse)
    Loss::template check_labels<Model::output_shape::size>(where, data.y().data(), data.size());
}

/// Rows one inference call of the trainer takes: its max_batch, or for a distributed trainer
/// (whose max_batch is the global batch's) what one rank's trainer takes.
template <class Trainer>
std::size_t inference_rows(const Trainer& tr) noexcept {
  if constexpr (requires { tr.inference_batch(); }) return tr.inference_batch();
  else return tr.max_batch();
}

/// A trainer spread over processes (frost::distributed): every rank runs fit alike on its shard
/// of each batch, the metrics' counts are summed over the ranks, and rank 0 alone prints.
template <class Trainer>
concept across_ranks = requires(Trainer& t, double* v) {
  t.reduce_sums(v, std::size_t{});
  { t.rank() } -> std::convertible_to<std::size_t>;
};

/// Sums each metric's running count over the ranks: built-in metrics and any that keep Keras's
/// running mean as `sum` and `count` (detail::sample_mean).
template <class Trainer, class Metrics>
void reduce_metrics(Trainer& tr, Metrics& metrics) {
  if constexpr (std::tuple_size_v<Metrics> != 0) {
    std::array<double, 2 * std::tuple_size_v<Metrics>> v{};
    std::size_t k = 0;
    for_each(metrics, [&](auto& m) {
      static_assert(requires { m.sum; m.count; },
                    "frost::fit with a distributed trainer: a metric's counts are summed over the ranks, so it keeps "
                    "them as `sum` and `count` (derive it from frost::detail::sample_mean)");
      v[k++] = static_cast<double>(m.sum);
      v[k++] = static_cast<double>(m.count);
    });
    tr.reduce_sums(v.data(), v.size());
    k = 0;
    for_each(metrics, [&](auto& m) {
      m.sum = static_cast<decltype(m.sum)>(v[k++]);
      m.count = static_cast<decltype(m.count)>(v[k++]);
    });
  }
}

template <class Trainer>
struct check_finite_guard {
  Trainer* tr;
  bool before;
  ~check_finite_guard() { tr->check_finite(before); }
};

/// fit's state that does not depend on the trainer's type: data, shuffling, buffers, metrics,
/// callbacks, progress and the history. `run(trainer, end)` trains epochs up to `end`.
template <class Model, class Loss, class X, class Y, class Metrics, class Callbacks>
class fit_loop {
  using T = typename Model::scalar_type;
  static constexpr std::size_t K = Model::output_shape::size;

 public:
  fit_loop(const dataset<X, Y>& train, std::optional<dataset<X, Y>> val, const fit_options& o, Metrics metrics,
           Callbacks callbacks)
      : train_(train), val_(std::move(val)), o_(o), train_metrics_(metrics), val_metrics_(std::move(metrics)),
        callbacks_(callbacks), progress_(o.verbose, o.output != nullptr ? o.output : stdout), rng_(o.seed) {
    st_.epoch = o.initial_epoch;
    st_.epochs = o.epochs;
    st_.progress = &progress_;
    st_.steps = (train.size() + o.batch_size - 1) / o.batch_size;
    if (o.shuffle) {
      order_.resize(train.size());
      for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
      buffer_.emplace(o.batch_size);
    }
    if (val_) {
      val_batch_ = o.validation_batch_size != 0 ? o.validation_batch_size : o.batch_size;
      out_ = aligned_buffer<T>(val_batch_ * K);
      scratch_ = aligned_buffer<T>(val_batch_ * K);
      for_each(val_metrics_, [&](auto& m) { val_names_.push_back("val_" + std::string(m.name)); });
    }
  }

  fit_state& state() noexcept { return st_; }
  progress_printer& progress() noexcept { return progress_; }
  /// Why training stopped at a non-finite step (empty: it did not).
  const std::string& failure() const noexcept { return failure_; }
  [[noreturn]] void throw_failure() { ::frost::detail::raise(nonfinite_error(failure_, std::move(st_.history))); }
  std::size_t validation_batch() const noexcept { return val_batch_; }

  template <class Trainer>
  void train_begin(Trainer& tr) {
    fit_context<Trainer> ctx(tr, st_);
    for_each(callbacks_, [&](auto& c) { on_train_begin(c, ctx); });
  }
  template <class Trainer>
  void train_end(Trainer& tr) {
    fit_context<Trainer> ctx(tr, st_);
    for_each(callbacks_, [&](auto& c) { on_train_end(c, ctx); });
  }

  /// Trains epochs st_.epoch .. end (or until a callback stops training).
  template <class Trainer>
  void run(Trainer& tr, std::size_t end) {
    fit_context<Trainer> ctx(tr, st_);
    for (; st_.epoch < end && !st_.stop; ++st_.epoch) {
      st_.logs = frost::logs{};
      for_each(callbacks_, [&](auto& c) { on_epoch_begin(c, ctx); });
      if (o_.shuffle)
        for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.next() % i]);
      for_each(train_metrics_, [](auto& m) { m.reset(); });
      double loss_sum = 0;
      std::size_t seen = 0, skipped = 0;
      progress_.epoch_begin(st_.epoch, st_.epochs, st_.steps);
      for (std::size_t b = 0; b < st_.steps && !st_.stop; ++b) {
        const std::size_t first = b * o_.batch_size, n = std::min(o_.batch_size, train_.size() - first);
        st_.batch = b;
        st_.batch_rows = n;
        for_each(callbacks_, [&](auto& c) { on_batch_begin(c, ctx); });
        typename Trainer::step_outcome r{};
        if (o_.shuffle) {
          const auto [xb, yb] = buffer_->gather(train_, order_.data() + first, n);
          r = step_(tr, xb, yb);
        } else {
          const dataset<X, Y> part = train_.slice(first, first + n);
          r = step_(tr, part.x(), part.y());
        }
        if (!r.applied()) {
          if (o_.on_nonfinite == nonfinite::stop) {
            // Training ends here: this epoch is not logged, on_train_end still runs (early
            // stopping restores its best weights), then fit throws nonfinite_error.
            failure_ = "frost::fit: epoch " + std::to_string(st_.epoch + 1) + ", batch " + std::to_string(b + 1) +
                       ": " + tr.nonfinite_message(r) + "; the update was refused and training stopped";
            progress_.message(failure_);
            st_.stop = true;
            return;
          }
          ++skipped;
        } else {
          loss_sum += static_cast<double>(r.loss) * static_cast<double>(n);
          seen += n;
        }
        st_.batch_loss = static_cast<double>(r.loss);
        for_each(callbacks_, [&](auto& c) { on_batch_end(c, ctx); });
        if (progress_.is_bar())
          progress_.batch_end(b + 1, seen, [&](char* buf, std::size_t room) noexcept {
            std::size_t w = progress_printer::put_value(buf, room, "loss", seen ? loss_sum / double(seen) : 0.0);
            for_each(train_metrics_, [&](auto& m) { w += progress_printer::put_value(buf + w, room - w, m.name, m.result()); });
            return w;
          });
      }
      st_.logs.set("loss", seen != 0 ? loss_sum / static_cast<double>(seen) : std::numeric_limits<double>::quiet_NaN());
      // Each rank saw its shards: the epoch's metrics count every rank's (the bar showed this rank's).
      if constexpr (across_ranks<Trainer>) reduce_metrics(tr, train_metrics_);
      for_each(train_metrics_, [&](auto& m) { st_.logs.set(m.name, m.result()); });
      if (o_.on_nonfinite == nonfinite::skip) st_.logs.set("nonfinite_batches", static_cast<double>(skipped));
      if (val_) validate_(tr);
      for_each(callbacks_, [&](auto& c) { on_epoch_end(c, ctx); });
      progress_.epoch_end(st_.logs, seen);
      st_.history.add(st_.epoch, st_.logs);
    }
  }

 private:
  template <class Trainer, class XB, class YB>
  typename Trainer::step_outcome step_(Trainer& tr, const XB& xb, const YB& yb) {
    if constexpr (std::tuple_size_v<Metrics> == 0) {
      return tr.try_step(xb, yb);
    } else {
      // A refused step's outputs do not count: the metrics are restored (a few bytes each).
      Metrics before = o_.on_nonfinite == nonfinite::skip ? train_metrics_ : Metrics{};
      // `first`: where the rows start in the batch (a distributed trainer's shard), so that the
      // metrics read their own targets.
      constexpr std::size_t YK = std::remove_cvref_t<decltype(yb)>::cols;
      auto r = tr.try_step(xb, yb, [&](const T* p, std::size_t rows, std::size_t first = 0) noexcept {
        for_each(train_metrics_, [&](auto& m) { m.template update<K>(p, yb.data() + first * YK, rows); });
      });
      if (!r.applied() && o_.on_nonfinite == nonfinite::skip) train_metrics_ = before;
      return r;
    }
  }

  template <class Trainer>
  void validate_(Trainer& tr) {
    const double loss = evaluate_batches<Model, Loss>(
        [&](const auto& xs, std::size_t n, T* out) { tr.predict_into(xs, n, out); }, *val_, val_batch_, out_.data(),
        scratch_.data(), val_metrics_);
    st_.logs.set("val_loss", loss);
    std::size_t k = 0;
    for_each(val_metrics_, [&](auto& m) { st_.logs.set(val_names_[k++], m.result()); });
  }

  dataset<X, Y> train_;
  std::optional<dataset<X, Y>> val_;
  fit_options o_;
  Metrics train_metrics_, val_metrics_;
  Callbacks callbacks_;
  progress_printer progress_;
  random_stream rng_;
  fit_state st_;
  std::vector<std::size_t> order_;
  std::optional<batch_buffer<X, Y>> buffer_;
  std::size_t val_batch_ = 0;
  aligned_buffer<T> out_, scratch_;
  std::vector<std::string> val_names_;
  std::string failure_;
};

/// "layer 1", "layers 0, 1".
template <std::size_t... I>
std::string layer_list(unfreeze_at<I...>) {
  std::string s = sizeof...(I) == 1 ? "layer " : "layers ";
  std::size_t k = 0;
  ((s += (k++ == 0 ? "" : ", ") + std::to_string(I)), ...);
  return s;
}

/// Runs the stages from K on: epochs up to stage K's epoch, then unfreezes and goes on with
/// the re-typed model and trainer. `owned` holds the model once fit made it (null at first). If
/// a non-finite step stopped training, the model goes back into `origin` (the model fit
/// started from, in its own type) before nonfinite_error is thrown: nothing is lost.
template <std::size_t K, class Loop, class Stages, class Tr, class OwnedModel, class Origin>
auto run_stages(Loop& loop, const Stages& stages, Tr&& tr, std::unique_ptr<OwnedModel> owned, Origin* origin,
                bool check_before) {
  using Trainer = std::remove_cvref_t<Tr>;
  using Model = typename Trainer::model_type;
  if constexpr (K == std::tuple_size_v<Stages>) {
    loop.run(tr, loop.state().epochs);
    loop.train_end(tr);
    tr.check_finite(check_before);
    if (!loop.failure().empty()) {
      *origin = retype<Origin>(std::move(*owned));
      loop.throw_failure();
    }
    return fit_result<Model, Trainer>{std::move(loop.state().history), std::move(owned), std::forward<Tr>(tr)};
  } else {
    const auto& stage = std::get<K>(stages);
    loop.run(tr, std::max(stage.epoch, loop.state().epoch));
    auto next = [&]<std::size_t... I>(unfreeze_at<I...>) {
      return std::make_unique<unfrozen_model_t<Model, I...>>(unfreeze<I...>(std::move(tr.model())));
    }(stage);
    auto next_tr = std::forward<Tr>(tr).rebind(*next);
    if (!loop.state().stop) {
      using Next = typename decltype(next)::element_type;
      loop.progress().message("Epoch " + std::to_string(loop.state().epoch + 1) + ": " + layer_list(stage) +
                              " unfrozen (trainable params " + std::to_string(Model::trainable_param_count) + " -> " +
                              std::to_string(Next::trainable_param_count) + ")");
    }
    return run_stages<K + 1>(loop, stages, std::move(next_tr), std::move(next), origin, check_before);
  }
}

template <class Trainer, class X, class Y, class... Extras>
auto fit_data(Trainer&& tr, const dataset<X, Y>& data, const fit_options& o, Extras&&... extras) {
  using Tr = std::remove_cvref_t<Trainer>;
  using Model = typename Tr::model_type;
  using Loss = typename Tr::loss_type;
  constexpr const char* where = "frost::fit";
  static_assert(Loss::needs_target, "frost::fit: the trainer's loss takes no target; fit trains on (x, y)");
  static_assert(check_inputs<Model, X>());
  static_assert(check_loss<Model, Loss, Y>());

  namespace hana = boost::hana;
  auto refs = std::forward_as_tuple(extras...);  // every extra, as an lvalue reference
  constexpr auto metric_ids = extras_where<is_metric, Extras...>();
  constexpr auto validation_ids = extras_where<is_validation, Extras...>();
  constexpr auto stage_ids = extras_where<is_stage, Extras...>();
  constexpr auto callback_ids = extras_where<is_callback, Extras...>();
  static_assert(hana::length(validation_ids) <= hana::size_c<1>, "frost::fit: give validation_data once");
  auto metrics = extras_at<true>(metric_ids, refs);
  static_assert(check_metrics<Model, Y>("frost::fit", static_cast<decltype(metrics)*>(nullptr)));
  auto callbacks = extras_at<false>(callback_ids, refs);
  const auto stages = extras_at<true>(stage_ids, refs);
  constexpr bool staged = std::tuple_size_v<decltype(stages)> != 0;
  static_assert(!staged || trainer_moved_into_fit<Trainer>,
                "frost::fit: unfreeze_at re-types the model and the trainer: pass std::move(trainer) and use the "
                "fit_result's model() and trainer");
  static_assert(check_extras<Tr, Extras...>(std::index_sequence_for<Extras...>{}));
  static_assert(!staged || !across_ranks<Tr>,
                "frost::fit: unfreeze_at re-types the trainer, which a distributed trainer cannot: fit one distributed "
                "trainer per stage");

  // Every argument is checked before the first step: a bad one throws with the model untouched.
  if (o.batch_size == 0) throw_value(where, "batch_size", "at least 1", "0");
  if (o.batch_size > tr.max_batch())
    throw_shape(where, "batch_size", "at most " + std::to_string(tr.max_batch()) + " (the trainer's max_batch)",
                std::to_string(o.batch_size));
  if (o.initial_epoch > o.epochs)
    throw_value(where, "initial_epoch", "at most epochs (" + std::to_string(o.epochs) + ")",
                std::to_string(o.initial_epoch));
  tr.model().ensure_weights(where);
  std::optional<dataset<X, Y>> val;
  dataset<X, Y> train = data;
  if constexpr (hana::length(validation_ids) == hana::size_c<1>) {
    if (o.validation_split != 0)
      throw_value(where, "validation_split", "0 when validation_data is given", std::to_string(o.validation_split));
    val.emplace(std::get<hana::at_c<0>(validation_ids).value>(refs).data);
  } else if (o.validation_split != 0) {
    auto [t, v] = data.split(o.validation_split);
    train = t;
    val.emplace(v);
  }
  if (train.size() == 0) throw_shape(where, "training samples", "at least 1", "0");
  if (val) {
    const std::size_t vb = o.validation_batch_size != 0 ? o.validation_batch_size : o.batch_size;
    if (vb > inference_rows(tr))
      throw_shape(where, "validation_batch_size",
                  "at most " + std::to_string(inference_rows(tr)) + " (the trainer's max_batch)", std::to_string(vb));
  }
  check_targets<Model, Loss>(where, train);
  if (val) check_targets<Model, Loss>(where, *val);
  std::size_t previous = o.initial_epoch;
  for_each(stages, [&](const auto& s) {
    if (s.epoch < previous || s.epoch > o.epochs)
      throw_value(where, "unfreeze_at epoch", "epochs in order within [" + std::to_string(o.initial_epoch) + ", " +
                                                  std::to_string(o.epochs) + "]", std::to_string(s.epoch));
    previous = s.epoch;
  });

  fit_options shown = o;
  if constexpr (across_ranks<Tr>)
    if (tr.rank() != 0) shown.verbose = 0;  // rank 0 alone prints
  fit_loop<Model, Loss, X, Y, decltype(metrics), decltype(callbacks)> loop(train, val, shown, metrics, callbacks);
  const bool check_before = tr.check_finite();
  tr.check_finite(o.check_finite || check_before);
  if constexpr (!staged) {
    check_finite_guard<Tr> guard{&tr, check_before};
    loop.train_begin(tr);
    loop.run(tr, o.epochs);
    loop.train_end(tr);
    if (!loop.failure().empty()) loop.throw_failure();
    return std::move(loop.state().history);
  } else {
    check_finite_guard<Tr> guard{&tr, check_before};  // for a throw before the first re-typing
    loop.train_begin(tr);
    Model* origin = &tr.model();
    return run_stages<0>(loop, stages, std::forward<Trainer>(tr), std::unique_ptr<Model>{}, origin, check_before);
  }
}

template <class T>
struct is_dataset : std::false_type {};
template <class X, class Y>
struct is_dataset<dataset<X, Y>> : std::true_type {};

}  // namespace detail

/// Trains `trainer` on (x, y) as Keras's `model.fit(x, y, ...)` and returns the history. `x` is a
/// matrix or view (`std::tie(a, b)` for several inputs), `y` the targets; neither is copied.
/// Every epoch (shuffled unless `.shuffle = false`) runs ⌈n / batch_size⌉ steps, the last one
/// smaller when batch_size does not divide n, and logs "loss" (the mean over the epoch's
/// samples of the training-mode loss), each metric, and with validation data "val_loss" and
/// "val_<metric>" (inference mode). The extras, in any order: metrics, callbacks,
/// `validation_data(x_val, y_val)`, and `unfreeze_at<I...>{.epoch}` stages (which need
/// `std::move(trainer)` and make fit return a `fit_result`).
/// ```cpp
/// auto history = frost::fit(tr, x, y, {.epochs = 10, .batch_size = 32, .validation_split = 0.2f}, frost::accuracy{});
/// history["val_accuracy"].back();
/// ```
template <class Trainer, class XM, class YM, class... Extras>
  requires(!detail::is_dataset<std::remove_cvref_t<XM>>::value)
auto fit(Trainer&& trainer, const XM& x, const YM& y, const fit_options& options = {}, Extras&&... extras) {
  return detail::fit_data(std::forward<Trainer>(trainer), make_dataset(x, y), options, std::forward<Extras>(extras)...);
}

/// The same over a `dataset`.
template <class Trainer, class X, class Y, class... Extras>
auto fit(Trainer&& trainer, const dataset<X, Y>& data, const fit_options& options = {}, Extras&&... extras) {
  return detail::fit_data(std::forward<Trainer>(trainer), data, options, std::forward<Extras>(extras)...);
}

/// Options of `evaluate(trainer, ...)`: rows per batch (0: the trainer's max_batch, the most
/// its workspace holds). The trainer's threads run each batch.
struct evaluate_options {
  std::size_t batch_size = 0;
};

/// The loss and metrics of the trainer's model on (x, y) in inference mode, in the trainer's
/// workspace and threads: Keras's `model.evaluate(x, y)`. Returns the logs: `["loss"]`, and one
/// value per metric.
/// ```cpp
/// double acc = frost::evaluate(tr, x_test, y_test, {}, frost::accuracy{})["accuracy"];
/// ```
template <class Trainer, class XM, class YM, class... Metrics>
  requires requires { typename std::remove_cvref_t<Trainer>::loss_type; }
logs evaluate(Trainer& tr, const XM& x, const YM& y, const evaluate_options& options = {}, Metrics... metrics) {
  using Model = typename Trainer::model_type;
  using Loss = typename Trainer::loss_type;
  using T = typename Model::scalar_type;
  constexpr std::size_t K = Model::output_shape::size;
  const auto data = make_dataset(x, y);
  using Y = typename decltype(data)::targets_type;
  static_assert(detail::check_inputs<Model, typename decltype(data)::inputs_type>());
  static_assert(detail::check_loss<Model, Loss, Y>());
  static_assert((metric<Metrics> && ...), "frost::evaluate: the arguments after the options are metrics, e.g. accuracy{}");
  static_assert(detail::check_metrics<Model, Y>("frost::evaluate", static_cast<std::tuple<Metrics...>*>(nullptr)));
  const std::size_t cap = detail::inference_rows(tr);
  const std::size_t batch_size = options.batch_size == 0 ? cap : options.batch_size;
  if (batch_size > cap)
    detail::throw_shape("frost::evaluate", "batch_size", "at most " + std::to_string(cap) + " (the trainer's max_batch)",
                        std::to_string(batch_size));
  tr.model().ensure_weights("frost::evaluate");
  detail::check_targets<Model, Loss>("frost::evaluate", data);
  aligned_buffer<T> out(batch_size * K), scratch(batch_size * K);
  std::tuple<Metrics...> ms(metrics...);
  logs l;
  l.set("loss", detail::evaluate_batches<Model, Loss>([&](const auto& xs, std::size_t n, T* o) { tr.predict_into(xs, n, o); },
                                                      data, batch_size, out.data(), scratch.data(), ms));
  detail::for_each(ms, [&](auto& m) { l.set(m.name, m.result()); });
  return l;
}

/// The same for a model and a loss, without a trainer: `options.batch_size` rows at a time on
/// `options.threads` threads.
/// ```cpp
/// auto l = frost::evaluate(model, frost::sparse_categorical_crossentropy{}, x, y, {}, frost::accuracy{});
/// ```
template <class Model, class LossArg, class XM, class YM, class... Metrics>
  requires detail::is_model_v<Model>
logs evaluate(const Model& model, LossArg, const XM& x, const YM& y, const predict_options& options = {},
              Metrics... metrics) {
  using Loss = loss_t<LossArg>;
  using T = typename Model::scalar_type;
  constexpr std::size_t K = Model::output_shape::size;
  const auto data = make_dataset(x, y);
  static_assert(Loss::needs_target, "frost::evaluate: this loss takes no target");
  static_assert(detail::check_inputs<Model, typename decltype(data)::inputs_type>());
  static_assert(detail::check_loss<Model, Loss, typename decltype(data)::targets_type>());
  static_assert((metric<Metrics> && ...), "frost::evaluate: the arguments after the options are metrics, e.g. accuracy{}");
  static_assert(detail::check_metrics<Model, typename decltype(data)::targets_type>(
      "frost::evaluate", static_cast<std::tuple<Metrics...>*>(nullptr)));
  if (options.batch_size == 0) detail::throw_value("frost::evaluate", "batch_size", "at least 1", "0");
  model.ensure_weights("frost::evaluate");
  detail::check_targets<Model, Loss>("frost::evaluate", data);
  const std::size_t batch = std::max<std::size_t>(1, std::min(options.batch_size, data.size()));
  inference<Model> run(model, batch, options.threads);
  aligned_buffer<T> out(batch * K), scratch(batch * K);
  std::tuple<Metrics...> ms(metrics...);
  logs l;
  l.set("loss", detail::evaluate_batches<Model, Loss>([&](const auto& xs, std::size_t n, T* o) { run.run_rows(xs, n, o); },
                                                      data, batch, out.data(), scratch.data(), ms));
  detail::for_each(ms, [&](auto& m) { l.set(m.name, m.result()); });
  return l;
}

}  // namespace frost
