#include "mil/weights.h"

#include <array>
#include <optional>

#include "formats/weight_blob.h"

namespace ane::mil {
namespace {

// MILBlob dtype codes for the dtypes a const may declare.
std::optional<BlobDType> blob_dtype_of(DType t) {
  switch (t) {
    case DType::kFp16: return BlobDType::kFp16;
    case DType::kFp32: return BlobDType::kFp32;
    case DType::kUint8: return BlobDType::kUint8;
    case DType::kInt8: return BlobDType::kInt8;
    case DType::kBf16: return BlobDType::kBf16;
    case DType::kInt16: return BlobDType::kInt16;
    case DType::kUint16: return BlobDType::kUint16;
    case DType::kInt32: return BlobDType::kInt32;
    case DType::kUint32: return BlobDType::kUint32;
    default: return std::nullopt;
  }
}

// --- resolution ------------------------------------------------------------------------------

std::string available(const WeightMap& files) {
  if (files.empty()) return "no weight files were given";
  std::string s = "available: ";
  for (const auto& [path, bytes] : files) s += (s.size() > 11 ? ", " : "") + path;
  return s;
}

Error const_error(const Op& op, ErrorCode code, const BlobRef& ref, const std::string& rule) {
  return Error(code, "const '" + op.display_name() + "': BLOBFILE '" + ref.path + "' offset " + std::to_string(ref.offset) +
                         ": " + rule, op.loc);
}

// The checked bytes of the blob `ref`, declared with type `type`.
Expected<std::span<const uint8_t>> blob_bytes(const Op& op, const BlobRef& ref, const TensorType& type,
                                              const WeightMap& files) {
  auto file = files.find(ref.path);
  if (file == files.end()) return const_error(op, ErrorCode::kInvalidArgument, ref, "file not found; " + available(files));
  Expected<BlobEntry> rec = read_blob_entry(file->second, ref.offset, ref.path);
  if (!rec.ok()) {
    const int64_t at = rec.error().where().byte_offset;
    return const_error(op, ErrorCode::kParse, ref, rec.error().message() + (at >= 0 ? " (file byte " + std::to_string(at) + ")" : ""));
  }
  const std::optional<BlobDType> want = blob_dtype_of(type.dtype);
  if (!want) return const_error(op, ErrorCode::kUnsupported, ref, "dtype " + std::string(dtype_name(type.dtype)) + " cannot be stored in a blob");
  if (rec->dtype != *want) {
    return const_error(op, ErrorCode::kVerify, ref, "blob holds " + std::string(blob_dtype_name(rec->dtype)) +
                                                        " data but the const is declared " + type.to_string());
  }
  if (rec->data.size() != type.num_bytes()) {
    return const_error(op, ErrorCode::kVerify, ref, "blob holds " + std::to_string(rec->data.size()) + " bytes but " +
                                                        type.to_string() + " needs " + std::to_string(type.num_bytes()));
  }
  return rec->data;
}

// Fills the output Value of one BLOBFILE const op.
Status resolve_const(Op& op, const WeightMap& files) {
  if (op.outputs.size() != 1 || !op.outputs[0] || !op.outputs[0]->constant) return {};
  Constant& val = *op.outputs[0]->constant;
  if (!val.blob) return {};
  ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, blob_bytes(op, *val.blob, val.type, files));
  val.data.assign(bytes.begin(), bytes.end());
  return {};
}

}  // namespace

Status resolve_weights(Program& program, const WeightMap& files) {
  for (auto& fn : program.functions) {
    for (auto& op : fn->ops) {
      if (op->type == "const") ANE_RETURN_IF_ERROR(resolve_const(*op, files));
    }
  }
  return {};
}

}  // namespace ane::mil
