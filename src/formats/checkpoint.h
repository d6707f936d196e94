// OpenANE's own checkpoint ("OANECKPT"): JSON metadata plus any number of named, typed
// tensors, every byte covered by a CRC-32 or a zero-padding check, written atomically.
//
// Layout (little-endian):
//   0   header, 64 bytes:
//        0 char[8] "OANECKPT"     8 u32 version (1)     12 u32 header_crc (CRC-32 of bytes
//        0..63 with bytes 12..15 taken as zero)   16 u64 meta_size   24 u64 table_size
//       32 u64 file_size   40 u32 meta_crc   44 u32 table_crc   48 u32 tensor_count
//       52 u32 reserved (0)   56 u64 reserved (0)
//   64  metadata: meta_size bytes of UTF-8 JSON, one object
//   64 + meta_size   tensor table: tensor_count records, table_size bytes:
//        u32 name_len, name bytes, u32 dtype, u32 rank, u64 dims[rank], u64 data_offset,
//        u64 data_size, u32 data_crc
//   then each tensor's data at the next 64-byte-aligned offset, in table order, the gaps
//   filled with zeros; the file ends where the last tensor's data ends.
// The reader insists on exactly this canonical layout, so any change to any byte is caught;
// errors name the section (header, metadata, tensor table, padding, tensor 'NAME') and the
// byte offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/status.h"
#include "formats/model_config.h"

namespace ane {

inline constexpr uint32_t kCheckpointVersion = 1;

// Element types of checkpoint tensors (the numbers are the on-disk codes).
enum class CkptDType : uint32_t {
  kF32 = 1, kF16 = 2, kBF16 = 3, kF64 = 4,
  kI8 = 5, kU8 = 6, kI16 = 7, kU16 = 8, kI32 = 9, kU32 = 10, kI64 = 11, kU64 = 12,
};
// Bytes per element; 0 for a code that is not a CkptDType.
size_t ckpt_dtype_size(CkptDType t);
// "f32", "u64", ...; "?" for an unknown code.
const char* ckpt_dtype_name(CkptDType t);

// The CkptDType that stores a C++ type (fp16 and bf16 have none: use kF16 / kBF16 with bytes).
template <typename T> constexpr CkptDType ckpt_dtype_of();
template <> constexpr CkptDType ckpt_dtype_of<float>() { return CkptDType::kF32; }
template <> constexpr CkptDType ckpt_dtype_of<double>() { return CkptDType::kF64; }
template <> constexpr CkptDType ckpt_dtype_of<int8_t>() { return CkptDType::kI8; }
template <> constexpr CkptDType ckpt_dtype_of<uint8_t>() { return CkptDType::kU8; }
template <> constexpr CkptDType ckpt_dtype_of<int16_t>() { return CkptDType::kI16; }
template <> constexpr CkptDType ckpt_dtype_of<uint16_t>() { return CkptDType::kU16; }
template <> constexpr CkptDType ckpt_dtype_of<int32_t>() { return CkptDType::kI32; }
template <> constexpr CkptDType ckpt_dtype_of<uint32_t>() { return CkptDType::kU32; }
template <> constexpr CkptDType ckpt_dtype_of<int64_t>() { return CkptDType::kI64; }
template <> constexpr CkptDType ckpt_dtype_of<uint64_t>() { return CkptDType::kU64; }

// A named tensor: raw little-endian element bytes plus dtype and shape (row-major). The bytes
// are its own (`data`), or lie in a mapped checkpoint file (Checkpoint::map): then copying
// them out hands their pages back, so reading a large checkpoint into a model does not hold
// a second copy of it in memory.
struct NamedTensor {
  std::string name;             // unique within a checkpoint, non-empty
  CkptDType dtype = CkptDType::kF32;
  std::vector<uint64_t> shape;  // empty = a scalar (one element)
  std::vector<uint8_t> data;    // numel() * ckpt_dtype_size(dtype) bytes, unless mapped
  std::shared_ptr<const MappedFile> file = nullptr;  // set when the bytes are `mapped`, in this file
  std::span<const uint8_t> mapped = {};

  // Product of the shape (1 for a scalar); saturates at UINT64_MAX on overflow.
  uint64_t numel() const;
  std::span<const uint8_t> bytes() const { return file ? mapped : std::span<const uint8_t>(data); }

  // A tensor holding a copy of `values`; save() checks that the shape fits the values.
  template <typename T>
  static NamedTensor of(std::string name, std::vector<uint64_t> shape, std::span<const T> values) {
    NamedTensor t{std::move(name), ckpt_dtype_of<T>(), std::move(shape), std::vector<uint8_t>(values.size_bytes())};
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), values.size_bytes());
    return t;
  }
  // Copies the elements into `out`, which must hold exactly numel() values of the tensor's type.
  template <typename T>
  Status copy_to(std::span<T> out) const {
    ANE_RETURN_IF_ERROR(check_view(ckpt_dtype_of<T>(), out.size()));
    if (!out.empty()) std::memcpy(out.data(), bytes().data(), out.size_bytes());
    if (file) file->release(mapped);
    return {};
  }
  // The elements as a vector of T (T must match the dtype).
  template <typename T>
  Expected<std::vector<T>> values() const {
    std::vector<T> out(bytes().size() / sizeof(T));
    ANE_RETURN_IF_ERROR(copy_to(std::span<T>(out)));
    return out;
  }

  // Same name, dtype, shape and bytes (wherever they lie).
  bool operator==(const NamedTensor& o) const;

 private:
  Status check_view(CkptDType want, size_t count) const;
};

// A tensor to save without copying it: the same fields as NamedTensor, data viewed.
struct TensorView {
  std::string name;
  CkptDType dtype = CkptDType::kF32;
  std::vector<uint64_t> shape;
  std::span<const uint8_t> data;

  template <typename T>
  static TensorView of(std::string name, std::vector<uint64_t> shape, std::span<const T> values) {
    return {std::move(name), ckpt_dtype_of<T>(), std::move(shape),
            {reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()}};
  }
};

// Writes a checkpoint of `meta` and `tensors` straight from the caller's memory to `path`
// (atomically), holding no copy of the data: for models whose state is gigabytes. The file
// is byte for byte what Checkpoint{meta, tensors}.save() writes.
Status save_checkpoint(const std::string& path, const nlohmann::json& meta, std::span<const TensorView> tensors);

// A checkpoint in memory. By convention meta["model"] holds the ModelConfig and
// meta["step"] the optimizer step; every other key belongs to whoever writes it.
struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();  // must stay a JSON object
  std::vector<NamedTensor> tensors;                // saved in this order

  // The tensor with this name, or nullptr.
  const NamedTensor* find(std::string_view name) const;
  NamedTensor* find(std::string_view name);

  // meta[key] = value; fails (instead of throwing) when meta is not an object.
  Status set_meta(const std::string& key, nlohmann::json value);
  Status set_model_config(const ModelConfig& config);  // meta["model"], validated first
  Expected<ModelConfig> model_config() const;          // from meta["model"], validated
  Status set_step(int64_t step);                       // meta["step"]
  Expected<int64_t> step() const;

  // File bytes; fails on a non-object meta, a duplicate or empty name, an unknown dtype, or
  // data whose size does not match dtype and shape.
  Expected<std::vector<uint8_t>> serialize() const;
  // Reads and fully validates file bytes; `source` names them in errors.
  static Expected<Checkpoint> parse(std::span<const uint8_t> bytes, const std::string& source);
  // parse() of a mapped file whose tensors keep their bytes in it (NamedTensor::file): every
  // byte is checked as parse() does, a tensor's pages handed back once checked, so the file
  // never counts towards resident memory whole.
  static Expected<Checkpoint> map(std::shared_ptr<const MappedFile> file);

  Status save(const std::string& path) const;  // atomic: temp file, fsync, rename
  static Expected<Checkpoint> load(const std::string& path);
};

}  // namespace ane
