// Bounds-checked little-endian reads from a byte span. Every failure names the source and
// the byte offset at which the read would have gone past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "core/status.h"

namespace ane {

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {}

  size_t offset() const { return offset_; }
  size_t size() const { return bytes_.size(); }
  size_t remaining() const { return bytes_.size() - offset_; }
  const std::string& source() const { return source_; }
  std::span<const uint8_t> all() const { return bytes_; }

  // Moves to an absolute offset (which may equal size()).
  Status seek(uint64_t offset, const char* what);
  Status skip(uint64_t n, const char* what) { return seek(offset_ + n, what); }

  // Reads a trivially copyable value (little-endian host assumed; x86-64 and arm64 are).
  template <typename T>
  Expected<T> read(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    ANE_RETURN_IF_ERROR(check(sizeof(T), what));
    T v;
    std::memcpy(&v, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return v;
  }

  // A view of the next n bytes; advances past them.
  Expected<std::span<const uint8_t>> take(uint64_t n, const char* what);

  // An error located at the current offset (or at `at`) of this source.
  Error error(const std::string& msg) const { return error_at(offset_, msg); }
  Error error_at(uint64_t at, const std::string& msg) const {
    return parse_error(msg, Location::bytes(source_, static_cast<int64_t>(at)));
  }

 private:
  Status check(uint64_t n, const char* what) const;

  std::span<const uint8_t> bytes_;
  std::string source_;
  size_t offset_ = 0;
};

// Multiplies sizes, failing instead of wrapping around.
bool checked_mul(uint64_t a, uint64_t b, uint64_t* out);

}  // namespace ane
