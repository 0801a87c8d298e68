// parallel_for: a shared index counter, per-thread bodies, the first exception carried to the caller.
#include "sim/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace bitsim {

void parallel_for(std::size_t count, int threads,
                  const std::function<std::function<void(std::size_t index)>()>& make_worker,
                  const ProgressFn& progress) {
  if (count == 0) return;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards done, error and the progress calls
  std::size_t done = 0;
  std::exception_ptr error;
  auto fail = [&] {
    const std::lock_guard lock(mutex);
    if (!error) error = std::current_exception();
    stop = true;
  };
  auto run = [&] {
    try {
      const auto body = make_worker();
      for (std::size_t i; !stop && (i = next.fetch_add(1)) < count;) {
        body(i);
        const std::lock_guard lock(mutex);
        ++done;
        if (progress) progress(done, count);
      }
    } catch (...) {
      fail();
    }
  };
  const auto n = static_cast<std::size_t>(std::max(1, threads));
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < std::min(n, count); ++t) pool.emplace_back(run);
  } catch (...) {  // a thread could not start: the others finish, then the error reaches the caller
    fail();
  }
  run();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace bitsim
