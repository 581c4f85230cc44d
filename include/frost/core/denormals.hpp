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

/// For its lifetime, the calling thread flushes subnormal results to zero and reads subnormal
/// inputs as zero; the previous floating-point mode comes back when it ends.
class flush_denormals {
 public:
#if defined(__SSE__)
  flush_denormals() noexcept : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | mode); }
  ~flush_denormals() { _mm_setcsr(saved_); }
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
  unsigned saved_;
#endif
};

namespace detail {
/// Sets the calling thread to flush for good (frost's worker threads, which run only frost's work).
inline void flush_denormals_for_good() noexcept {
#if defined(__SSE__)
  _mm_setcsr(_mm_getcsr() | 0x8040u);
#endif
}
}  // namespace detail

}  // namespace frost
