#pragma once
/// \file
/// `threads`, `part` and `thread_pool`: the few threads a trainer may split a training step
/// across. The pool is started once, when the trainer is made; a step hands out work without
/// allocating, locking or starting anything. Idle workers spin briefly, then sleep until the next
/// piece of work.

#include <frost/core/denormals.hpp>
#include <frost/core/error.hpp>
#include <frost/core/part.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace frost {

/// How many threads a trainer's steps use, the calling thread included. `threads{1}` (the
/// default) starts no thread and runs everything on the caller.
/// ```cpp
/// auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, 256, frost::threads{2});
/// ```
struct threads {
  std::size_t count = 1;
  /// One per hardware thread of this machine (at least 1).
  static threads all() noexcept { return threads{std::max<std::size_t>(1, std::thread::hardware_concurrency())}; }
};

namespace detail {
inline void cpu_relax() noexcept {
#if defined(__SSE2__)
  _mm_pause();
#endif
}
}  // namespace detail

/// A fixed set of `size() - 1` worker threads plus the caller. `run(f)` calls `f(part{i, size()})`
/// once for every i, share 0 on the calling thread, and returns when all have returned.
/// Not copyable or movable (the workers hold its address); `run` is not reentrant.
class thread_pool {
 public:
  explicit thread_pool(threads t) : count_(t.count) {
    if (t.count == 0) detail::throw_value("frost::thread_pool", "threads", "at least 1", "0");
    workers_.reserve(count_ - 1);
    for (std::size_t i = 1; i < count_; ++i) workers_.emplace_back([this, i] { work_(i); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    stopping_.store(true, std::memory_order_relaxed);
    publish_();
    for (auto& w : workers_) w.join();
  }

  std::size_t size() const noexcept { return count_; }

  /// Runs `f(part)` on every thread of the pool; `f` must not throw.
  template <class F>
  void run(F& f) noexcept {
    if (count_ == 1) {
      f(part{0, 1});
      return;
    }
    context_ = &f;
    call_ = [](void* c, part p) noexcept { (*static_cast<F*>(c))(p); };
    pending_.store(count_ - 1, std::memory_order_relaxed);
    publish_();
    f(part{0, count_});
    while (pending_.load(std::memory_order_acquire) != 0) detail::cpu_relax();
  }

 private:
  // Spins before a worker sleeps: long enough to stay awake between the pieces of one step
  // and between steps of a training loop, short enough not to hold a core long after it.
  static constexpr int spins_before_sleep = 1 << 14;

  void publish_() noexcept {
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) != 0) generation_.notify_all();
  }

  void work_(std::size_t index) noexcept {
    detail::flush_denormals_for_good();  // a worker runs only frost's work
    std::uint32_t seen = 0;
    for (;;) {
      std::uint32_t now = generation_.load(std::memory_order_acquire);
      for (int spin = 0; now == seen; now = generation_.load(std::memory_order_acquire)) {
        if (++spin < spins_before_sleep) {
          detail::cpu_relax();
        } else {
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          if (generation_.load(std::memory_order_seq_cst) == seen) generation_.wait(seen, std::memory_order_acquire);
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          spin = 0;
        }
      }
      seen = now;
      if (stopping_.load(std::memory_order_relaxed)) return;
      call_(context_, part{index, count_});
      pending_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::size_t count_;
  std::vector<std::thread> workers_;
  void* context_ = nullptr;
  void (*call_)(void*, part) noexcept = nullptr;
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  alignas(64) std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<bool> stopping_{false};
};

/// Runs `f(part)` split across `pool` when there is one and `split` is true, else once on the
/// calling thread as the whole job.
template <class F>
void run_parts(thread_pool* pool, bool split, F&& f) noexcept {
  if (pool != nullptr && split && pool->size() > 1) pool->run(f);
  else f(part::whole());
}

}  // namespace frost
