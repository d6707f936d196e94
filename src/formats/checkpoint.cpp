#include "formats/checkpoint.h"

#include <cstdio>
#include <limits>
#include <unordered_set>

#include "core/byte_reader.h"
#include "core/file.h"
#include "formats/binary_io.h"
#include "formats/crc32.h"
#include "formats/json_util.h"

namespace ane {
namespace {

using nlohmann::json;

constexpr char kMagic[8] = {'O', 'A', 'N', 'E', 'C', 'K', 'P', 'T'};
constexpr uint64_t kHeaderSize = 64;
constexpr uint64_t kDataAlign = 64;
constexpr uint32_t kMaxNameLen = 65535;
constexpr uint32_t kMaxRank = 8;

// The fixed header, field for field (offsets in the comment of checkpoint.h).
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_crc;
  uint64_t meta_size;
  uint64_t table_size;
  uint64_t file_size;
  uint32_t meta_crc;
  uint32_t table_crc;
  uint32_t tensor_count;
  uint32_t reserved0;
  uint64_t reserved1;
};
static_assert(sizeof(FileHeader) == kHeaderSize && offsetof(FileHeader, meta_size) == 16 &&
              offsetof(FileHeader, meta_crc) == 40 && offsetof(FileHeader, reserved1) == 56);

// One record of the tensor table as read back.
struct TableEntry {
  NamedTensor tensor;  // name, dtype, shape; data filled in last
  uint64_t offset = 0, size = 0;
  uint32_t crc = 0;
  uint64_t record_offset = 0;  // where the record starts, for errors
};

uint64_t align_up(uint64_t v) { return (v + kDataAlign - 1) / kDataAlign * kDataAlign; }

std::string range(uint64_t begin, uint64_t end) {
  return "bytes " + std::to_string(begin) + ".." + std::to_string(end);
}

// CRC of the header with its own crc field taken as zero.
uint32_t header_crc(std::span<const uint8_t> header) {
  static constexpr uint8_t kZero[4] = {};
  uint32_t c = crc32(header.first(offsetof(FileHeader, header_crc)));
  c = crc32(kZero, c);
  return crc32(header.subspan(offsetof(FileHeader, meta_size)), c);
}

// Size in bytes that dtype and shape imply; false on an unknown dtype or overflow.
bool implied_size(CkptDType dtype, const std::vector<uint64_t>& shape, uint64_t* out) {
  uint64_t n = ckpt_dtype_size(dtype);
  if (n == 0) return false;
  for (uint64_t d : shape) {
    if (!checked_mul(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

// The checks serialize() makes on each tensor.
Status check_tensor_for_save(const TensorView& t, std::unordered_set<std::string_view>& names) {
  auto fail = [&](const std::string& msg) { return invalid_argument("checkpoint tensor '" + t.name + "': " + msg); };
  if (t.name.empty()) return invalid_argument("checkpoint tensor with an empty name");
  if (t.name.size() > kMaxNameLen) return fail("name longer than " + std::to_string(kMaxNameLen) + " bytes");
  if (!names.insert(t.name).second) return fail("duplicate name");
  if (ckpt_dtype_size(t.dtype) == 0) return fail("unknown dtype " + std::to_string(static_cast<uint32_t>(t.dtype)));
  if (t.shape.size() > kMaxRank) return fail("rank " + std::to_string(t.shape.size()) + " > " + std::to_string(kMaxRank));
  uint64_t want = 0;
  if (!implied_size(t.dtype, t.shape, &want)) return fail("shape overflows");
  if (want != t.data.size()) {
    return fail("shape and dtype imply " + std::to_string(want) + " bytes, data has " + std::to_string(t.data.size()));
  }
  return {};
}

// Reads the file's pieces in order, each check naming its section and byte offset.
class Parser {
 public:
  // With `file` (whose bytes these are), tensors keep their bytes in it instead of copies.
  Parser(std::span<const uint8_t> bytes, const std::string& source, std::shared_ptr<const MappedFile> file = nullptr)
      : bytes_(bytes), source_(source), file_(std::move(file)) {}

  Expected<Checkpoint> run() {
    ANE_RETURN_IF_ERROR(read_header());
    ANE_RETURN_IF_ERROR(check_sizes());
    ANE_RETURN_IF_ERROR(check_crc("metadata", meta_begin(), table_begin(), h_.meta_crc));
    ANE_RETURN_IF_ERROR(check_crc("tensor table", table_begin(), table_end(), h_.table_crc));
    Checkpoint c;
    ANE_ASSIGN_OR_RETURN(c.meta, read_meta());
    ANE_ASSIGN_OR_RETURN(std::vector<TableEntry> entries, read_table());
    ANE_RETURN_IF_ERROR(check_data(entries));
    for (TableEntry& e : entries) {
      auto data = bytes_.subspan(e.offset, e.size);
      if (file_) {
        e.tensor.file = file_;
        e.tensor.mapped = data;
      } else {
        e.tensor.data.assign(data.begin(), data.end());
      }
      c.tensors.push_back(std::move(e.tensor));
    }
    return c;
  }

 private:
  Error error(const std::string& section, uint64_t at, const std::string& msg) const {
    return parse_error("checkpoint " + section + ": " + msg, Location::bytes(source_, static_cast<int64_t>(at)));
  }
  uint64_t meta_begin() const { return kHeaderSize; }
  uint64_t table_begin() const { return kHeaderSize + h_.meta_size; }
  uint64_t table_end() const { return table_begin() + h_.table_size; }

  Status read_header() {
    ByteReader r(bytes_, source_);
    ANE_ASSIGN_OR_RETURN(h_, r.read<FileHeader>("checkpoint header"));
    if (std::memcmp(h_.magic, kMagic, sizeof kMagic) != 0) {
      return error("header", 0, "bad magic: not an OANECKPT file");
    }
    if (h_.version != kCheckpointVersion) {
      return error("header", offsetof(FileHeader, version),
                   "unsupported version " + std::to_string(h_.version) + " (this build reads " +
                       std::to_string(kCheckpointVersion) + ")");
    }
    const uint32_t crc = header_crc(bytes_.first(kHeaderSize));
    if (crc != h_.header_crc) {
      return error("header", offsetof(FileHeader, header_crc),
                   "checksum mismatch over " + range(0, kHeaderSize) + ": stored " + hex32(h_.header_crc) +
                       ", computed " + hex32(crc));
    }
    if (h_.reserved0 != 0 || h_.reserved1 != 0) {
      return error("header", offsetof(FileHeader, reserved0), "reserved fields are not zero");
    }
    return {};
  }

  // The sections fit in the file, and the file is as long as the header says.
  Status check_sizes() {
    uint64_t end = 0;
    if (__builtin_add_overflow(kHeaderSize, h_.meta_size, &end) ||
        __builtin_add_overflow(end, h_.table_size, &end) || end > h_.file_size) {
      return error("header", offsetof(FileHeader, meta_size),
                   "metadata (" + std::to_string(h_.meta_size) + " bytes) and tensor table (" +
                       std::to_string(h_.table_size) + " bytes) do not fit in the file size it states (" +
                       std::to_string(h_.file_size) + ")");
    }
    const uint64_t n = bytes_.size();
    if (n != h_.file_size) {
      if (n > h_.file_size) {
        return error("end of file", h_.file_size,
                     std::to_string(n - h_.file_size) + " unexpected bytes after the end the header states");
      }
      const char* where = n < table_begin() ? "metadata" : n < table_end() ? "tensor table" : "tensor data";
      return error(where, n, "truncated: the file ends at byte " + std::to_string(n) + " but the header says it is " +
                                 std::to_string(h_.file_size) + " bytes");
    }
    return {};
  }

  Status check_crc(const char* section, uint64_t begin, uint64_t end, uint32_t stored) const {
    const uint32_t crc = crc32(bytes_.subspan(begin, end - begin));
    if (crc != stored) {
      return error(section, begin,
                   "checksum mismatch over " + range(begin, end) + ": stored " + hex32(stored) + ", computed " +
                       hex32(crc));
    }
    return {};
  }

  Expected<json> read_meta() const {
    const std::string_view text(reinterpret_cast<const char*>(bytes_.data() + meta_begin()), h_.meta_size);
    ANE_ASSIGN_OR_RETURN(json meta, parse_json_text(text, source_, meta_begin(), "checkpoint metadata"));
    if (!meta.is_object()) return error("metadata", meta_begin(), "must be a JSON object, not " + std::string(meta.type_name()));
    return meta;
  }

  Expected<std::vector<TableEntry>> read_table() const {
    // The reader sees the file only up to the table's end, with offsets still absolute.
    ByteReader r(bytes_.first(table_end()), source_);
    ANE_RETURN_IF_ERROR(r.seek(table_begin(), "tensor table"));
    std::vector<TableEntry> entries;
    std::unordered_set<std::string> names;
    uint64_t next_data = table_end();  // where the next tensor's data may start (before aligning)
    for (uint32_t i = 0; i < h_.tensor_count; ++i) {
      TableEntry e;
      e.record_offset = r.offset();
      ANE_ASSIGN_OR_RETURN(uint32_t name_len, r.read<uint32_t>("tensor name length"));
      if (name_len == 0 || name_len > kMaxNameLen) {
        return error("tensor table", e.record_offset, "tensor " + std::to_string(i) + " has a name of " + std::to_string(name_len) + " bytes");
      }
      ANE_ASSIGN_OR_RETURN(auto name, r.take(name_len, "tensor name"));
      e.tensor.name.assign(name.begin(), name.end());
      if (!names.insert(e.tensor.name).second) {
        return error("tensor table", e.record_offset, "duplicate tensor name '" + e.tensor.name + "'");
      }
      const uint64_t dtype_at = r.offset();
      ANE_ASSIGN_OR_RETURN(uint32_t dtype, r.read<uint32_t>("tensor dtype"));
      e.tensor.dtype = static_cast<CkptDType>(dtype);
      if (ckpt_dtype_size(e.tensor.dtype) == 0) {
        return error("tensor table", dtype_at, "tensor '" + e.tensor.name + "' has unknown dtype " + std::to_string(dtype));
      }
      const uint64_t rank_at = r.offset();
      ANE_ASSIGN_OR_RETURN(uint32_t rank, r.read<uint32_t>("tensor rank"));
      if (rank > kMaxRank) {
        return error("tensor table", rank_at, "tensor '" + e.tensor.name + "' has rank " + std::to_string(rank));
      }
      for (uint32_t d = 0; d < rank; ++d) {
        ANE_ASSIGN_OR_RETURN(uint64_t dim, r.read<uint64_t>("tensor dimension"));
        e.tensor.shape.push_back(dim);
      }
      const uint64_t offset_at = r.offset();
      ANE_ASSIGN_OR_RETURN(e.offset, r.read<uint64_t>("tensor data offset"));
      ANE_ASSIGN_OR_RETURN(e.size, r.read<uint64_t>("tensor data size"));
      ANE_ASSIGN_OR_RETURN(e.crc, r.read<uint32_t>("tensor data crc"));
      uint64_t want = 0;
      if (!implied_size(e.tensor.dtype, e.tensor.shape, &want) || want != e.size) {
        return error("tensor table", offset_at,
                     "tensor '" + e.tensor.name + "': data size " + std::to_string(e.size) +
                         " does not match its dtype and shape");
      }
      if (e.offset != align_up(next_data) || e.offset > h_.file_size || e.size > h_.file_size - e.offset) {
        return error("tensor table", offset_at,
                     "tensor '" + e.tensor.name + "': data at " + range(e.offset, e.offset + e.size) +
                         " is not at the expected offset " + std::to_string(align_up(next_data)) +
                         " or runs past the end of the file");
      }
      next_data = e.offset + e.size;
      entries.push_back(std::move(e));
    }
    if (r.offset() != table_end()) {
      return error("tensor table", r.offset(),
                   std::to_string(table_end() - r.offset()) + " bytes left over after " +
                       std::to_string(h_.tensor_count) + " records");
    }
    if (next_data != h_.file_size) {
      return error("tensor table", table_begin(),
                   "the last tensor ends at byte " + std::to_string(next_data) + ", the file at " +
                       std::to_string(h_.file_size));
    }
    return entries;
  }

  // Zero padding between sections, then each tensor's checksum.
  Status check_data(const std::vector<TableEntry>& entries) const {
    uint64_t at = table_end();
    for (const TableEntry& e : entries) {
      for (; at < e.offset; ++at) {
        if (bytes_[at] != 0) {
          return error("padding", at, "nonzero byte " + hex32(bytes_[at]) + " before tensor '" + e.tensor.name + "'");
        }
      }
      ANE_RETURN_IF_ERROR(check_crc(("tensor '" + e.tensor.name + "'").c_str(), e.offset, e.offset + e.size, e.crc));
      if (file_) file_->release(bytes_.subspan(e.offset, e.size));
      at = e.offset + e.size;
    }
    return {};
  }

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  std::shared_ptr<const MappedFile> file_;
  FileHeader h_{};
};

}  // namespace

size_t ckpt_dtype_size(CkptDType t) {
  switch (t) {
    case CkptDType::kI8: case CkptDType::kU8: return 1;
    case CkptDType::kF16: case CkptDType::kBF16: case CkptDType::kI16: case CkptDType::kU16: return 2;
    case CkptDType::kF32: case CkptDType::kI32: case CkptDType::kU32: return 4;
    case CkptDType::kF64: case CkptDType::kI64: case CkptDType::kU64: return 8;
  }
  return 0;
}

const char* ckpt_dtype_name(CkptDType t) {
  switch (t) {
    case CkptDType::kF32: return "f32";
    case CkptDType::kF16: return "f16";
    case CkptDType::kBF16: return "bf16";
    case CkptDType::kF64: return "f64";
    case CkptDType::kI8: return "i8";
    case CkptDType::kU8: return "u8";
    case CkptDType::kI16: return "i16";
    case CkptDType::kU16: return "u16";
    case CkptDType::kI32: return "i32";
    case CkptDType::kU32: return "u32";
    case CkptDType::kI64: return "i64";
    case CkptDType::kU64: return "u64";
  }
  return "?";
}

uint64_t NamedTensor::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (!checked_mul(n, d, &n)) return std::numeric_limits<uint64_t>::max();
  }
  return n;
}

bool NamedTensor::operator==(const NamedTensor& o) const {
  const std::span<const uint8_t> a = bytes(), b = o.bytes();
  return name == o.name && dtype == o.dtype && shape == o.shape && std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Status NamedTensor::check_view(CkptDType want, size_t count) const {
  if (dtype != want) {
    return invalid_argument("tensor '" + name + "' is " + ckpt_dtype_name(dtype) + ", not " + ckpt_dtype_name(want));
  }
  if (count != numel() || bytes().size() != count * ckpt_dtype_size(dtype)) {
    return invalid_argument("tensor '" + name + "' has " + std::to_string(numel()) + " elements (" +
                            std::to_string(bytes().size()) + " bytes); the destination holds " + std::to_string(count));
  }
  return {};
}

const NamedTensor* Checkpoint::find(std::string_view name) const {
  for (const NamedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

NamedTensor* Checkpoint::find(std::string_view name) {
  return const_cast<NamedTensor*>(static_cast<const Checkpoint*>(this)->find(name));
}

Status Checkpoint::set_meta(const std::string& key, nlohmann::json value) {
  if (!meta.is_object()) return invalid_argument("checkpoint metadata must be a JSON object, not " + std::string(meta.type_name()));
  meta[key] = std::move(value);
  return {};
}

Status Checkpoint::set_model_config(const ModelConfig& config) {
  ANE_RETURN_IF_ERROR(config.validate());
  return set_meta("model", config.to_json());
}

Status Checkpoint::set_step(int64_t step) { return set_meta("step", step); }

Expected<ModelConfig> Checkpoint::model_config() const {
  if (!meta.is_object() || !meta.contains("model")) return invalid_argument("checkpoint metadata has no 'model' entry");
  return ModelConfig::from_json(meta["model"], "checkpoint metadata 'model'");
}

Expected<int64_t> Checkpoint::step() const {
  if (!meta.is_object() || !meta.contains("step") || !meta["step"].is_number_integer()) {
    return invalid_argument("checkpoint metadata has no integer 'step' entry");
  }
  return meta["step"].get<int64_t>();
}

namespace {

// Everything before the first tensor's data (header, metadata, table), and the file size.
struct FilePrefix {
  std::vector<uint8_t> bytes;
  uint64_t file_size = 0;
};

Expected<FilePrefix> file_prefix(const json& meta, std::span<const TensorView> tensors) {
  if (!meta.is_object()) return invalid_argument("checkpoint metadata must be a JSON object, not " + std::string(meta.type_name()));
  std::string meta_text;
  try {
    meta_text = meta.dump();
  } catch (const json::exception& e) {  // e.g. a string that is not valid UTF-8
    return invalid_argument(std::string("checkpoint metadata cannot be written as JSON: ") + e.what());
  }
  if (tensors.size() > std::numeric_limits<uint32_t>::max()) return invalid_argument("too many checkpoint tensors");

  std::unordered_set<std::string_view> names;
  for (const TensorView& t : tensors) ANE_RETURN_IF_ERROR(check_tensor_for_save(t, names));

  // The table first (its size fixes where the data starts), then everything in order.
  ByteWriter tw;
  uint64_t table_size = 0;
  for (const TensorView& t : tensors) table_size += 4 + t.name.size() + 4 + 4 + 8 * t.shape.size() + 8 + 8 + 4;
  uint64_t next = kHeaderSize + meta_text.size() + table_size;
  for (const TensorView& t : tensors) {
    tw.put(static_cast<uint32_t>(t.name.size()));
    tw.put_bytes({reinterpret_cast<const uint8_t*>(t.name.data()), t.name.size()});
    tw.put(static_cast<uint32_t>(t.dtype));
    tw.put(static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) tw.put(d);
    next = align_up(next);
    tw.put(next);
    tw.put(static_cast<uint64_t>(t.data.size()));
    tw.put(crc32(t.data));
    next += t.data.size();
  }

  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kCheckpointVersion;
  h.meta_size = meta_text.size();
  h.table_size = tw.size();
  h.file_size = next;
  h.meta_crc = crc32({reinterpret_cast<const uint8_t*>(meta_text.data()), meta_text.size()});
  h.table_crc = crc32(tw.view());
  h.tensor_count = static_cast<uint32_t>(tensors.size());

  ByteWriter w;
  w.put(h);
  w.put_bytes({reinterpret_cast<const uint8_t*>(meta_text.data()), meta_text.size()});
  w.put_bytes(tw.view());
  w.patch(offsetof(FileHeader, header_crc), header_crc({w.view().data(), kHeaderSize}));
  return FilePrefix{std::move(w).take(), next};
}

std::vector<TensorView> views_of(const std::vector<NamedTensor>& tensors) {
  std::vector<TensorView> views;
  views.reserve(tensors.size());
  for (const NamedTensor& t : tensors) views.push_back({t.name, t.dtype, t.shape, t.bytes()});
  return views;
}

}  // namespace

Expected<std::vector<uint8_t>> Checkpoint::serialize() const {
  const std::vector<TensorView> views = views_of(tensors);
  ANE_ASSIGN_OR_RETURN(FilePrefix prefix, file_prefix(meta, views));
  ByteWriter w(prefix.file_size);
  w.put_bytes(prefix.bytes);
  for (const TensorView& t : views) {
    w.pad_to(align_up(w.size()));
    w.put_bytes(t.data);
  }
  return std::move(w).take();
}

Status save_checkpoint(const std::string& path, const json& meta, std::span<const TensorView> tensors) {
  ANE_ASSIGN_OR_RETURN(FilePrefix prefix, file_prefix(meta, tensors));
  ANE_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(path));
  ANE_RETURN_IF_ERROR(out.write(prefix.bytes));
  uint64_t at = prefix.bytes.size();
  for (const TensorView& t : tensors) {
    ANE_RETURN_IF_ERROR(out.write_zeros(static_cast<size_t>(align_up(at) - at)));
    ANE_RETURN_IF_ERROR(out.write(t.data));
    at = align_up(at) + t.data.size();
  }
  return out.commit();
}

Expected<Checkpoint> Checkpoint::parse(std::span<const uint8_t> bytes, const std::string& source) {
  return Parser(bytes, source).run();
}

Status Checkpoint::save(const std::string& path) const {
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize());
  return write_file_atomic(path, bytes);
}

Expected<Checkpoint> Checkpoint::map(std::shared_ptr<const MappedFile> file) {
  return Parser(file->bytes(), file->path(), file).run();
}

Expected<Checkpoint> Checkpoint::load(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return parse(file.bytes(), path);
}

}  // namespace ane
