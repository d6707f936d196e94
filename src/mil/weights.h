// Weight resolution: fills every BLOBFILE constant of a Program with its bytes.
//
// A const op `val = tensor<fp16, [768, 768, 1, 1]>(BLOBFILE(path = string("@model_path/weights/wq.bin"),
// offset = uint64(64)))` names a MILBlob v2 file and the offset of the blob's 64-byte metadata
// record. resolve_weights() finds the file in `files`, checks the record (sentinel, dtype equal
// to the declared one, size equal to the declared tensor's bytes, data inside the file) and
// copies the data into the const op's output Value::constant (Constant::data). The op's `val`
// attribute keeps only the reference, so printing still writes BLOBFILE(...).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>

#include "core/status.h"
#include "mil/ir.h"

namespace ane::mil {

// Blob file contents by MIL path ("@model_path/weights/wq.bin"). The caller owns the bytes;
// they need to live only for the resolve_weights() call.
using WeightMap = std::map<std::string, std::span<const uint8_t>, std::less<>>;

// Errors are located at the const op's line:col and name the path and the offset.
Status resolve_weights(Program& program, const WeightMap& files);

}  // namespace ane::mil
