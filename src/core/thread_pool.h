// A fork-join thread pool: parallel_for splits [0, n) into one contiguous chunk per thread
// and returns when all are done. Idle workers sleep on a condition variable (they never
// spin, so they do not steal cycles from BLAS threads). Owned by whoever needs it (the
// Engine); there is no global pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ane {

// Default thread count: the number of physical cores.
int default_thread_count();

class ThreadPool {
 public:
  // threads <= 0 means default_thread_count(). The calling thread is one of them.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n). Chunks are at least `grain`
  // long, so small loops stay on the calling thread. Not re-entrant: fn must not call
  // parallel_for on the same pool.
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0;
  int job_chunks_ = 0;
  int pending_ = 0;
  unsigned generation_ = 0;
  bool stop_ = false;
};

}  // namespace ane
