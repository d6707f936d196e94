// CRC-32 (IEEE 802.3 / zlib / PNG polynomial 0xEDB88320, reflected, initial and final
// xor 0xFFFFFFFF): crc32("123456789") == 0xCBF43926, the same value zlib's crc32() gives.
#pragma once

#include <cstdint>
#include <span>

namespace ane {

// CRC of `bytes`, continuing from `crc` (the value returned for the bytes before them;
// 0 to start). crc32(b) == crc32(b2, crc32(b1)) when b is b1 followed by b2.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace ane
