// A dense MLP training step written directly on Eigen: relu hidden layers, softmax output,
// categorical cross-entropy on one-hot targets, Adam with Keras's update. Used by peer_eigen
// (timing) and peer_eigen_check (correctness).
//
// Layout: column-major matrices with one sample per column. A layer's activations are
// (units × batch), its weights W (units × inputs), so the forward product is Z = W·A and the
// memory of an (inputs × batch) input is that of the row-major (batch × inputs) data. Eigen's
// GEMM packs its operands either way; this layout makes the per-sample softmax a column
// operation and the bias a column broadcast.
//
// All parameters live in one flat, 64-byte-aligned buffer, layer after layer (W then b, each
// padded to a multiple of 64 bytes). The trainable layers are a suffix of the network, so their
// parameters are the buffer's tail, and their gradients and Adam moments are buffers of exactly
// that tail's size: frozen layers own no gradient or optimizer storage, and Adam runs over one
// contiguous range.
//
// Every buffer is allocated in the constructor; step(), forward() and the rest only write into
// them. (Eigen's GEMM itself takes its packing buffers from the stack up to
// EIGEN_STACK_ALLOCATION_LIMIT, 128 KiB by default, and from the heap above that: W1's products
// allocate nothing, W2's and W3's allocate inside Eigen's GEMM.)

#pragma once

#include "workloads.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace frost_peers::eigen_peer {

template <class T>
class mlp {
 public:
  using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
  using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  using row_vector = Eigen::Matrix<T, 1, Eigen::Dynamic>;
  using array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using matrix_map = Eigen::Map<matrix, Eigen::AlignedMax>;
  using vector_map = Eigen::Map<vector, Eigen::AlignedMax>;
  using array_map = Eigen::Map<array, Eigen::AlignedMax>;
  using index = Eigen::Index;

  // `frozen` leading layers get no gradient and no update; `seed` picks the initial weights.
  mlp(const workload& w, std::size_t batch, std::size_t frozen, std::uint32_t seed = 42)
      : layers_(w.layer_count), frozen_(frozen), batch_(index(batch)) {
    // Offsets in the flat parameter buffer; each block starts on a 64-byte boundary.
    constexpr std::size_t align = 64 / sizeof(T);
    auto padded = [](std::size_t n) { return (n + align - 1) / align * align; };
    std::size_t total = 0;
    for (std::size_t l = 0; l < layers_; ++l) {
      w_off_.push_back(total);
      total += padded(w.in(l) * w.out(l));
      b_off_.push_back(total);
      total += padded(w.out(l));
    }
    tail_ = frozen_ < layers_ ? w_off_[frozen_] : total;

    params_ = vector::Zero(index(total));
    grads_ = vector::Zero(index(total - tail_));
    m_ = array::Zero(index(total - tail_));
    v_ = array::Zero(index(total - tail_));

    for (std::size_t l = 0; l < layers_; ++l) {
      const index in = index(w.in(l)), out = index(w.out(l));
      glorot_uniform(params_.data() + w_off_[l], w.in(l), w.out(l), seed + std::uint32_t(l));
      w_.emplace_back(params_.data() + w_off_[l], out, in);
      b_.emplace_back(params_.data() + b_off_[l], out);
      a_.emplace_back(out, batch_);
      if (l >= frozen_) {
        dw_.emplace_back(grads_.data() + (w_off_[l] - tail_), out, in);
        db_.emplace_back(grads_.data() + (b_off_[l] - tail_), out);
        dz_.emplace_back(out, batch_);
      } else {
        dz_.emplace_back();  // a frozen layer never receives a gradient
      }
    }
    colmax_.resize(batch_);
    colsum_.resize(batch_);
  }

  // Forward pass up to the logits (bias added, no softmax) in a_.back().
  void forward(const matrix& x) {
    for (std::size_t l = 0; l < layers_; ++l) {
      const matrix& in = l == 0 ? x : a_[l - 1];
      a_[l].noalias() = w_[l] * in;
      if (l + 1 < layers_)
        a_[l].array() = (a_[l].array().colwise() + b_[l].array()).cwiseMax(T(0));  // bias + relu
      else
        a_[l].colwise() += b_[l];
    }
  }

  // Forward pass and softmax: the probabilities, one column per sample.
  const matrix& predict(const matrix& x) {
    forward(x);
    softmax_with_loss(nullptr);
    return a_.back();
  }

  // Forward pass, softmax and the mean cross-entropy, without gradients.
  T loss(const matrix& x, const matrix& y) {
    forward(x);
    return softmax_with_loss(&y);
  }

  // Forward, loss and backward: fills the gradients of the trainable layers, returns the loss.
  T loss_and_gradients(const matrix& x, const matrix& y) {
    forward(x);
    const T loss = softmax_with_loss(&y);
    const std::size_t top = layers_ - 1;
    if (frozen_ > top) return loss;

    // Softmax and cross-entropy together: dL/dz = (p - y) / N.
    dz_[top].noalias() = (a_[top] - y) * (T(1) / T(batch_));
    for (std::size_t l = top + 1; l-- > frozen_;) {
      const matrix& in = l == 0 ? x : a_[l - 1];
      dw_[l - frozen_].noalias() = dz_[l] * in.transpose();
      db_[l - frozen_].noalias() = dz_[l].rowwise().sum();
      if (l > frozen_) {  // a trainable layer below needs dX; the relu derivative masks it
        dz_[l - 1].noalias() = w_[l].transpose() * dz_[l];
        dz_[l - 1].array() = (a_[l - 1].array() > T(0)).select(dz_[l - 1].array(), T(0));
      }
    }
    return loss;
  }

  // Adam with Keras's update: alpha = lr·sqrt(1 - b2^t)/(1 - b1^t); w -= alpha·m/(sqrt(v) + eps).
  // The three expressions run per chunk of 1024 values, so the chunk of m, v, g and w that the
  // first expression loads is still in L1 for the other two.
  void adam_update() {
    ++t_;
    const T b1 = adam_hyper::beta_1, b2 = adam_hyper::beta_2, eps = adam_hyper::epsilon;
    const T alpha = T(double(adam_hyper::learning_rate) * std::sqrt(1.0 - std::pow(double(b2), double(t_))) /
                      (1.0 - std::pow(double(b1), double(t_))));
    constexpr index chunk = 1024;
    const index n = grads_.size();
    T* w = params_.data() + tail_;
    for (index off = 0; off < n; off += chunk) {
      const index len = std::min(chunk, n - off);
      const array_map g(grads_.data() + off, len);
      array_map m(m_.data() + off, len), v(v_.data() + off, len), p(w + off, len);
      m = b1 * m + (T(1) - b1) * g;
      v = b2 * v + (T(1) - b2) * g.square();
      p -= alpha * m / (v.sqrt() + eps);
    }
  }

  T step(const matrix& x, const matrix& y) {
    const T loss = loss_and_gradients(x, y);
    adam_update();
    return loss;
  }

  // Access for checks.
  std::size_t layers() const { return layers_; }
  std::size_t frozen() const { return frozen_; }
  vector& params() { return params_; }
  const vector& grads() const { return grads_; }
  std::size_t trainable_offset() const { return tail_; }  // params()[trainable_offset():] train
  const matrix_map& weights(std::size_t l) const { return w_[l]; }
  matrix_map& weights(std::size_t l) { return w_[l]; }
  const vector_map& bias(std::size_t l) const { return b_[l]; }
  const matrix_map& weight_gradient(std::size_t l) const { return dw_[l - frozen_]; }
  const vector_map& bias_gradient(std::size_t l) const { return db_[l - frozen_]; }

 private:
  // Column-wise softmax of the logits in a_.back(), in place. With targets, also returns the mean
  // cross-entropy, from the shifted logits z - max: for one-hot y, -log p_y = log(sum exp) - (z_y - max).
  // (Keras clips p to [1e-7, 1 - 1e-7] before the log; this exact form needs no clipping.)
  T softmax_with_loss(const matrix* y) {
    matrix& z = a_.back();
    colmax_.noalias() = z.colwise().maxCoeff();
    z.rowwise() -= colmax_;
    T picked = 0;
    if (y != nullptr) picked = (y->array() * z.array()).sum();
    z.array() = z.array().exp();
    colsum_.noalias() = z.colwise().sum();
    T loss = 0;
    if (y != nullptr) loss = (colsum_.array().log().sum() - picked) / T(batch_);
    colsum_ = colsum_.cwiseInverse();
    z.array().rowwise() *= colsum_.array();
    return loss;
  }

  std::size_t layers_, frozen_;
  index batch_;
  std::vector<std::size_t> w_off_, b_off_;
  std::size_t tail_ = 0;

  vector params_;   // every layer's W and b
  vector grads_;    // trainable tail only
  array m_, v_;     // Adam moments, trainable tail only
  long t_ = 0;      // Adam step count

  std::vector<matrix_map> w_;
  std::vector<vector_map> b_;
  std::vector<matrix_map> dw_;  // trainable layers only, indexed l - frozen_
  std::vector<vector_map> db_;
  std::vector<matrix> a_;       // a_[l]: output of layer l, (units × batch); a_.back(): logits, then p
  std::vector<matrix> dz_;      // dz_[l]: dL/d(pre-activation) of layer l; empty for frozen layers
  row_vector colmax_, colsum_;
};

}  // namespace frost_peers::eigen_peer
