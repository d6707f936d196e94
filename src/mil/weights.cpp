#include "mil/weights.h"

#include <array>
#include <optional>

#include "core/byte_reader.h"

namespace ane::mil {
namespace {

// --- MILBlob v2 record reader --------------------------------------------------------------
// A minimal private reader; to be replaced by formats/weight_blob.h once that is merged.

constexpr uint32_t kBlobSentinel = 0xDEADBEEF;
constexpr uint32_t kBlobVersion = 2;
constexpr uint64_t kHeaderBytes = 64;

std::string hex32(uint32_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xFu];
  return s;
}

struct BlobRecord {
  uint32_t dtype_code = 0;
  std::span<const uint8_t> data;
};

// The blob whose metadata record starts at `offset`; errors are located in the file.
Expected<BlobRecord> read_blob_record(std::span<const uint8_t> file, uint64_t offset, const std::string& path) {
  ByteReader r(file, path);
  ANE_RETURN_IF_ERROR(r.skip(4, "file header"));
  ANE_ASSIGN_OR_RETURN(uint32_t version, r.read<uint32_t>("format version"));
  if (version != kBlobVersion) {
    return r.error_at(4, "MILBlob version " + std::to_string(version) + "; expected " + std::to_string(kBlobVersion));
  }
  if (file.size() < kHeaderBytes || offset < kHeaderBytes) {
    return r.error_at(offset, "metadata record at offset " + std::to_string(offset) + " overlaps the 64-byte file header");
  }
  ANE_RETURN_IF_ERROR(r.seek(offset, "metadata record"));
  ANE_ASSIGN_OR_RETURN(uint32_t sentinel, r.read<uint32_t>("blob sentinel"));
  if (sentinel != kBlobSentinel) {
    return r.error_at(offset, "no blob metadata at offset " + std::to_string(offset) + ": sentinel is " +
                                  hex32(sentinel) + ", expected 0xDEADBEEF");
  }
  BlobRecord rec;
  ANE_ASSIGN_OR_RETURN(rec.dtype_code, r.read<uint32_t>("blob dtype"));
  ANE_ASSIGN_OR_RETURN(uint64_t size, r.read<uint64_t>("blob size"));
  ANE_ASSIGN_OR_RETURN(uint64_t data_offset, r.read<uint64_t>("blob data offset"));
  ANE_RETURN_IF_ERROR(r.seek(data_offset, "blob data"));
  ANE_ASSIGN_OR_RETURN(rec.data, r.take(size, "blob data"));
  return rec;
}

// MILBlob dtype codes for the dtypes a const may declare.
std::optional<uint32_t> blob_dtype_code(DType t) {
  switch (t) {
    case DType::kFp16: return 1;
    case DType::kFp32: return 2;
    case DType::kUint8: return 3;
    case DType::kInt8: return 4;
    case DType::kBf16: return 5;
    case DType::kInt16: return 6;
    case DType::kUint16: return 7;
    case DType::kInt32: return 14;
    case DType::kUint32: return 15;
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
  Expected<BlobRecord> rec = read_blob_record(file->second, ref.offset, ref.path);
  if (!rec.ok()) {
    const int64_t at = rec.error().where().byte_offset;
    return const_error(op, ErrorCode::kParse, ref, rec.error().message() + (at >= 0 ? " (file byte " + std::to_string(at) + ")" : ""));
  }
  const std::optional<uint32_t> code = blob_dtype_code(type.dtype);
  if (!code) return const_error(op, ErrorCode::kUnsupported, ref, "dtype " + std::string(dtype_name(type.dtype)) + " cannot be stored in a blob");
  if (rec->dtype_code != *code) {
    return const_error(op, ErrorCode::kVerify, ref, "blob has dtype code " + std::to_string(rec->dtype_code) +
                                                        " but the const is declared " + type.to_string() + " (code " +
                                                        std::to_string(*code) + ")");
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
