// Surface: the IOSurface of the runtime model. A 64-byte aligned byte buffer holding one
// tensor of a declared type (dtype + channel-first shape), shared between kernels by
// shared_ptr so that one kernel's output can be bound as another's input without a copy.
//
// Locking mirrors IOSurfaceLock: a Surface is SharedLockable, so std::unique_lock (write)
// and std::shared_lock (read) work on it. Kernel::run() holds the locks of its surfaces
// while it runs; write()/read() lock for their copy. data() is zero-copy access: hold a
// lock around it when another thread may run a kernel on the surface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "mil/types.h"

namespace ane {

class Surface {
 public:
  // A zero-filled surface of `type` (num_bytes() bytes).
  static std::shared_ptr<Surface> create(mil::TensorType type);

  explicit Surface(mil::TensorType type);
  Surface(const Surface&) = delete;
  Surface& operator=(const Surface&) = delete;

  const mil::TensorType& type() const { return type_; }
  size_t size() const { return buffer_.size(); }  // bytes
  // Zero-copy views of the bytes, valid while the Surface lives.
  uint8_t* data() { return buffer_.data(); }
  const uint8_t* data() const { return buffer_.data(); }
  std::span<uint8_t> bytes() { return {buffer_.data(), buffer_.size()}; }
  std::span<const uint8_t> bytes() const { return {buffer_.data(), buffer_.size()}; }

  // Copies `src` to the start of the surface under the write lock; more bytes than size()
  // is an error, fewer write a prefix.
  Status write(std::span<const uint8_t> src);
  // Copies the first dst.size() bytes out under the read lock; more than size() is an error.
  Status read(std::span<uint8_t> dst) const;

  // SharedLockable: exclusive for writers, shared for readers.
  void lock() const { mu_.lock(); }
  void unlock() const { mu_.unlock(); }
  bool try_lock() const { return mu_.try_lock(); }
  void lock_shared() const { mu_.lock_shared(); }
  void unlock_shared() const { mu_.unlock_shared(); }
  bool try_lock_shared() const { return mu_.try_lock_shared(); }

 private:
  mil::TensorType type_;
  AlignedBuffer buffer_;
  mutable std::shared_mutex mu_;
};

}  // namespace ane
