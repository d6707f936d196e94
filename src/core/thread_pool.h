// A fork-join thread pool: parallel_for splits [0, n) into one contiguous chunk per thread
// and returns when all are done. An idle worker spins for a few tens of microseconds (a
// kernel's next step usually comes that soon), then sleeps on a condition variable, so a
// pool that is not used costs nothing. There is no global pool: an Engine owns one, which
// its kernels and the trainer share (one set of threads that stay warm from one kernel's
// steps to the next and to the CPU work between kernels), and anyone may make their own.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <type_traits>
#include <thread>
#include <vector>

namespace ane {

// Default thread count: the number of physical cores.
int default_thread_count();

// Tells the CPU that this thread is spin-waiting (x86 `pause`; nothing elsewhere).
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class ThreadPool {
 public:
  // threads <= 0 means default_thread_count(). The calling thread is one of them.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n). Chunks are at least `grain`
  // long, so small loops stay on the calling thread. Chunk c runs on thread c (the caller is
  // thread 0), except when the workers are taken: a call made while another thread's job
  // runs, or from inside a job, runs all its chunks on the calling thread, in order. So a
  // pool may be shared by kernels run from several threads. fn is called through a
  // pointer, never copied, so starting a job allocates nothing whatever fn captures.
  template <typename Fn>
  void parallel_for(size_t n, size_t grain, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n, grain, const_cast<void*>(static_cast<const void*>(std::addressof(fn))),
        [](void* f, size_t begin, size_t end) { (*static_cast<F*>(f))(begin, end); });
  }

 private:
  using ChunkFn = void (*)(void* fn, size_t begin, size_t end);
  void run(size_t n, size_t grain, void* fn, ChunkFn call);
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::atomic<bool> taken_{false};  // the workers run a job (whose caller holds them)
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  void* job_ = nullptr;
  ChunkFn job_call_ = nullptr;
  size_t job_n_ = 0;
  int job_chunks_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<unsigned> generation_{0};
  bool stop_ = false;
};

// pool->parallel_for, or fn(0, n) on this thread when there is no pool (callers whose pool
// is optional).
template <typename Fn>
void parallel_for(ThreadPool* pool, size_t n, size_t grain, Fn&& fn) {
  if (pool == nullptr) return fn(size_t{0}, n);
  pool->parallel_for(n, grain, fn);
}

// fn(i) for every i in [0, n), each of the pool's threads taking the next unclaimed i (in
// order on this thread when there is no pool): for items of unequal cost, which equal shares
// would leave one thread waiting on the other for.
template <typename Fn>
void parallel_claim(ThreadPool* pool, size_t n, Fn&& fn) {
  std::atomic<size_t> next{0};
  const size_t threads = pool != nullptr ? static_cast<size_t>(pool->size()) : 1;
  parallel_for(pool, std::min(threads, n), 1, [&](size_t, size_t) {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  });
}

}  // namespace ane
