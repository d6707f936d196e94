// The original ANE trainer's checkpoint ("BLZT"), read and written byte for byte.
//
// Layout (little-endian): a 96-byte header, the C struct below written with one fwrite, then
// fp32 arrays with no padding:
//   for each layer: Wq Wk Wv Wo W1 W2 W3 rms_att rms_ffn (weights), then
//                   Wq.m Wq.v Wk.m Wk.v ... rms_ffn.m rms_ffn.v (Adam moments);
//   rms_final, rms_final.m, rms_final.v; embedding, embedding.m, embedding.v.
// Sizes: Wq [q_dim, D], Wk Wv [kv_dim, D], Wo [D, q_dim], W1 W3 [H, D], W2 [D, H], norms [D],
// embedding [V, D]. Version 2 (the static pipeline) is multi-head attention: q_dim = kv_dim
// = D. Version 4 (the GQA pipeline) stores kv_heads, head_dim and q_dim in the header's last
// three ints: q_dim = n_heads * head_dim, kv_dim = kv_heads * head_dim.
// There is no classifier (it is tied to the embedding), no qk-norm, no RNG or data state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/model_config.h"

namespace ane {

inline constexpr int32_t kBlztMagic = 0x424C5A54;  // "TZLB" on disk (little-endian), "BLZT" as an int
inline constexpr int32_t kBlztVersionMha = 2;      // static pipeline, pad[3] = 0
inline constexpr int32_t kBlztVersionGqa = 4;      // GQA pipeline, kv_heads / head_dim / q_dim

// The header exactly as the original's `CkptHdr` lays it out with natural alignment. The
// seed's API reference says 128 bytes; the fields add up to 96: ten i32 (0..39), two f32
// (40..47), three f64 (48..71, already 8-aligned), three i32 (72..83), three i32 (84..95);
// 96 is a multiple of the struct's 8-byte alignment, so there is no tail padding.
struct BlztHeader {
  int32_t magic = kBlztMagic;          // @0
  int32_t version = kBlztVersionMha;   // @4: 2 or 4
  int32_t step = 0;                    // @8
  int32_t total_steps = 0;             // @12
  int32_t n_layers = 0;                // @16
  int32_t vocab_size = 0;              // @20
  int32_t dim = 0;                     // @24
  int32_t hidden_dim = 0;              // @28
  int32_t n_heads = 0;                 // @32
  int32_t seq_len = 0;                 // @36
  float lr = 0;                        // @40
  float loss = 0;                      // @44
  double cum_compile = 0;              // @48, milliseconds
  double cum_train = 0;                // @56, milliseconds
  double cum_wall = 0;                 // @64, milliseconds
  int32_t cum_steps = 0;               // @72
  int32_t cum_batches = 0;             // @76
  int32_t adam_t = 0;                  // @80: Adam step for bias correction
  int32_t kv_heads = 0;                // @84: version 4; pad[0] (written 0) in version 2
  int32_t head_dim = 0;                // @88: version 4; pad[1] in version 2
  int32_t q_dim = 0;                   // @92: version 4; pad[2] in version 2
};
static_assert(sizeof(BlztHeader) == 96 && alignof(BlztHeader) == 8);
static_assert(offsetof(BlztHeader, lr) == 40 && offsetof(BlztHeader, cum_compile) == 48 &&
              offsetof(BlztHeader, cum_steps) == 72 && offsetof(BlztHeader, kv_heads) == 84);

// One parameter tensor with its Adam first (m) and second (v) moments, all the same size.
struct BlztTensor {
  std::vector<float> w, m, v;
  bool operator==(const BlztTensor&) const = default;
};

// One transformer block, tensors in file order.
struct BlztLayer {
  BlztTensor wq, wk, wv, wo, w1, w2, w3, rms_att, rms_ffn;
  bool operator==(const BlztLayer&) const = default;
};

// A whole BLZT checkpoint in memory.
struct BlztCheckpoint {
  BlztHeader header;
  std::vector<BlztLayer> layers;  // header.n_layers of them
  BlztTensor rms_final;           // [D]
  BlztTensor embedding;           // [V, D], also the classifier
};

// Which of a tensor's arrays: its weights or its Adam moments.
enum class BlztPart : uint8_t { kWeights, kM, kV };
// One array of a BLZT file: the tensor it belongs to, named and shaped as ModelWeights names
// and shapes it ("layers.3.wq" [q_dim, dim], "rms_final" [dim], "embedding" [vocab, dim]), and
// which of its arrays.
struct BlztArray {
  std::string tensor;
  BlztPart part = BlztPart::kWeights;
  std::vector<uint64_t> shape;
  uint64_t count() const {  // floats
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
  }
};

// The model shape a header describes (version 2: n_kv_heads = n_heads, head_dim = D /
// n_heads). Validates the header's magic, version and dimensions first.
Expected<ModelConfig> blzt_model_config(const BlztHeader& header);

// An all-zero checkpoint for `config` (which BLZT must be able to hold: no qk-norm, tied
// classifier; version 2 also needs n_kv_heads = n_heads and head_dim = D / n_heads), with the
// header's shape fields filled in and the training counters zero.
Expected<BlztCheckpoint> make_blzt_checkpoint(const ModelConfig& config, int32_t version);
// That checkpoint's header alone (its arrays are the caller's to stream: save_blzt below).
Expected<BlztHeader> make_blzt_header(const ModelConfig& config, int32_t version);

// The exact file size the header implies; fails on a bad header or on overflow.
Expected<uint64_t> blzt_file_size(const BlztHeader& header);

// Reads a checkpoint from bytes, validating the header and that the size is exactly what it
// implies; errors carry the byte offset in `source` (where the data ran out, for truncation).
Expected<BlztCheckpoint> parse_blzt(std::span<const uint8_t> bytes, const std::string& source);
// The header of a BLZT file's bytes, checked as parse_blzt checks the file (the header's
// fields, and a size exactly what they imply) without reading its arrays.
Expected<BlztHeader> read_blzt_header(std::span<const uint8_t> bytes, const std::string& source);
// Every array of a BLZT file, in file order, as views of `bytes` (checked first as parse_blzt
// checks): fn(array, its bytes), a failure stops the walk. Reads a checkpoint without copying it.
Status for_each_blzt_array(std::span<const uint8_t> bytes, const std::string& source,
                           const std::function<Status(const BlztArray&, std::span<const uint8_t>)>& fn);
// The file's bytes; fails if a tensor's size disagrees with the header.
Expected<std::vector<uint8_t>> serialize_blzt(const BlztCheckpoint& ckpt);

Expected<BlztCheckpoint> load_blzt(const std::string& path);
Status save_blzt(const std::string& path, const BlztCheckpoint& ckpt);  // atomic
// Where a streamed save takes each array: its `count` floats, valid until the next call.
using BlztArraySource = std::function<Expected<std::span<const float>>(const BlztArray&)>;
// Writes the file atomically, asking `source` for one array at a time in file order, so the
// state it comes from is never copied whole (a training run's is gigabytes).
Status save_blzt(const std::string& path, const BlztHeader& header, const BlztArraySource& source);

}  // namespace ane
