#include <frost/core/error.hpp>
#include <frost/core/part.hpp>
#include <frost/core/thread_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

TEST_CASE("part::of cuts 0..n into disjoint shares on grain boundaries", "[core][thread_pool]") {
  for (std::size_t count : {1u, 2u, 3u, 7u})
    for (std::size_t n : {0u, 1u, 5u, 8u, 9u, 64u, 100u})
      for (std::size_t grain : {1u, 8u, 32u}) {
        CAPTURE(count, n, grain);
        std::size_t next = 0;
        for (std::size_t i = 0; i < count; ++i) {
          const frost::index_range r = frost::part{i, count}.of(n, grain);
          REQUIRE(r.begin == next);  // contiguous, in order, no overlap
          REQUIRE(r.end >= r.begin);
          if (r.end != n) REQUIRE(r.end % grain == 0);
          next = r.end;
        }
        REQUIRE(next == n);
      }
  REQUIRE(frost::part::whole().of(10).size() == 10);
}

TEST_CASE("thread_pool runs every share exactly once per run, on distinct threads", "[core][thread_pool]") {
  frost::thread_pool pool(frost::threads{3});
  REQUIRE(pool.size() == 3);
  std::vector<std::atomic<int>> hits(3);
  std::vector<std::thread::id> who(3);
  for (int run = 0; run < 500; ++run) {
    auto job = [&](frost::part p) noexcept {
      hits[p.index].fetch_add(1);
      who[p.index] = std::this_thread::get_id();
    };
    pool.run(job);
    // run returns only when every share has returned
    for (auto& h : hits) REQUIRE(h.load() == run + 1);
  }
  REQUIRE(who[0] == std::this_thread::get_id());  // share 0 is the caller's
  REQUIRE(who[1] != who[0]);
  REQUIRE(who[2] != who[0]);
  REQUIRE(who[1] != who[2]);
}

TEST_CASE("thread_pool wakes workers that went to sleep", "[core][thread_pool]") {
  frost::thread_pool pool(frost::threads{2});
  std::atomic<int> sum{0};
  auto job = [&](frost::part p) noexcept { sum.fetch_add(int(p.index) + 1); };
  pool.run(job);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // long past the spinning
  pool.run(job);
  REQUIRE(sum.load() == 6);
}

TEST_CASE("thread_pool with one thread starts none and runs the whole job on the caller", "[core][thread_pool]") {
  frost::thread_pool pool(frost::threads{1});
  int calls = 0;
  auto job = [&](frost::part p) noexcept {
    calls += p.count == 1 && p.index == 0;
  };
  pool.run(job);
  REQUIRE(calls == 1);
  REQUIRE_THROWS_AS(frost::thread_pool(frost::threads{0}), frost::value_error);
  REQUIRE(frost::threads::all().count >= 1);
}
