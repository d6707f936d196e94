// Helpers shared by the format readers and writers: a little-endian byte writer, bulk reads
// of typed arrays through ByteReader, and overflow-checked size arithmetic.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/byte_reader.h"
#include "core/status.h"

namespace ane {

// Appends little-endian values to a growing byte vector (little-endian host assumed, as in
// ByteReader).
class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { bytes_.reserve(reserve); }
  // Starts from existing bytes (e.g. a zeroed header to patch).
  explicit ByteWriter(std::vector<uint8_t> initial) : bytes_(std::move(initial)) {}

  size_t size() const { return bytes_.size(); }
  std::span<const uint8_t> view() const { return bytes_; }

  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }

  // Appends the raw bytes of an array of trivially copyable values.
  template <typename T>
  void put_array(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes({reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()});
  }

  void put_bytes(std::span<const uint8_t> data) { bytes_.insert(bytes_.end(), data.begin(), data.end()); }
  // Appends `n` zero bytes and returns them, for the caller to fill (valid until the next put).
  std::span<uint8_t> extend(size_t n) {
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    return {bytes_.data() + at, n};
  }
  void reserve(size_t n) { bytes_.reserve(n); }

  // Appends zeros until size() == offset (no-op when already there or past it).
  void pad_to(size_t offset) {
    if (bytes_.size() < offset) bytes_.resize(offset, 0);
  }

  // Overwrites a value already written at `offset` (offset + sizeof(T) <= size()).
  template <typename T>
  void patch(size_t offset, T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(bytes_.data() + offset, &v, sizeof(T));
  }

  std::vector<uint8_t> take() && { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads `count` consecutive values of T into a new vector. The byte size is checked for
// overflow and against the bytes left before anything is allocated.
template <typename T>
Expected<std::vector<T>> read_array(ByteReader& r, uint64_t count, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  uint64_t bytes = 0;
  if (!checked_mul(count, sizeof(T), &bytes)) {
    return r.error(std::string(what) + ": element count " + std::to_string(count) + " overflows");
  }
  ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> raw, r.take(bytes, what));
  std::vector<T> out(static_cast<size_t>(count));
  if (bytes > 0) std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

// Adds sizes, failing instead of wrapping around.
// "0xDEADBEEF": how format errors print magic numbers, sentinels and checksums.
std::string hex32(uint32_t v);

inline bool checked_add(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

// Rounds up to a multiple of `align` (a power of two), failing on overflow.
inline bool checked_align_up(uint64_t v, uint64_t align, uint64_t* out) {
  if (!checked_add(v, align - 1, out)) return false;
  *out &= ~(align - 1);
  return true;
}

}  // namespace ane
