#include "runtime/surface.h"

#include <cstring>
#include <mutex>
#include <string>

namespace ane {

std::shared_ptr<Surface> Surface::create(mil::TensorType type) { return std::make_shared<Surface>(std::move(type)); }

Surface::Surface(mil::TensorType type) : type_(std::move(type)), buffer_(type_.num_bytes()) {}

Status Surface::write(std::span<const uint8_t> src) {
  if (src.size() > size()) {
    return Error(ErrorCode::kOutOfRange, "write of " + std::to_string(src.size()) + " bytes to a " +
                                             std::to_string(size()) + "-byte surface " + type_.to_string());
  }
  std::unique_lock lock(*this);
  if (!src.empty()) std::memcpy(buffer_.data(), src.data(), src.size());
  return {};
}

Status Surface::read(std::span<uint8_t> dst) const {
  if (dst.size() > size()) {
    return Error(ErrorCode::kOutOfRange, "read of " + std::to_string(dst.size()) + " bytes from a " +
                                             std::to_string(size()) + "-byte surface " + type_.to_string());
  }
  std::shared_lock lock(*this);
  if (!dst.empty()) std::memcpy(dst.data(), buffer_.data(), dst.size());
  return {};
}

}  // namespace ane
