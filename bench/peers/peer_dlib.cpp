// Peer: dlib's DNN module (dlib 19), CPU build.
//   model      loss_multiclass_log<fc<10, relu<fc<...>>>> per workload over
//              input<matrix<float, 0, 1>>, with the same Glorot-uniform weights and zero biases
//              as the other peers. loss_multiclass_log takes class indices, applies softmax and
//              the log loss, and yields the gradient (p - y)/N
//   step       compute_parameter_gradients(x, labels) (forward, loss, backward) followed by
//              update_parameters(solvers, 0.001), as dnn_trainer does per mini-batch, but called
//              directly so that no trainer thread or data shuffling enters the timing. The input
//              tensor is built from the samples once, outside the timed loop
//   optimizer  dlib::adam(weight_decay 0, momentum1 0.9, momentum2 0.999). dlib's Adam uses the
//              same bias-corrected step size as Keras, alpha = lr·sqrt(1 - b2^t)/(1 - b1^t), but
//              a fixed epsilon of 1e-8 (Keras: 1e-7) inside the library; it writes the step into
//              a separate tensor that update_parameters then adds to the parameters
//   frozen     set_learning_rate_multiplier(0) on the frozen fc layers: dlib then skips their
//              weight gradients and their update, but still back-propagates the data gradient
//              through every layer, down to a gradient for the input itself (also in
//              `trainable`). That unneeded backward is part of what this peer shows
//   inference  forward to the logits, then tt::softmax into a preallocated tensor
//   timing     through time_steps (workloads.hpp): three warm-up steps first, in which dlib's
//              adam solvers allocate their state and the layers their gradient tensors
//
// The convolutional workload (cnn): loss_multiclass_log<fc<10, base>>, the base being
//   max_pool<2,2,2,2, relu<bn_con<con_<64,3,3,1,1,0,0, max_pool<2,2,2,2, relu<bn_con<con_<32,
//   3,3,1,1,0,0, input<matrix<float>>>>>>>>>>
// (dlib's con<...> alias pads a stride-1 convolution by half the filter: the peers' convolutions
// are valid, so the padding is given as 0). dlib is NCHW: the peers' kernels and head rows are
// permuted into its layouts. bn_con gets epsilon 1e-3 and dlib's default running-statistics
// window of 100: a cumulative average over the first 100 updates, then an exponential one with
// factor 1/101 on the batch statistics (Keras: 0.01). dlib's bn_ always normalizes with the
// batch's statistics when the batch has more than one sample; its inference form is the affine_
// layer, which a network with `affine` in place of `bn_con` gets by conversion from the trained
// network (dlib's documented way to run a network with batch norm in inference mode): gamma /
// sqrt(moving variance + eps) and beta - gamma·mean / sqrt(...).
//   trainable  the network above, every layer trained: compute_parameter_gradients and
//              update_parameters as for the MLPs
//   frozen     the base converted to its inference form (affine in place of bn_con) and run as
//              its own network, forward only; the head loss_multiclass_log<fc<10, input<...>>>
//              trained on the base's output tensor. dlib has no notion of a frozen layer beyond
//              learning-rate multipliers, and with multipliers 0 it would still back-propagate the
//              data gradient through the whole base (conv2's input gradient alone is about half
//              of a trainable backward's products); a base network run forward and a head network
//              trained on its output is the closest dlib form of the step. The head still computes
//              the gradient for its input (the base's output, 2·1600·10 FLOP per sample), which no
//              one reads
//   inference  the network converted to its inference form, forward to the logits, tt::softmax
//
// Threads: dlib's DNN has no thread setting of its own. Its products go through the system
// BLAS, on Debian OpenBLAS, whose thread pool gets FROST_BENCH_THREADS.

#include "workloads.hpp"

#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace frost_peers;
using sample = dlib::matrix<float, 0, 1>;

using net_w1 = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<32, dlib::relu<dlib::fc<64, dlib::input<sample>>>>>>>;
using net_w2 = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<512, dlib::relu<dlib::fc<512, dlib::input<sample>>>>>>>;
using net_w3 = dlib::loss_multiclass_log<dlib::fc<
    10, dlib::relu<dlib::fc<1024, dlib::relu<dlib::fc<1024, dlib::relu<dlib::fc<1024, dlib::input<sample>>>>>>>>>;

template <class T>
struct is_fc : std::false_type {};
template <unsigned long N, dlib::fc_bias_mode M>
struct is_fc<dlib::fc_<N, M>> : std::true_type {};

template <class Net>
std::size_t count_fc(Net& net) {
  std::size_t n = 0;
  dlib::visit_computational_layers(net, [&](auto& details) {
    if constexpr (is_fc<std::decay_t<decltype(details)>>::value) ++n;
  });
  return n;
}

// Calls f(layer_index, fc) for each fc layer, layer_index counted from the input (0) upward.
template <class Net, class F>
void for_each_fc(Net& net, F f) {
  const std::size_t n = count_fc(net);
  std::size_t visited = 0;  // dlib visits from the loss toward the input
  dlib::visit_computational_layers(net, [&](auto& details) {
    if constexpr (is_fc<std::decay_t<decltype(details)>>::value) f(n - 1 - visited++, details);
  });
}

template <class Net>
void run_net(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const std::size_t frozen = bc.frozen();

  std::vector<float> xs(bc.batch * w.inputs());
  fill_inputs(xs.data(), bc.batch, w.inputs());
  std::vector<sample> samples(bc.batch, sample(long(w.inputs())));
  for (std::size_t r = 0; r < bc.batch; ++r)
    for (std::size_t j = 0; j < w.inputs(); ++j) samples[r](long(j)) = xs[r * w.inputs() + j];
  std::vector<unsigned long> labels(bc.batch);
  for (std::size_t r = 0; r < bc.batch; ++r) labels[r] = label(r);

  Net net;
  dlib::resizable_tensor x;
  net.to_tensor(samples.begin(), samples.end(), x);
  net.subnet().forward(x);  // sizes and allocates every layer's parameters

  // fc_ parameters are an (inputs + 1) × outputs tensor: the weights, row-major, then the bias.
  bool shapes_match = count_fc(net) == w.layer_count;
  for_each_fc(net, [&](std::size_t l, auto& fc) {
    shapes_match = shapes_match && fc.get_num_outputs() == w.out(l) &&
                   fc.get_layer_params().size() == (w.in(l) + 1) * w.out(l);
    if (!shapes_match) return;
    float* p = fc.get_layer_params().host();
    glorot_uniform(p, w.in(l), w.out(l), 42 + std::uint32_t(l));
    for (std::size_t j = 0; j < w.out(l); ++j) p[w.in(l) * w.out(l) + j] = 0.f;
    if (l < frozen) {
      fc.set_learning_rate_multiplier(0);
      fc.set_bias_learning_rate_multiplier(0);
    }
  });
  if (!shapes_match) {
    state.SkipWithError("the dlib network type does not match the workload's layer sizes");
    return;
  }

  if (!bc.training()) {
    dlib::resizable_tensor p;
    p.copy_size(net.subnet().get_output());
    time_steps(state, [&] {
      const dlib::tensor& logits = net.subnet().forward(x);
      dlib::tt::softmax(p, logits);
      benchmark::DoNotOptimize(p.host());
      benchmark::ClobberMemory();
    });
    return;
  }

  std::vector<dlib::adam> solvers(Net::num_computational_layers,
                                  dlib::adam(0.f, adam_hyper::beta_1, adam_hyper::beta_2));
  time_steps(state, [&] {
    const double loss = net.compute_parameter_gradients(x, labels.begin());
    net.update_parameters(solvers, adam_hyper::learning_rate);
    return loss;
  });
}

void run_case(benchmark::State& state, const bench_case& bc) {
  const std::string name = bc.w->name;
  if (name == "W1") run_net<net_w1>(state, bc);
  else if (name == "W2") run_net<net_w2>(state, bc);
  else if (name == "W3") run_net<net_w3>(state, bc);
  else state.SkipWithError("no dlib network type for this workload");
}

// ---------------------------------------------------------------------------------------------
// The convolutional workload.

using image = dlib::matrix<float>;

// A valid 3×3 stride-1 convolution (dlib's con<> would pad by 1).
template <long Filters, class Subnet>
using con_valid = dlib::add_layer<dlib::con_<Filters, 3, 3, 1, 1, 0, 0>, Subnet>;

template <long Filters, template <class> class Norm, class Subnet>
using conv_block = dlib::max_pool<2, 2, 2, 2, dlib::relu<Norm<con_valid<Filters, Subnet>>>>;

template <template <class> class Norm>
using cnn_base = conv_block<64, Norm, conv_block<32, Norm, dlib::input<image>>>;

using cnn_train_net = dlib::loss_multiclass_log<dlib::fc<10, cnn_base<dlib::bn_con>>>;
using cnn_infer_net = dlib::loss_multiclass_log<dlib::fc<10, cnn_base<dlib::affine>>>;
using cnn_infer_base = cnn_base<dlib::affine>;
using cnn_head_net = dlib::loss_multiclass_log<dlib::fc<10, dlib::input<image>>>;

static_assert(cnn_sizes::kernel == 3 && cnn_sizes::pool == 2 && cnn_sizes::filters1 == 32 &&
              cnn_sizes::filters2 == 64 && classes == 10);

template <class T>
struct is_con : std::false_type {};
template <long F, long R, long C, int SY, int SX, int PY, int PX>
struct is_con<dlib::con_<F, R, C, SY, SX, PY, PX>> : std::true_type {};

// Writes the peers' head weights into an allocated fc_ over the (64, 5, 5) base output: row
// (h·5 + w)·64 + c of the (1600 × 10) matrix becomes dlib's row c·25 + h·5 + w; zero bias.
template <class Fc>
bool load_cnn_head(Fc& fc, const cnn_weights& w) {
  using s = cnn_sizes;
  if (fc.get_layer_params().size() != (s::flat + 1) * classes) return false;
  float* p = fc.get_layer_params().host();
  for (std::size_t h = 0; h < s::pool2; ++h)
    for (std::size_t x = 0; x < s::pool2; ++x)
      for (std::size_t c = 0; c < s::filters2; ++c)
        for (std::size_t j = 0; j < classes; ++j)
          p[((c * s::pool2 + h) * s::pool2 + x) * classes + j] = w.dense[((h * s::pool2 + x) * s::filters2 + c) * classes + j];
  for (std::size_t j = 0; j < classes; ++j) p[s::flat * classes + j] = 0.f;
  return true;
}

// The training network with the peers' weights, batch norm epsilon 1e-3, moving statistics at
// their initial 0 and 1. Returns false if a layer's parameter count is not the expected one.
bool init_cnn(cnn_train_net& net, const dlib::tensor& one_sample, const cnn_weights& w) {
  using s = cnn_sizes;
  dlib::visit_computational_layers(net, [](auto& details) {
    using T = std::decay_t<decltype(details)>;
    if constexpr (std::is_same_v<T, dlib::bn_<dlib::CONV_MODE>>)
      details = dlib::bn_<dlib::CONV_MODE>(100, double(s::bn_epsilon));
  });
  // Allocates every layer's parameters. With one sample, bn_ runs in inference mode, so the moving
  // statistics keep their initial values.
  net.subnet().forward(one_sample);

  bool ok = load_cnn_head(net.subnet().layer_details(), w);
  std::size_t visited = 0;  // dlib visits from the loss toward the input: conv2, then conv1
  dlib::visit_computational_layers(net, [&](auto& details) {
    if constexpr (is_con<std::decay_t<decltype(details)>>::value) {
      const bool second = visited++ == 0;
      const std::size_t cin = second ? s::filters1 : s::channels, f = second ? s::filters2 : s::filters1;
      const std::vector<float>& hwio = second ? w.conv2 : w.conv1;
      dlib::tensor& params = details.get_layer_params();
      if (params.size() != s::kernel * s::kernel * cin * f + f) {
        ok = false;
        return;
      }
      float* p = params.host();  // filters (f, cin, kh, kw), then f biases
      for (std::size_t ky = 0; ky < s::kernel; ++ky)
        for (std::size_t kx = 0; kx < s::kernel; ++kx)
          for (std::size_t c = 0; c < cin; ++c)
            for (std::size_t o = 0; o < f; ++o)
              p[((o * cin + c) * s::kernel + ky) * s::kernel + kx] = hwio[((ky * s::kernel + kx) * cin + c) * f + o];
      for (std::size_t o = 0; o < f; ++o) p[s::kernel * s::kernel * cin * f + o] = 0.f;
    }
  });
  return ok && visited == 2;
}

void run_cnn(benchmark::State& state, const cnn_case& cc) {
  using s = cnn_sizes;
  std::vector<float> xs(cc.batch * s::inputs);
  fill_inputs(xs.data(), cc.batch, s::inputs);
  std::vector<image> samples(cc.batch, image(long(s::height), long(s::width)));
  for (std::size_t r = 0; r < cc.batch; ++r)  // one channel: NHWC and NCHW are the same order
    for (std::size_t i = 0; i < s::height; ++i)
      for (std::size_t j = 0; j < s::width; ++j) samples[r](long(i), long(j)) = xs[r * s::inputs + i * s::width + j];
  std::vector<unsigned long> labels(cc.batch);
  for (std::size_t r = 0; r < cc.batch; ++r) labels[r] = label(r);

  const cnn_weights w;
  cnn_train_net net;
  dlib::resizable_tensor x, one;
  net.to_tensor(samples.begin(), samples.end(), x);
  net.to_tensor(samples.begin(), samples.begin() + 1, one);
  if (!init_cnn(net, one, w)) {
    state.SkipWithError("the dlib network type does not match the cnn workload's layer sizes");
    return;
  }

  if (cc.c == config::inference) {
    cnn_infer_net inet = net;  // bn_con -> affine: batch norm on the moving statistics
    dlib::resizable_tensor p;
    p.copy_size(inet.subnet().forward(x));
    time_steps(state, [&] {
      const dlib::tensor& logits = inet.subnet().forward(x);
      dlib::tt::softmax(p, logits);
      benchmark::DoNotOptimize(p.host());
      benchmark::ClobberMemory();
    });
    return;
  }

  if (cc.c == config::frozen) {
    cnn_infer_base base(net.subnet().subnet());  // the base in inference form, not trained
    cnn_head_net head;
    dlib::resizable_tensor unused;
    head.to_tensor(samples.begin(), samples.begin() + 1, unused);  // sets its sample expansion factor (1)
    head.subnet().forward(base.forward(x));                        // allocates the head
    if (!load_cnn_head(head.subnet().layer_details(), w)) {
      state.SkipWithError("the dlib head does not match the cnn workload's layer sizes");
      return;
    }
    std::vector<dlib::adam> solvers(cnn_head_net::num_computational_layers,
                                    dlib::adam(0.f, adam_hyper::beta_1, adam_hyper::beta_2));
    time_steps(state, [&] {
      const dlib::tensor& features = base.forward(x);
      const double loss = head.compute_parameter_gradients(features, labels.begin());
      head.update_parameters(solvers, adam_hyper::learning_rate);
      return loss;
    });
    return;
  }

  std::vector<dlib::adam> solvers(cnn_train_net::num_computational_layers,
                                  dlib::adam(0.f, adam_hyper::beta_1, adam_hyper::beta_2));
  time_steps(state, [&] {
    const double loss = net.compute_parameter_gradients(x, labels.begin());
    net.update_parameters(solvers, adam_hyper::learning_rate);
    return loss;
  });
}

}  // namespace

int main(int argc, char** argv) {
  const bool openblas = set_openblas_threads_if_loaded(threads());
  register_all(run_case);
  register_cnn(run_cnn);
  benchmark::AddCustomContext("openblas_threads_set", openblas ? "yes" : "no (OpenBLAS not loaded)");
  return run(argc, argv, "dlib",
             "dlib " + std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION));
}
