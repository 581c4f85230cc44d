#pragma once
/// \file
/// What convolution and pooling layers share: their options (`strides<...>`, `padding::valid`,
/// `padding::same`), the geometry of a window sliding over an H×W×C image (Keras's output sizes
/// and padding), and the requirement type their compile errors print.

#include <frost/core/shape.hpp>

#include <cstddef>
#include <type_traits>

namespace frost {

/// The step of a sliding window: `strides<2>` (both axes) or `strides<2, 1>` (rows, columns).
template <std::size_t SH, std::size_t SW = SH>
struct strides {
  static_assert(SH > 0 && SW > 0, "frost::strides: strides must be positive");
  static constexpr std::size_t rows = SH, cols = SW;
};

/// Keras's `padding` argument as a type: `valid` (no padding: the window stays inside the
/// image) or `same` (zero padding so that the output has ceil(size / stride) positions, the
/// extra row or column of padding going after the image, as in Keras).
namespace padding {
struct valid {};
struct same {};
}  // namespace padding

/// Requirement type printed in compile errors: an H×W×C image (rank 3) of at least `MinH` rows
/// and `MinW` columns (the window; 1 with `same` padding).
template <std::size_t MinH, std::size_t MinW>
struct image_at_least {};

namespace detail {

template <class O>
inline constexpr bool is_strides_v = false;
template <std::size_t SH, std::size_t SW>
inline constexpr bool is_strides_v<strides<SH, SW>> = true;
template <class O>
inline constexpr bool is_padding_v = std::is_same_v<O, padding::valid> || std::is_same_v<O, padding::same>;

// The strides among `Options` (at most two of them), or `Default`.
template <class Default, class... Options>
struct strides_of {
  using type = Default;
};
template <class Default, class O0, class... O>
struct strides_of<Default, O0, O...>
    : std::conditional_t<is_strides_v<O0>, std::type_identity<O0>, strides_of<Default, O...>> {};

/// The options of a window layer, each given at most once in any order; `DefaultStrides` when
/// no strides are given (conv2d: 1; pooling: the pool size).
template <class DefaultStrides, class... Options>
struct window_options {
  static_assert(((is_strides_v<Options> || is_padding_v<Options>) && ...),
                "frost: a convolution or pooling option must be strides<...>, padding::valid or padding::same");
  static_assert((std::size_t{0} + ... + std::size_t{is_strides_v<Options>}) <= 1, "frost: give strides<...> once");
  static_assert((std::size_t{0} + ... + std::size_t{is_padding_v<Options>}) <= 1, "frost: give the padding once");
  static constexpr bool same = (std::is_same_v<Options, padding::same> || ...);
  using stride_type = typename strides_of<DefaultStrides, Options...>::type;
};

/// One axis of a sliding window: input size `In`, window `K`, stride `S`, Keras padding.
template <std::size_t In, std::size_t K, std::size_t S, bool Same>
struct window_axis {
  /// Output positions: valid ⌊(In − K) / S⌋ + 1 (0 when K > In), same ⌈In / S⌉.
  static constexpr std::size_t out = Same ? (In + S - 1) / S : (K > In ? 0 : (In - K) / S + 1);
  /// Padding before the first input (same: half the total, rounded down, as Keras does).
  static constexpr std::size_t pad_total = Same && (out - 1) * S + K > In ? (out - 1) * S + K - In : 0;
  static constexpr std::size_t pad_before = pad_total / 2;
};

/// A K_H×K_W window with strides (SH, SW) over an H×W×C image: output size and padding.
template <class In, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW, bool Same>
struct window_geometry {
  static constexpr bool image = In::rank == 3;
  static constexpr std::size_t H = image ? In::dims[0] : 1, W = image ? In::dims[1] : 1,
                               C = image ? In::dims[In::rank - 1] : 1;
  using rows = window_axis<H, KH, SH, Same>;
  using cols = window_axis<W, KW, SW, Same>;
  static constexpr std::size_t OH = rows::out, OW = cols::out;
  static constexpr std::size_t pad_top = rows::pad_before, pad_left = cols::pad_before;
  /// The window fits: a rank-3 input at least as big as the window (any size with `same`).
  static constexpr bool fits = image && OH > 0 && OW > 0;
};

/// What a pooling layer with a PH×PW window is, whatever it computes: options (strides default
/// to the pool size), geometry, shapes, and the facts the plan reads.
template <std::size_t PH, std::size_t PW, class... Options>
struct pooling_window {
  static_assert(PH > 0 && PW > 0, "frost: the pool size must be positive");
  using options = window_options<strides<PH, PW>, Options...>;
  static constexpr std::size_t stride_rows = options::stride_type::rows, stride_cols = options::stride_type::cols;
  static constexpr bool same_padding = options::same;

  template <class In>
  using geometry = window_geometry<In, PH, PW, stride_rows, stride_cols, same_padding>;

  using expected_input = image_at_least<same_padding ? 1 : PH, same_padding ? 1 : PW>;
  template <class In>
  static constexpr bool accepts = geometry<In>::fits;
  template <class In>
  using output_shape = shape<geometry<In>::OH, geometry<In>::OW, geometry<In>::C>;
  template <class In>
  static constexpr double flops = double(In::size);
  static constexpr bool rows_independent = true;

  /// `for_each_window` over this layer's windows.
  template <class G, class F>
  static constexpr void for_windows(F&& f) noexcept;
};

/// Calls `f(out, in)` for every output position of a K_H×K_W window with strides (SH, SW) and
/// every input position of its window that lies inside the image, window by window and row by
/// row within a window; `out` and `in` are the offsets of channel 0 within one sample.
template <class G, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW, class F>
constexpr void for_each_window(F&& f) noexcept {
  for (std::size_t oh = 0; oh < G::OH; ++oh)
    for (std::size_t ow = 0; ow < G::OW; ++ow)
      for (std::size_t kh = 0; kh < KH; ++kh) {
        const std::size_t hp = oh * SH + kh;
        if (hp < G::pad_top || hp - G::pad_top >= G::H) continue;
        for (std::size_t kw = 0; kw < KW; ++kw) {
          const std::size_t wp = ow * SW + kw;
          if (wp < G::pad_left || wp - G::pad_left >= G::W) continue;
          f((oh * G::OW + ow) * G::C, ((hp - G::pad_top) * G::W + (wp - G::pad_left)) * G::C);
        }
      }
}

template <std::size_t PH, std::size_t PW, class... Options>
template <class G, class F>
constexpr void pooling_window<PH, PW, Options...>::for_windows(F&& f) noexcept {
  for_each_window<G, PH, PW, stride_rows, stride_cols>(static_cast<F&&>(f));
}

}  // namespace detail
}  // namespace frost
