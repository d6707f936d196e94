#include "core/byte_reader.h"

namespace ane {

Status ByteReader::check(uint64_t n, const char* what) const {
  if (n > remaining()) {
    return error("truncated: " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
                 std::to_string(remaining()) + " left (file is " + std::to_string(size()) + " bytes)");
  }
  return {};
}

Status ByteReader::seek(uint64_t offset, const char* what) {
  if (offset > size()) {
    return error_at(offset_, std::string(what) + " at offset " + std::to_string(offset) +
                                 " is past the end of the file (" + std::to_string(size()) + " bytes)");
  }
  offset_ = static_cast<size_t>(offset);
  return {};
}

Expected<std::span<const uint8_t>> ByteReader::take(uint64_t n, const char* what) {
  ANE_RETURN_IF_ERROR(check(n, what));
  auto view = bytes_.subspan(offset_, static_cast<size_t>(n));
  offset_ += static_cast<size_t>(n);
  return view;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

}  // namespace ane
