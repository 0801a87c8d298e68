// Work split across threads: every index of [0, count) is run exactly once, on up to `threads`
// threads (the calling thread is one of them). An exception thrown by any worker stops the others
// from taking new indices and is rethrown to the caller after every thread has joined, so a
// worker's InputError or failed check reaches main() like any other (never std::terminate).
#pragma once

#include <cstddef>
#include <functional>

namespace bitsim {

// Called after each finished index, under a lock, with done = 1, 2, ..., count in that order.
using ProgressFn = std::function<void(std::size_t done, std::size_t count)>;

// `make_worker` runs once per thread and returns that thread's body; per-thread state (scratch
// buffers, results reused across indices) lives in the body's captures. Indices are handed out
// in increasing order, one at a time, so results stored by index do not depend on `threads`.
void parallel_for(std::size_t count, int threads,
                  const std::function<std::function<void(std::size_t index)>()>& make_worker,
                  const ProgressFn& progress = {});

}  // namespace bitsim
