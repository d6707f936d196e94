// NumPy .npy arrays (format versions 1.0-3.0): the files `ane mil run` reads inputs from and
// writes outputs to. Only C-order, little-endian (or byte-sized) arrays are accepted.
//
// Layout: magic "\x93NUMPY", u8 major, u8 minor, header length (u16 for 1.x, u32 for 2.x/3.x),
// an ASCII Python dict {'descr': '<f2', 'fortran_order': False, 'shape': (1, 768, 1, 256), }
// padded with spaces and a newline so the data starts 64-byte aligned, then the raw data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace ane {

struct NpyArray {
  std::string descr;            // numpy type string: "<f2", "<f4", "<i4", "|u1", "|b1", ...
  std::vector<int64_t> shape;   // C order; empty for a 0-d array
  std::vector<uint8_t> data;    // element_count * item size bytes

  int64_t element_count() const;
};

// Bytes per element of a descr ("<f4" -> 4); 0 for an unsupported descr.
size_t npy_item_size(const std::string& descr);

Expected<NpyArray> parse_npy(std::span<const uint8_t> bytes, const std::string& source);
Expected<NpyArray> read_npy(const std::string& path);
// Format 1.0 (or 2.0 when the header needs it); data.size() must match descr and shape.
Expected<std::vector<uint8_t>> serialize_npy(const NpyArray& array);
Status write_npy(const std::string& path, const NpyArray& array);

}  // namespace ane
