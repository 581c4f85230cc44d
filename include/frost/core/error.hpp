#pragma once
/// \file
/// The run-time error hierarchy of frost. Every run-time misuse throws one of these, with a
/// message of the form `frost::<entry point>: <subject>: expected <E>, got <G>`.
///
/// Builds without exceptions (`-fno-exceptions`, or `FROST_NO_EXCEPTIONS` defined before the
/// first frost header) raise the same error objects through `frost::error_handler` instead:
/// the handler gets the error, and if it returns, frost calls `std::abort()`. The default
/// handler prints the message to stderr and aborts. `set_error_handler` replaces it.

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#if !defined(FROST_NO_EXCEPTIONS) && !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#define FROST_NO_EXCEPTIONS 1
#endif

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

/// What a build without exceptions does with an error instead of throwing it. It must not
/// return (frost aborts if it does): print and abort, or leave the thread another way
/// (`std::exit`, `longjmp` out of the real-time loop into code that restores state).
using error_handler = void (*)(const error&);

namespace detail {
[[noreturn]] inline void print_and_abort(const error& e) {
  std::fprintf(stderr, "frost: %s\n", e.what());
  std::abort();
}
inline std::atomic<error_handler>& handler_slot() noexcept {
  static std::atomic<error_handler> slot{&print_and_abort};
  return slot;
}
}  // namespace detail

/// Sets the handler of errors in builds without exceptions (nullptr: the default, print and
/// abort) and returns the previous one. In builds with exceptions frost throws and never calls it.
inline error_handler set_error_handler(error_handler h) noexcept {
  return detail::handler_slot().exchange(h != nullptr ? h : &detail::print_and_abort);
}
inline error_handler get_error_handler() noexcept { return detail::handler_slot().load(); }

/// True when frost throws its errors; false when they go to the error handler.
#ifdef FROST_NO_EXCEPTIONS
inline constexpr bool throws_errors = false;
#else
inline constexpr bool throws_errors = true;
#endif

namespace detail {

/// Every error frost raises goes through here: thrown, or handed to the error handler.
template <class E>
[[noreturn]] void raise(E&& e) {
#ifdef FROST_NO_EXCEPTIONS
  const error& ref = e;
  get_error_handler()(ref);
  std::abort();
#else
  throw std::forward<E>(e);
#endif
}

// Cold paths: the message is built (and allocates) only when the error is thrown.
[[noreturn]] inline void throw_shape(const char* where, const char* subject,
                                     const std::string& expected, const std::string& got) {
  ::frost::detail::raise(shape_error(std::string(where) + ": " + subject + ": expected " + expected + ", got " + got));
}

[[noreturn]] inline void throw_value(const char* where, const char* subject,
                                     const std::string& expected, const std::string& got) {
  ::frost::detail::raise(value_error(std::string(where) + ": " + subject + ": expected " + expected + ", got " + got));
}

[[noreturn]] inline void throw_moved_model(const char* where) {
  ::frost::detail::raise(state_error(std::string(where) +
                    ": model: expected a model holding its weights, got one that was moved from "
                    "(freeze and unfreeze return the model; use the returned one)"));
}

}  // namespace detail
}  // namespace frost
