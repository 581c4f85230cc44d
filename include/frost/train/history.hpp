#pragma once
/// \file
/// `logs` (one epoch's named values, as Keras passes to callbacks) and `history` (every
/// epoch's, as Keras's `History.history`), returned by `fit`; `to_csv` writes a history as
/// Keras's `CSVLogger` does.

#include <frost/core/error.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frost {

namespace detail {
inline std::string joined_keys(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "\"" : ", \"") + k + "\"";
  return s.empty() ? "none" : s;
}
}  // namespace detail

/// Named values of one epoch ("loss", "accuracy", "val_loss", ...), in the order they were set.
class logs {
 public:
  /// Sets `name` to `value`, adding the name if it is new.
  void set(std::string_view name, double value) {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) {
        values_[i] = value;
        return;
      }
    names_.emplace_back(name);
    values_.push_back(value);
  }
  /// The value of `name`, or null.
  const double* find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return &values_[i];
    return nullptr;
  }
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  /// The value of `name`; throws `value_error` naming the keys there are.
  double operator[](std::string_view name) const {
    if (const double* v = find(name)) return *v;
    detail::throw_value("frost::logs", ("key \"" + std::string(name) + "\"").c_str(),
                        "one of " + detail::joined_keys(names_), "a name not logged");
  }
  const std::vector<std::string>& names() const noexcept { return names_; }
  const std::vector<double>& values() const noexcept { return values_; }
  std::size_t size() const noexcept { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::vector<double> values_;
};

/// What `fit` returns: for every key, one value per epoch run, as Keras's
/// `history.history["loss"]`; `epoch()` holds the epochs' indices (from 0, as Keras's
/// `history.epoch`). A key first logged in a later epoch reads NaN for the epochs before.
/// ```cpp
/// auto h = frost::fit(tr, x, y, {.epochs = 10, .validation_split = 0.2f}, frost::accuracy{});
/// double last = h["val_accuracy"].back();
/// ```
class history {
 public:
  /// The values of `key`; throws `value_error` naming the keys there are.
  const std::vector<double>& operator[](std::string_view key) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) return values_[i];
    detail::throw_value("frost::history", ("key \"" + std::string(key) + "\"").c_str(),
                        "one of " + detail::joined_keys(keys_), "a key not recorded");
  }
  bool contains(std::string_view key) const noexcept {
    for (const auto& k : keys_)
      if (k == key) return true;
    return false;
  }
  const std::vector<std::string>& keys() const noexcept { return keys_; }
  const std::vector<std::size_t>& epoch() const noexcept { return epochs_; }
  /// Epochs recorded.
  std::size_t size() const noexcept { return epochs_.size(); }
  bool empty() const noexcept { return epochs_.empty(); }

  /// Records epoch `epoch`'s logs.
  void add(std::size_t epoch, const logs& l) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (!contains(l.names()[i])) {
        keys_.push_back(l.names()[i]);
        values_.emplace_back(epochs_.size(), nan);
      }
    }
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const double* v = l.find(keys_[k]);
      values_[k].push_back(v != nullptr ? *v : nan);
    }
    epochs_.push_back(epoch);
  }

 private:
  std::vector<std::string> keys_;
  std::vector<std::vector<double>> values_;
  std::vector<std::size_t> epochs_;
};

namespace detail {
/// The shortest text that reads back as `v` (Python's repr, which CSVLogger writes).
inline std::string shortest(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace detail

/// Writes `h` to `path` as Keras's `CSVLogger` does: a header `epoch,<keys in sorted order>`,
/// then one line per epoch (epochs from 0), each value in the shortest form that reads back
/// exactly. Throws `io_error` if the file cannot be written.
inline void to_csv(const history& h, const std::string& path) {
  std::vector<std::size_t> order(h.keys().size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = 1; i < order.size(); ++i)  // insertion sort by key: a handful of keys
    for (std::size_t j = i; j > 0 && h.keys()[order[j]] < h.keys()[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) ::frost::detail::raise(io_error("frost::to_csv: \"" + path + "\": cannot open for writing"));
  out << "epoch";
  for (std::size_t k : order) out << ',' << h.keys()[k];
  out << "\r\n";
  for (std::size_t e = 0; e < h.size(); ++e) {
    out << h.epoch()[e];
    for (std::size_t k : order) out << ',' << detail::shortest(h[h.keys()[k]][e]);
    out << "\r\n";
  }
  out.flush();
  if (!out) ::frost::detail::raise(io_error("frost::to_csv: \"" + path + "\": write failed"));
}

}  // namespace frost
