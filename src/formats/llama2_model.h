// llama2.c model files: v0 (legacy, headerless magic), v1 ("ak42", fp32) and v2 ("ak42",
// int8 Q8_0, dequantized on read). Reading detects the version by the magic; writing
// produces v0 or v1. All matrices are [out, in] row-major, fp32 in memory.
//
// v0: 7 x i32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a
//     negative vocab_size means an unshared classifier), then token_embedding, rms_att, wq,
//     wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, two RoPE tables [seq_len, head_size / 2]
//     (skipped), and wcls when unshared.
// v1: 256-byte header (u32 magic 0x616b3432, i32 version 1, the 7 i32 params, u8
//     shared_classifier, zeros), then rms_att, rms_ffn, rms_final, token_embedding, wq, wk,
//     wv, wo, w1, w2, w3, and wcls when unshared.
// v2: the v1 header with version 2 and an i32 group_size at byte 37; fp32 rms_att, rms_ffn,
//     rms_final; then for token_embedding, each layer's wq, ..., each layer's w3, and the
//     unshared classifier: int8 values followed by one fp32 scale per group (x = q * scale).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace ane {

// Model hyper-parameters as stored in every version.
struct Llama2Header {
  int32_t dim = 0;         // D, model width
  int32_t hidden_dim = 0;  // H, FFN width
  int32_t n_layers = 0;    // L
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;  // divides n_heads (GQA when smaller)
  int32_t vocab_size = 0;  // V, positive (v0's sign is decoded into shared_classifier)
  int32_t seq_len = 0;
  bool shared_classifier = true;  // the classifier is token_embedding

  // Derived sizes; meaningful once validate_llama2_header() has passed (n_heads > 0).
  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return dim / n_heads * n_kv_heads; }  // = dim * n_kv_heads / n_heads
};

// A whole model in fp32. Shapes use D = dim, H = hidden_dim, L = n_layers, V = vocab_size,
// KV = kv_dim(); each layer's matrices follow one another.
struct Llama2Model {
  Llama2Header header;
  std::vector<float> token_embedding;  // [V, D]
  std::vector<float> rms_att;          // [L, D]
  std::vector<float> wq;               // [L, D, D]  (n_heads * head_size = D outputs)
  std::vector<float> wk;               // [L, KV, D]
  std::vector<float> wv;               // [L, KV, D]
  std::vector<float> wo;               // [L, D, D]
  std::vector<float> rms_ffn;          // [L, D]
  std::vector<float> w1;               // [L, H, D]
  std::vector<float> w2;               // [L, D, H]
  std::vector<float> w3;               // [L, H, D]
  std::vector<float> rms_final;        // [D]
  std::vector<float> wcls;             // [V, D]; empty when header.shared_classifier
};

enum class Llama2Format { kV0, kV1, kV2 };
// "v0 (legacy)", "v1 (ak42 fp32)", "v2 (ak42 int8 Q8_0)".
const char* llama2_format_name(Llama2Format format);

inline constexpr uint32_t kLlama2Magic = 0x616b3432;  // "ak42" read as a little-endian u32
inline constexpr size_t kLlama2V0HeaderSize = 28;
inline constexpr size_t kLlama2V1HeaderSize = 256;

// What the header of a file says, validated against the file's size.
struct Llama2FileInfo {
  Llama2Format format = Llama2Format::kV0;
  Llama2Header header;
  int32_t group_size = 0;    // v2 only: values per fp32 scale
  uint64_t file_size = 0;    // bytes; equal to what the header implies
};

// Checks the header's own rules: every size positive, n_heads divides dim, head_size even
// (RoPE pairs), n_kv_heads divides n_heads.
Status validate_llama2_header(const Llama2Header& header);
// Checks the header and that every buffer has the size the header implies.
Status validate_llama2_model(const Llama2Model& model);

// Reads and validates the header (version by magic) and checks that the file size is exactly
// what it implies. Errors name the field's byte offset, or where the data runs out.
Expected<Llama2FileInfo> parse_llama2_header(std::span<const uint8_t> bytes, const std::string& source);
// Reads a whole model of any version (v2 is dequantized).
Expected<Llama2Model> parse_llama2_model(std::span<const uint8_t> bytes, const std::string& source);
Expected<Llama2Model> read_llama2_model(const std::string& path);

// The file bytes of `model` in v0 (with RoPE tables, theta 10000) or v1; v2 is not written.
Expected<std::vector<uint8_t>> serialize_llama2_model(const Llama2Model& model, Llama2Format format);
// serialize_llama2_model, written atomically.
Status write_llama2_model(const std::string& path, const Llama2Model& model, Llama2Format format);

}  // namespace ane
