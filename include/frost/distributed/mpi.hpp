#pragma once
/// \file
/// The few MPI operations frost's data-parallel training needs, on the C API of any MPI
/// (Open MPI, MPICH): `mpi::environment` (init and finalize), `mpi::communicator` (rank, size,
/// in-place sums and a broadcast, each with a deadline), and `distributed_error`. Needs an MPI
/// (`FROST_WITH_MPI` in CMake; Debian libopenmpi-dev). A collective that does not complete
/// within the deadline throws instead of waiting for ever: a rank that died or hangs shows up
/// as an error on the others.

#include <frost/core/error.hpp>

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only: no deprecated C++ bindings
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace frost {

/// A failure between processes: a collective past its deadline, ranks that disagree on the
/// model, an MPI call that failed. After one, the communicator may hold an unfinished operation:
/// end the job (an uncaught error does; `MPI_Abort` ends the other ranks at once).
struct distributed_error : error {
  using error::error;
};

namespace mpi {

namespace detail {
template <class T>
MPI_Datatype datatype() noexcept {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else static_assert(sizeof(T) == 0, "frost::mpi: float, double or std::uint64_t");
}

[[noreturn]] inline void fail(const char* where, const std::string& what, const std::string& expected,
                              const std::string& got) {
  ::frost::detail::raise(distributed_error(std::string(where) + ": " + what + ": expected " + expected + ", got " + got));
}

inline void check(int code, const char* where, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail(where, call, "MPI_SUCCESS", std::string(text, static_cast<std::size_t>(length)));
}
}  // namespace detail

/// MPI for the lifetime of this object (`MPI_Init_thread` with `MPI_THREAD_FUNNELED`: frost's
/// worker threads never call MPI), unless the program initialised it already.
/// ```cpp
/// int main(int argc, char** argv) {
///   frost::mpi::environment mpi(argc, argv);
///   auto world = frost::mpi::communicator::world();
/// }
/// ```
class environment {
 public:
  environment(int& argc, char**& argv) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready) return;
    int provided = 0;
    detail::check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "frost::mpi::environment",
                  "MPI_Init_thread");
    owns_ = true;
  }
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
  ~environment() {
    int done = 0;
    MPI_Finalized(&done);
    if (owns_ && !done) MPI_Finalize();
  }

 private:
  bool owns_ = false;
};

/// A group of processes (an `MPI_Comm`, not owned) and the deadline of its collectives.
class communicator {
 public:
  using clock = std::chrono::steady_clock;

  explicit communicator(MPI_Comm comm, clock::duration timeout = std::chrono::seconds(60)) : comm_(comm), timeout_(timeout) {
    detail::check(MPI_Comm_rank(comm_, &rank_), "frost::mpi::communicator", "MPI_Comm_rank");
    detail::check(MPI_Comm_size(comm_, &size_), "frost::mpi::communicator", "MPI_Comm_size");
  }
  /// Every process of the job (`MPI_COMM_WORLD`).
  static communicator world(clock::duration timeout = std::chrono::seconds(60)) {
    return communicator(MPI_COMM_WORLD, timeout);
  }

  std::size_t rank() const noexcept { return static_cast<std::size_t>(rank_); }
  std::size_t size() const noexcept { return static_cast<std::size_t>(size_); }
  MPI_Comm handle() const noexcept { return comm_; }
  clock::duration timeout() const noexcept { return timeout_; }
  void set_timeout(clock::duration t) noexcept { timeout_ = t; }

  /// data[i] ← the sum of data[i] over every rank, in place. `where` names the caller in errors.
  template <class T>
  void sum(T* data, std::size_t n, const char* where) const {
    MPI_Request request;
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, data, count(n, where), detail::datatype<T>(), MPI_SUM, comm_, &request),
                  where, "MPI_Iallreduce");
    wait_all(&request, 1, where, "a sum over every rank");
  }
  /// Starts the in-place sum of data[0..n) over every rank into `request`, to be finished by
  /// `wait_all`; data must stay untouched until then. Returns MPI's code (`MPI_SUCCESS`, or
  /// `MPI_ERR_COUNT` for n ≥ 2^31) instead of throwing: it may run inside a backward pass.
  template <class T>
  int start_sum(T* data, std::size_t n, MPI_Request& request) const noexcept {
    if (n > static_cast<std::size_t>(INT32_MAX)) return MPI_ERR_COUNT;
    return MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), detail::datatype<T>(), MPI_SUM, comm_, &request);
  }
  /// Lets started collectives advance (MPI moves them on only inside its calls); completed
  /// requests become `MPI_REQUEST_NULL`.
  void progress(MPI_Request* requests, std::size_t n) const noexcept {
    int done = 0;
    if (n != 0) MPI_Testall(static_cast<int>(n), requests, &done, MPI_STATUSES_IGNORE);
  }
  /// Finishes `requests[0..n)`, or throws `distributed_error` once the deadline passes, naming
  /// `what` was awaited. Allocates nothing unless it throws.
  void wait_all(MPI_Request* requests, std::size_t n, const char* where, const char* what) const {
    const auto start = clock::now();
    for (std::size_t polls = 0;; ++polls) {
      int done = 0;
      detail::check(MPI_Testall(static_cast<int>(n), requests, &done, MPI_STATUSES_IGNORE), where, "MPI_Testall");
      if (done) return;
      if (polls > 1000) {
        const auto waited = clock::now() - start;
        if (waited > timeout_) {
          const auto ms = [](clock::duration d) {
            return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
          };
          detail::fail(where, "collective of " + std::to_string(size_) + " processes", what + (" within " + ms(timeout_)),
                       "none after " + ms(waited) + " (a rank died, hangs or is elsewhere in the program)");
        }
        std::this_thread::yield();
      }
    }
  }
  /// The smallest and the largest of `value` over every rank.
  std::pair<std::uint64_t, std::uint64_t> min_max(std::uint64_t value, const char* where) const {
    std::uint64_t v[2] = {~value, value};  // the minimum as the maximum of the complement
    MPI_Request request;
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, v, 2, MPI_UINT64_T, MPI_MAX, comm_, &request), where, "MPI_Iallreduce");
    wait_all(&request, 1, where, "every rank's answer");
    return {~v[0], v[1]};
  }
  /// data ← rank `root`'s data, on every rank.
  template <class T>
  void broadcast(T* data, std::size_t n, std::size_t root, const char* where) const {
    MPI_Request request;
    detail::check(MPI_Ibcast(data, count(n, where), detail::datatype<T>(), static_cast<int>(root), comm_, &request),
                  where, "MPI_Ibcast");
    wait_all(&request, 1, where, root == 0 ? "rank 0's broadcast" : "the root rank's broadcast");
  }

 private:
  static int count(std::size_t n, const char* where) {
    if (n > static_cast<std::size_t>(INT32_MAX))
      detail::fail(where, "values in one collective", "at most 2^31 - 1", std::to_string(n));
    return static_cast<int>(n);
  }

  MPI_Comm comm_;
  clock::duration timeout_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace mpi
}  // namespace frost
