#pragma once
/// \file
/// The run-time error hierarchy of frost. Every run-time misuse throws one of these, with a
/// message of the form `frost::<entry point>: <subject>: expected <E>, got <G>`.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace frost {

/// Base of every exception frost throws on purpose. Catch this to catch them all.
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A run-time size does not fit: batch rows, x/y row mismatch, a buffer of the wrong length.
struct shape_error : error {
  using error::error;
};

/// A value is outside its domain: an integer label out of range, a non-finite gradient.
struct value_error : error {
  using error::error;
};

/// Opening, reading, writing or renaming a file failed.
struct io_error : error {
  using error::error;
};

/// A file's content is not what was expected: missing tensor, dtype, shape, truncation.
struct format_error : error {
  using error::error;
};

/// An object is used in a state that cannot serve the call: a model moved from by
/// freeze/unfreeze, whose weights now live in the returned model.
struct state_error : error {
  using error::error;
};

namespace detail {

// Cold paths: the message is built (and allocates) only when the error is thrown.
[[noreturn]] inline void throw_shape(const char* where, const char* subject,
                                     const std::string& expected, const std::string& got) {
  throw shape_error(std::string(where) + ": " + subject + ": expected " + expected + ", got " + got);
}

[[noreturn]] inline void throw_value(const char* where, const char* subject,
                                     const std::string& expected, const std::string& got) {
  throw value_error(std::string(where) + ": " + subject + ": expected " + expected + ", got " + got);
}

[[noreturn]] inline void throw_moved_model(const char* where) {
  throw state_error(std::string(where) +
                    ": model: expected a model holding its weights, got one that was moved from "
                    "(freeze and unfreeze return the model; use the returned one)");
}

}  // namespace detail
}  // namespace frost
