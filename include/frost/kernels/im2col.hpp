#pragma once
/// \file
/// The im2col form of a convolution: every output position's window of the input, flattened
/// into one row of a patch matrix, so that the convolution becomes the matrix products of a
/// dense layer (kernels/gemm.hpp). `G` is a `detail::window_geometry` (layers/spatial.hpp).
///   im2col:  P[rows·OH·OW × KH·KW·C] from X[rows × H·W·C] (zeros where the window leaves the image)
///   col2im:  dX (+)= the scatter-add of dP back onto the input positions each patch row read
/// Both keep channels innermost (Keras channels_last), so a window row of KW·C values that lies
/// inside the image is one contiguous copy.

#include <algorithm>
#include <cstddef>

namespace frost::kernels {

namespace detail {
// Copies (or zeroes) a compile-time number of values: an inlined loop the compiler vectorizes,
// where a library call per window row would cost more than the copy (3 values for a 3×1 row).
template <std::size_t N, class T>
inline void copy_fixed(const T* src, T* dst) noexcept {
  for (std::size_t i = 0; i < N; ++i) dst[i] = src[i];
}
template <std::size_t N, class T>
inline void zero_fixed(T* dst) noexcept {
  for (std::size_t i = 0; i < N; ++i) dst[i] = T{};
}
template <std::size_t N, class T>
inline void add_fixed(const T* src, T* dst) noexcept {
  for (std::size_t i = 0; i < N; ++i) dst[i] += src[i];
}
}  // namespace detail

template <class G, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW, class T>
void im2col(const T* x, std::size_t rows, T* p) noexcept {
  constexpr std::size_t H = G::H, W = G::W, C = G::C, OH = G::OH, OW = G::OW;
  constexpr std::size_t K = KH * KW * C;
  for (std::size_t n = 0; n < rows; ++n) {
    const T* xs = x + n * H * W * C;
    T* dst = p + n * OH * OW * K;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      for (std::size_t ow = 0; ow < OW; ++ow, dst += K) {
        // Window origin in padded coordinates; the image starts at (pad_top, pad_left).
        const std::size_t h0 = oh * SH, w0 = ow * SW;
        for (std::size_t kh = 0; kh < KH; ++kh) {
          T* out = dst + kh * KW * C;
          const std::size_t hp = h0 + kh;
          if (hp < G::pad_top || hp - G::pad_top >= H) {
            detail::zero_fixed<KW * C>(out);
            continue;
          }
          const T* src = xs + (hp - G::pad_top) * W * C;
          if (w0 >= G::pad_left && w0 - G::pad_left + KW <= W) {
            detail::copy_fixed<KW * C>(src + (w0 - G::pad_left) * C, out);
            continue;
          }
          for (std::size_t kw = 0; kw < KW; ++kw) {
            const std::size_t wp = w0 + kw;
            if (wp < G::pad_left || wp - G::pad_left >= W) detail::zero_fixed<C>(out + kw * C);
            else detail::copy_fixed<C>(src + (wp - G::pad_left) * C, out + kw * C);
          }
        }
      }
    }
  }
}

template <class G, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW, class T>
void col2im(const T* dp, std::size_t rows, T* dx, bool accumulate) noexcept {
  constexpr std::size_t H = G::H, W = G::W, C = G::C, OH = G::OH, OW = G::OW;
  constexpr std::size_t K = KH * KW * C;
  if (!accumulate) std::fill_n(dx, rows * H * W * C, T{});
  for (std::size_t n = 0; n < rows; ++n) {
    T* xs = dx + n * H * W * C;
    const T* src = dp + n * OH * OW * K;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      for (std::size_t ow = 0; ow < OW; ++ow, src += K) {
        const std::size_t h0 = oh * SH, w0 = ow * SW;
        for (std::size_t kh = 0; kh < KH; ++kh) {
          const std::size_t hp = h0 + kh;
          if (hp < G::pad_top || hp - G::pad_top >= H) continue;
          T* out = xs + (hp - G::pad_top) * W * C;
          const T* in = src + kh * KW * C;
          if (w0 >= G::pad_left && w0 - G::pad_left + KW <= W) {
            detail::add_fixed<KW * C>(in, out + (w0 - G::pad_left) * C);
            continue;
          }
          for (std::size_t kw = 0; kw < KW; ++kw) {
            const std::size_t wp = w0 + kw;
            if (wp < G::pad_left || wp - G::pad_left >= W) continue;
            detail::add_fixed<C>(in + kw * C, out + (wp - G::pad_left) * C);
          }
        }
      }
    }
  }
}

}  // namespace frost::kernels
