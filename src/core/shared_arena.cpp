#include "core/shared_arena.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/huge_pages.h"

namespace ane {

Expected<std::shared_ptr<SharedArena>> SharedArena::reserve(size_t capacity) {
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return Error(ErrorCode::kIo,
                 "cannot reserve " + std::to_string(capacity) + " bytes for a shared arena: " + std::strerror(errno));
  }
  advise_huge_pages(p, capacity);
  return std::shared_ptr<SharedArena>(new SharedArena(static_cast<uint8_t*>(p), capacity));
}

SharedArena::~SharedArena() { ::munmap(data_, capacity_); }

}  // namespace ane
