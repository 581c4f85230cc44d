#pragma once
/// \file
/// Subnormal numbers flushed to zero while frost computes, as TensorFlow's CPU threads compute
/// (FTZ and DAZ on x86). A training run's small gradients and Adam's second moments decay into
/// the subnormal range, where each operation on them costs about a hundred cycles: a step of a
/// small MLP slowed 3× late in training without this. frost's own worker threads always flush;
/// the calling thread flushes inside frost's calls only (the previous mode comes back after).
/// Elsewhere than x86 (SSE) this does nothing.

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace frost {

namespace detail {
/// True once the calling thread flushes for good (`flush_denormals_on_this_thread`): frost's
/// calls on it then leave the floating-point mode alone.
inline thread_local bool flushes_for_good = false;
}  // namespace detail

/// For its lifetime, the calling thread flushes subnormal results to zero and reads subnormal
/// inputs as zero; the previous floating-point mode comes back when it ends. It writes the mode
/// only where the thread does not flush already, and touches nothing on a thread that called
/// `flush_denormals_on_this_thread` (writing the mode costs tens of cycles, more than a whole
/// call of a small model at batch 1).
class flush_denormals {
 public:
#if defined(__SSE__)
  flush_denormals() noexcept {
    if (detail::flushes_for_good) return;
    saved_ = _mm_getcsr();
    if ((saved_ & mode) != mode) {
      _mm_setcsr(saved_ | mode);
      restore_ = true;
    }
  }
  ~flush_denormals() {
    if (restore_) _mm_setcsr(saved_);
  }
#else
  flush_denormals() noexcept {}
#endif
  flush_denormals(const flush_denormals&) = delete;
  flush_denormals& operator=(const flush_denormals&) = delete;

  /// Whether the calling thread flushes now.
  static bool active() noexcept {
#if defined(__SSE__)
    return (_mm_getcsr() & mode) == mode;
#else
    return false;
#endif
  }

 private:
#if defined(__SSE__)
  static constexpr unsigned mode = 0x8040u;  // FTZ (bit 15) and DAZ (bit 6) of MXCSR
  unsigned saved_ = 0;
  bool restore_ = false;
#endif
};

/// Sets the calling thread to flush subnormals to zero for good, as real-time audio threads
/// usually do, and tells frost so: its calls on this thread then skip saving, setting and
/// restoring the floating-point mode. frost's own worker threads do this when they start. Call it
/// on a real-time thread before its first frost call; do not clear FTZ or DAZ on it afterwards.
inline void flush_denormals_on_this_thread() noexcept {
#if defined(__SSE__)
  _mm_setcsr(_mm_getcsr() | 0x8040u);
  detail::flushes_for_good = true;
#endif
}

namespace detail {
/// Sets the calling thread to flush for good (frost's worker threads, which run only frost's work).
inline void flush_denormals_for_good() noexcept { flush_denormals_on_this_thread(); }
}  // namespace detail

}  // namespace frost
