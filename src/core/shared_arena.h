// Scratch memory that several compiled functions take in turn.
//
// A compiled function's intermediates live in its arena only while it runs, so functions that
// never run at once (a trainer's kernels, which run in sequence) can share one arena as large
// as the largest of them instead of holding one each: the static pipeline's 60 baked
// Stories110M kernels held 727 MB of arenas, about 12 MB each. The space is reserved address
// space; a page takes memory when a run first touches it. A run holds lock() throughout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/status.h"

namespace ane {

class SharedArena {
 public:
  // Reserves `capacity` bytes of address space (advised for huge pages); an error when the
  // system refuses the reservation.
  static Expected<std::shared_ptr<SharedArena>> reserve(size_t capacity);
  ~SharedArena();
  SharedArena(const SharedArena&) = delete;
  SharedArena& operator=(const SharedArena&) = delete;

  uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  // Held by a run for its whole duration: runs of the functions sharing the arena take turns.
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }

 private:
  SharedArena(uint8_t* data, size_t capacity) : data_(data), capacity_(capacity) {}

  uint8_t* data_;
  size_t capacity_;
  std::mutex mu_;
};

}  // namespace ane
