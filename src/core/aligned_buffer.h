// Owning, 64-byte aligned, zero-initialised byte buffer (cache-line and AVX-512 aligned).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "core/huge_pages.h"

namespace ane {

// Zeroed through calloc: a large buffer comes as fresh zero pages from the OS, so it is not
// written twice (a static-pipeline step allocates hundreds of MB of constants and arenas).
// Those pages are advised for huge pages before anything touches them (core/huge_pages.h).
class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes) : size_(bytes) {
    if (bytes == 0) return;
    raw_ = std::calloc(bytes + kAlignment, 1);
    if (raw_ == nullptr) throw std::bad_alloc();
    advise_huge_pages(raw_, bytes + kAlignment);  // no-op below a whole huge page
    const auto address = reinterpret_cast<uintptr_t>(raw_);
    data_ = reinterpret_cast<uint8_t*>((address + kAlignment - 1) / kAlignment * kAlignment);
  }
  ~AlignedBuffer() { std::free(raw_); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : raw_(std::exchange(o.raw_, nullptr)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      std::free(raw_);
      raw_ = std::exchange(o.raw_, nullptr);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T> T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data_); }

 private:
  void* raw_ = nullptr;      // what calloc returned
  uint8_t* data_ = nullptr;  // raw_ rounded up to kAlignment
  size_t size_ = 0;
};

}  // namespace ane
