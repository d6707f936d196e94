#include "formats/llama2_model.h"

#include <cmath>
#include <optional>
#include <type_traits>

#include "core/byte_reader.h"
#include "core/file.h"
#include "formats/binary_io.h"

namespace ane {
namespace {

constexpr uint64_t kV1ParamsOffset = 8;
constexpr uint64_t kV1SharedOffset = 36;
constexpr uint64_t kV2GroupSizeOffset = 37;
constexpr const char* kFieldNames[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                                        "seq_len"};

// How an array is stored.
enum class Enc {
  kF32,       // fp32 values
  kQ8,        // per tensor: int8 values, then one fp32 scale per group
  kRopeCos,   // v0's RoPE tables: fp32, skipped on read, generated on write
  kRopeSin,
};

// One array of the file, in file order. Vec is std::vector<float> or its const version.
template <typename Vec>
struct Section {
  const char* name;
  const char* shape;
  Vec* data;          // nullptr for the RoPE tables
  uint64_t count;     // fp32 values in total
  uint64_t tensors;   // separately quantized tensors (kQ8): count / tensors values each
  Enc enc;
};

// Element counts of every array, computed without overflow.
struct Counts {
  uint64_t emb = 0, rms = 0, wq = 0, wkv = 0, ffn = 0, rope = 0;
};

std::optional<Counts> count_elements(const Llama2Header& h) {
  const auto D = static_cast<uint64_t>(h.dim), H = static_cast<uint64_t>(h.hidden_dim),
             L = static_cast<uint64_t>(h.n_layers), V = static_cast<uint64_t>(h.vocab_size),
             KV = static_cast<uint64_t>(h.kv_dim()), S = static_cast<uint64_t>(h.seq_len),
             half = static_cast<uint64_t>(h.head_size() / 2);
  Counts c;
  uint64_t t = 0;
  const bool ok = checked_mul(V, D, &c.emb) && checked_mul(L, D, &c.rms) && checked_mul(c.rms, D, &c.wq) &&
                  checked_mul(L, KV, &t) && checked_mul(t, D, &c.wkv) && checked_mul(L, H, &t) &&
                  checked_mul(t, D, &c.ffn) && checked_mul(S, half, &c.rope);
  if (!ok) return std::nullopt;
  return c;
}

// The arrays of `m` in the order `format` stores them. M is Llama2Model or const Llama2Model.
template <typename M>
auto file_sections(M& m, const Counts& c, Llama2Format format) {
  using Vec = std::remove_pointer_t<decltype(&m.wq)>;  // const when M is
  using S = Section<Vec>;
  const auto L = static_cast<uint64_t>(m.header.n_layers);
  const auto D = static_cast<uint64_t>(m.header.dim);
  const Enc w = format == Llama2Format::kV2 ? Enc::kQ8 : Enc::kF32;
  const S emb{"token_embedding", "[V, D]", &m.token_embedding, c.emb, 1, w};
  const S rms_att{"rms_att", "[L, D]", &m.rms_att, c.rms, 1, Enc::kF32};
  const S rms_ffn{"rms_ffn", "[L, D]", &m.rms_ffn, c.rms, 1, Enc::kF32};
  const S rms_final{"rms_final", "[D]", &m.rms_final, D, 1, Enc::kF32};
  const S wq{"wq", "[L, D, D]", &m.wq, c.wq, L, w};
  const S wk{"wk", "[L, KV, D]", &m.wk, c.wkv, L, w};
  const S wv{"wv", "[L, KV, D]", &m.wv, c.wkv, L, w};
  const S wo{"wo", "[L, D, D]", &m.wo, c.wq, L, w};
  const S w1{"w1", "[L, H, D]", &m.w1, c.ffn, L, w};
  const S w2{"w2", "[L, D, H]", &m.w2, c.ffn, L, w};
  const S w3{"w3", "[L, H, D]", &m.w3, c.ffn, L, w};
  const S wcls{"wcls", "[V, D]", &m.wcls, c.emb, 1, w};
  std::vector<S> out;
  if (format == Llama2Format::kV0) {
    const S cos{"rope_cos", "[seq_len, head_size / 2]", nullptr, c.rope, 1, Enc::kRopeCos};
    const S sin{"rope_sin", "[seq_len, head_size / 2]", nullptr, c.rope, 1, Enc::kRopeSin};
    out = {emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, cos, sin};
  } else {
    out = {rms_att, rms_ffn, rms_final, emb, wq, wk, wv, wo, w1, w2, w3};
  }
  if (!m.header.shared_classifier) out.push_back(wcls);
  return out;
}

// Bytes a section occupies; false on overflow.
template <typename Vec>
bool section_bytes(const Section<Vec>& s, int32_t group_size, uint64_t* out) {
  if (s.enc != Enc::kQ8) return checked_mul(s.count, 4, out);
  uint64_t scales = 0;
  return checked_mul(s.count / static_cast<uint64_t>(group_size), 4, &scales) && checked_add(s.count, scales, out);
}

// The first rule of the header that fails, with the index of the field to blame (0..6).
struct HeaderProblem {
  int field;
  std::string message;
};

std::optional<HeaderProblem> check_header(const Llama2Header& h) {
  const int32_t fields[7] = {h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len};
  for (int i = 0; i < 7; ++i) {
    if (fields[i] <= 0) {
      return HeaderProblem{i, std::string(kFieldNames[i]) + " must be positive, got " + std::to_string(fields[i])};
    }
  }
  if (h.dim % h.n_heads != 0) {
    return HeaderProblem{3, "n_heads (" + std::to_string(h.n_heads) + ") does not divide dim (" +
                                std::to_string(h.dim) + ")"};
  }
  if (h.head_size() % 2 != 0) {
    return HeaderProblem{3, "head_size dim / n_heads = " + std::to_string(h.head_size()) +
                                " is odd; RoPE rotates pairs"};
  }
  if (h.n_kv_heads > h.n_heads || h.n_heads % h.n_kv_heads != 0) {
    return HeaderProblem{4, "n_kv_heads (" + std::to_string(h.n_kv_heads) + ") must divide n_heads (" +
                                std::to_string(h.n_heads) + ")"};
  }
  return std::nullopt;
}

std::string describe(const Llama2Header& h) {
  return "dim " + std::to_string(h.dim) + ", hidden_dim " + std::to_string(h.hidden_dim) + ", n_layers " +
         std::to_string(h.n_layers) + ", n_heads " + std::to_string(h.n_heads) + ", n_kv_heads " +
         std::to_string(h.n_kv_heads) + ", vocab_size " + std::to_string(h.vocab_size) + ", seq_len " +
         std::to_string(h.seq_len);
}

// Reads the 7 i32 parameters at the reader's offset.
Expected<Llama2Header> read_params(ByteReader& r) {
  Llama2Header h;
  int32_t* fields[7] = {&h.dim, &h.hidden_dim, &h.n_layers, &h.n_heads, &h.n_kv_heads, &h.vocab_size, &h.seq_len};
  for (int i = 0; i < 7; ++i) {
    ANE_ASSIGN_OR_RETURN(*fields[i], r.read<int32_t>(kFieldNames[i]));
  }
  return h;
}

// Reads the format-specific header; leaves r at the first array.
Expected<Llama2FileInfo> read_header_fields(ByteReader& r, uint64_t* params_offset) {
  Llama2FileInfo info;
  const auto bytes = r.all();
  uint32_t magic = 0;
  if (bytes.size() >= 4) std::memcpy(&magic, bytes.data(), 4);
  if (magic != kLlama2Magic) {
    *params_offset = 0;
    ANE_ASSIGN_OR_RETURN(info.header, read_params(r));
    // v0 encodes an unshared classifier as a negative vocab_size.
    if (info.header.vocab_size < 0) {
      if (info.header.vocab_size == INT32_MIN) return r.error_at(20, "vocab_size " + std::to_string(INT32_MIN) + " is out of range");
      info.header.vocab_size = -info.header.vocab_size;
      info.header.shared_classifier = false;
    }
    return info;
  }
  ANE_RETURN_IF_ERROR(r.skip(4, "magic"));
  ANE_ASSIGN_OR_RETURN(int32_t version, r.read<int32_t>("version"));
  if (version != 1 && version != 2) {
    return r.error_at(4, "unsupported llama2.c model version " + std::to_string(version) + " (expected 1 or 2)");
  }
  info.format = version == 1 ? Llama2Format::kV1 : Llama2Format::kV2;
  ANE_RETURN_IF_ERROR(r.seek(0, "header"));
  ANE_RETURN_IF_ERROR(r.take(kLlama2V1HeaderSize, "256-byte header").status());
  ANE_RETURN_IF_ERROR(r.seek(kV1ParamsOffset, "header parameters"));
  *params_offset = kV1ParamsOffset;
  ANE_ASSIGN_OR_RETURN(info.header, read_params(r));
  const uint8_t shared = bytes[kV1SharedOffset];
  if (shared > 1) return r.error_at(kV1SharedOffset, "shared_classifier flag is " + std::to_string(shared) + ", not 0 or 1");
  info.header.shared_classifier = shared == 1;
  if (info.format == Llama2Format::kV2) {
    std::memcpy(&info.group_size, bytes.data() + kV2GroupSizeOffset, 4);
    if (info.group_size <= 0) {
      return r.error_at(kV2GroupSizeOffset, "group_size must be positive, got " + std::to_string(info.group_size));
    }
  }
  ANE_RETURN_IF_ERROR(r.seek(kLlama2V1HeaderSize, "model data"));
  return info;
}

}  // namespace

const char* llama2_format_name(Llama2Format format) {
  switch (format) {
    case Llama2Format::kV0: return "v0 (legacy)";
    case Llama2Format::kV1: return "v1 (ak42 fp32)";
    case Llama2Format::kV2: return "v2 (ak42 int8 Q8_0)";
  }
  return "unknown";
}

Status validate_llama2_header(const Llama2Header& header) {
  if (auto p = check_header(header)) return invalid_argument("llama2 header: " + p->message);
  if (!count_elements(header)) return invalid_argument("llama2 header: sizes overflow (" + describe(header) + ")");
  return {};
}

Status validate_llama2_model(const Llama2Model& model) {
  ANE_RETURN_IF_ERROR(validate_llama2_header(model.header));
  const Counts c = *count_elements(model.header);
  for (const auto& s : file_sections(model, c, Llama2Format::kV1)) {
    if (s.data->size() != s.count) {
      return invalid_argument("llama2 model: " + std::string(s.name) + " has " + std::to_string(s.data->size()) +
                              " values, the header implies " + std::to_string(s.count) + " " + s.shape);
    }
  }
  if (model.header.shared_classifier && !model.wcls.empty()) {
    return invalid_argument("llama2 model: wcls must be empty when the classifier is shared");
  }
  return {};
}

Expected<Llama2FileInfo> parse_llama2_header(std::span<const uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  uint64_t params_offset = 0;
  ANE_ASSIGN_OR_RETURN(Llama2FileInfo info, read_header_fields(r, &params_offset));
  const Llama2Header& h = info.header;
  if (auto p = check_header(h)) return r.error_at(params_offset + 4 * static_cast<uint64_t>(p->field), p->message);
  const auto counts = count_elements(h);
  const std::string too_big = "the header implies a model of more than 2^64 bytes (" + describe(h) + ")";
  if (!counts) return r.error_at(params_offset, too_big);

  Llama2Model shape_only;  // no buffers: only the header is needed to list the sections
  shape_only.header = h;
  const auto sections = file_sections(shape_only, *counts, info.format);
  uint64_t total = r.offset();
  for (const auto& s : sections) {
    if (s.enc == Enc::kQ8 && (s.count / s.tensors) % static_cast<uint64_t>(info.group_size) != 0) {
      return r.error_at(kV2GroupSizeOffset, "group_size " + std::to_string(info.group_size) + " does not divide " +
                                                s.name + "'s " + std::to_string(s.count / s.tensors) +
                                                " values per tensor");
    }
    uint64_t n = 0;
    if (!section_bytes(s, info.group_size, &n) || !checked_add(total, n, &total)) {
      return r.error_at(params_offset, too_big);
    }
  }
  info.file_size = bytes.size();
  if (total == bytes.size()) return info;

  const std::string sizes = "file is " + std::to_string(bytes.size()) + " bytes, the header implies " +
                            std::to_string(total) + " (" + describe(h) + ")";
  if (total < bytes.size()) return r.error_at(total, "unexpected trailing data: " + sizes);
  uint64_t at = r.offset();
  for (const auto& s : sections) {
    uint64_t n = 0;
    section_bytes(s, info.group_size, &n);
    if (at + n > bytes.size()) {
      return r.error_at(at, "truncated: " + std::string(s.name) + " " + s.shape + " needs " + std::to_string(n) +
                                " bytes from offset " + std::to_string(at) + "; " + sizes);
    }
    at += n;
  }
  return r.error_at(at, "truncated: " + sizes);  // unreachable: some section must have run out
}

Expected<Llama2Model> parse_llama2_model(std::span<const uint8_t> bytes, const std::string& source) {
  ANE_ASSIGN_OR_RETURN(Llama2FileInfo info, parse_llama2_header(bytes, source));
  ByteReader r(bytes, source);
  ANE_RETURN_IF_ERROR(r.seek(info.format == Llama2Format::kV0 ? kLlama2V0HeaderSize : kLlama2V1HeaderSize, "model data"));
  Llama2Model m;
  m.header = info.header;
  const auto gs = static_cast<uint64_t>(info.group_size);
  for (const auto& s : file_sections(m, *count_elements(m.header), info.format)) {
    if (s.enc == Enc::kRopeCos || s.enc == Enc::kRopeSin) {
      ANE_RETURN_IF_ERROR(r.skip(s.count * 4, s.name));
    } else if (s.enc == Enc::kF32) {
      ANE_ASSIGN_OR_RETURN(*s.data, read_array<float>(r, s.count, s.name));
    } else {  // Q8_0: per tensor, int8 values then scales; dequantize.
      s.data->resize(static_cast<size_t>(s.count));
      const uint64_t per_tensor = s.count / s.tensors;
      float* out = s.data->data();
      for (uint64_t t = 0; t < s.tensors; ++t) {
        ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> q, r.take(per_tensor, s.name));
        ANE_ASSIGN_OR_RETURN(std::vector<float> scales, read_array<float>(r, per_tensor / gs, s.name));
        for (uint64_t i = 0; i < per_tensor; ++i) {
          *out++ = static_cast<float>(static_cast<int8_t>(q[i])) * scales[i / gs];
        }
      }
    }
  }
  return m;
}

Expected<Llama2Model> read_llama2_model(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path));
  return parse_llama2_model(f.bytes(), path);
}

Expected<std::vector<uint8_t>> serialize_llama2_model(const Llama2Model& model, Llama2Format format) {
  if (format == Llama2Format::kV2) {
    return Error(ErrorCode::kUnsupported, "writing llama2.c v2 (int8) model files is not supported");
  }
  ANE_RETURN_IF_ERROR(validate_llama2_model(model));
  const Llama2Header& h = model.header;
  ByteWriter out;
  if (format == Llama2Format::kV1) {
    out.put<uint32_t>(kLlama2Magic);
    out.put<int32_t>(1);
  }
  const int32_t v0_vocab = h.shared_classifier ? h.vocab_size : -h.vocab_size;
  for (int32_t v : {h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads,
                    format == Llama2Format::kV0 ? v0_vocab : h.vocab_size, h.seq_len}) {
    out.put<int32_t>(v);
  }
  if (format == Llama2Format::kV1) {
    out.put<uint8_t>(h.shared_classifier ? 1 : 0);
    out.pad_to(kLlama2V1HeaderSize);
  }
  const int half = h.head_size() / 2;
  std::vector<float> rope;  // made for v0's tables alone: v1 has none, whatever seq_len says
  for (const auto& s : file_sections(model, *count_elements(h), format)) {
    if (s.enc == Enc::kF32) {
      out.put_array<float>(*s.data);
      continue;
    }
    rope.resize(static_cast<size_t>(h.seq_len) * static_cast<size_t>(half));
    // RoPE table [seq_len, head_size / 2]: angle pos * 10000^(-2i / head_size), as llama2.c exports it.
    for (int pos = 0; pos < h.seq_len; ++pos) {
      for (int i = 0; i < half; ++i) {
        const float freq = 1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / static_cast<float>(h.head_size()));
        const float angle = static_cast<float>(pos) * freq;
        rope[static_cast<size_t>(pos) * static_cast<size_t>(half) + static_cast<size_t>(i)] =
            s.enc == Enc::kRopeCos ? std::cos(angle) : std::sin(angle);
      }
    }
    out.put_array<float>(rope);
  }
  return std::move(out).take();
}

Status write_llama2_model(const std::string& path, const Llama2Model& model, Llama2Format format) {
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize_llama2_model(model, format));
  return write_file_atomic(path, bytes);
}

}  // namespace ane
