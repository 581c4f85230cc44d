// A layer spec must provide every member of the layer protocol (layers/layer_spec.hpp); the
// error names the first one missing.
#include <frost/frost.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

struct passthrough : frost::layer_call<passthrough> {
  static constexpr std::string_view keras_name = "passthrough";
  using expected_input = frost::any_of_rank<1>;
  template <class In>
  static constexpr bool accepts = In::rank == 1;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr std::size_t param_count = 0;
  template <class In, class T>
  using params = frost::no_parameters;
  template <class In, class T>
  static void initialize(T*, frost::random_stream&) noexcept {}
  template <class In, class T>
  static void forward(const frost::forward_args<T>& a) noexcept {
    std::copy(a.x, a.x + a.rows * In::size, a.y);
  }
#ifndef FROST_EXPECT_COMPILE_ERROR
  template <class In, class T>
  static void backward(frost::stage<frost::backward_stage::input>, const frost::backward_args<T>& a) noexcept {
    std::copy(a.g, a.g + a.rows * In::size, a.dx);
  }
#endif
};

int main() {
  using net = frost::sequential<frost::input<4>, passthrough, frost::dense<2>>;
  return net::layer_count == 2 ? 0 : 1;
}
