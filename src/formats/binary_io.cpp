#include "formats/binary_io.h"

#include <cstdio>

namespace ane {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

}  // namespace ane
