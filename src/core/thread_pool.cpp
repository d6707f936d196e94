#include "core/thread_pool.h"

#include <algorithm>

#include "core/cpu_features.h"

namespace ane {
namespace {

// A kernel's steps follow each other within microseconds: a thread spins this many rounds
// (tens of microseconds) for the next job or for its helpers before it sleeps.
constexpr int kSpinRounds = 2000;

// Chunk c of `chunks` equal parts of [0, n).
std::pair<size_t, size_t> chunk_range(size_t n, int chunks, int c) {
  const size_t begin = n * static_cast<size_t>(c) / static_cast<size_t>(chunks);
  const size_t end = n * static_cast<size_t>(c + 1) / static_cast<size_t>(chunks);
  return {begin, end};
}

}  // namespace

int default_thread_count() { return cpu_features().physical_cores; }

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = default_thread_count();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(size_t n, size_t grain, void* fn, ChunkFn call) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const int chunks = static_cast<int>(std::min<size_t>(static_cast<size_t>(size()), (n + grain - 1) / grain));
  if (chunks <= 1) {
    call(fn, 0, n);
    return;
  }
  if (taken_.exchange(true, std::memory_order_acquire)) {  // another job has the workers
    for (int c = 0; c < chunks; ++c) {
      auto [begin, end] = chunk_range(n, chunks, c);
      call(fn, begin, end);
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = fn;
    job_call_ = call;
    job_n_ = n;
    job_chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
  }
  wake_.notify_all();
  auto [begin, end] = chunk_range(n, chunks, 0);
  call(fn, begin, end);
  for (int i = 0; i < kSpinRounds && pending_.load(std::memory_order_acquire) != 0; ++i) spin_pause();
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
  taken_.store(false, std::memory_order_release);
}

void ThreadPool::worker_loop(int index) {
  unsigned seen = 0;
  for (;;) {
    void* job;
    ChunkFn call;
    size_t n;
    int chunks;
    for (int i = 0; i < kSpinRounds && generation_.load(std::memory_order_acquire) == seen; ++i) spin_pause();
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      call = job_call_;
      n = job_n_;
      chunks = job_chunks_;
    }
    if (index < chunks) {
      auto [begin, end] = chunk_range(n, chunks, index);
      call(job, begin, end);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace ane
