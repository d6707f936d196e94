#include "formats/blzt_checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/byte_reader.h"
#include "core/file.h"

namespace ane {
namespace {

constexpr uint64_t kHeaderBytes = sizeof(BlztHeader);

// Element counts the header implies, all positive.
struct BlztSizes {
  uint64_t n_layers, dim, hidden, q_dim, kv_dim, vocab;
};

// A tensor's shape: [rows, cols], or [rows] when cols is 0.
struct Dims {
  uint64_t rows, cols;
  uint64_t count() const { return cols == 0 ? rows : rows * cols; }  // each below 2^31: no overflow
  std::vector<uint64_t> shape() const {
    return cols == 0 ? std::vector<uint64_t>{rows} : std::vector<uint64_t>{rows, cols};
  }
};

// The nine tensors of a layer and the two global ones, in file order, with their shapes.
// `name` is the original's, `weights_name` ModelWeights' (BlztArray::tensor).
template <typename Owner>
struct Slot {
  const char* name;
  const char* weights_name;
  BlztTensor Owner::*tensor;
  Dims (*dims)(const BlztSizes&);
  uint64_t count(const BlztSizes& s) const { return dims(s).count(); }
};
constexpr Slot<BlztLayer> kLayerSlots[] = {
    {"Wq", "wq", &BlztLayer::wq, [](const BlztSizes& s) { return Dims{s.q_dim, s.dim}; }},
    {"Wk", "wk", &BlztLayer::wk, [](const BlztSizes& s) { return Dims{s.kv_dim, s.dim}; }},
    {"Wv", "wv", &BlztLayer::wv, [](const BlztSizes& s) { return Dims{s.kv_dim, s.dim}; }},
    {"Wo", "wo", &BlztLayer::wo, [](const BlztSizes& s) { return Dims{s.dim, s.q_dim}; }},
    {"W1", "w1", &BlztLayer::w1, [](const BlztSizes& s) { return Dims{s.hidden, s.dim}; }},
    {"W2", "w2", &BlztLayer::w2, [](const BlztSizes& s) { return Dims{s.dim, s.hidden}; }},
    {"W3", "w3", &BlztLayer::w3, [](const BlztSizes& s) { return Dims{s.hidden, s.dim}; }},
    {"rms_att", "rms_att", &BlztLayer::rms_att, [](const BlztSizes& s) { return Dims{s.dim, 0}; }},
    {"rms_ffn", "rms_ffn", &BlztLayer::rms_ffn, [](const BlztSizes& s) { return Dims{s.dim, 0}; }},
};
constexpr Slot<BlztCheckpoint> kGlobalSlots[] = {
    {"rms_final", "rms_final", &BlztCheckpoint::rms_final, [](const BlztSizes& s) { return Dims{s.dim, 0}; }},
    {"embedding", "embedding", &BlztCheckpoint::embedding, [](const BlztSizes& s) { return Dims{s.vocab, s.dim}; }},
};

// Which of a tensor's three arrays.
struct Part {
  std::vector<float> BlztTensor::*array;
  const char* suffix;
  BlztPart kind;
};
constexpr Part kW{&BlztTensor::w, "", BlztPart::kWeights}, kM{&BlztTensor::m, ".m", BlztPart::kM},
    kV{&BlztTensor::v, ".v", BlztPart::kV};

// The arrays of one layer in file order: nine weights, then m and v of each. fn(slot, part).
template <typename F>
void for_each_layer_array(F&& fn) {
  for (const auto& s : kLayerSlots) fn(s, kW);
  for (const auto& s : kLayerSlots) {
    fn(s, kM);
    fn(s, kV);
  }
}
// The arrays after the layers: rms_final w m v, embedding w m v. fn(slot, part).
template <typename F>
void for_each_global_array(F&& fn) {
  for (const auto& s : kGlobalSlots) {
    fn(s, kW);
    fn(s, kM);
    fn(s, kV);
  }
}

// One array of a file: its layer (-1 after the layers), tensor and part.
struct ArrayAt {
  int64_t layer;
  const char* name;          // the original's tensor name
  const char* weights_name;  // ModelWeights'
  const Part* part;
  Dims dims;
  // "layer 3 Wq.m", "embedding.v": how errors name it
  std::string display() const {
    return (layer >= 0 ? "layer " + std::to_string(layer) + " " : std::string()) + name + part->suffix;
  }
  BlztArray array() const {
    return {(layer >= 0 ? "layers." + std::to_string(layer) + "." : std::string()) + weights_name, part->kind,
            dims.shape()};
  }
};

// The array `part` of `slot`'s tensor in `layer` (-1: a global tensor).
template <typename Owner>
ArrayAt array_at(int64_t layer, const Slot<Owner>& slot, const Part& part, const BlztSizes& sz) {
  return {layer, slot.name, slot.weights_name, &part, slot.dims(sz)};
}

// Every array of a file of `sz` in file order: fn(ArrayAt, member) returns a Status, and the
// first failure stops the walk; member(c) is the array's vector in a BlztCheckpoint c.
template <typename F>
Status for_each_array_at(const BlztSizes& sz, F&& fn) {
  Status st;
  for (uint64_t l = 0; l < sz.n_layers; ++l) {
    for_each_layer_array([&](const auto& slot, const Part& part) {
      if (!st.ok()) return;
      auto member = [&slot, &part, l](auto& c) -> auto& { return c.layers[l].*slot.tensor.*part.array; };
      st = fn(array_at(static_cast<int64_t>(l), slot, part, sz), member);
    });
  }
  for_each_global_array([&](const auto& slot, const Part& part) {
    if (!st.ok()) return;
    auto member = [&slot, &part](auto& c) -> auto& { return c.*slot.tensor.*part.array; };
    st = fn(array_at(-1, slot, part, sz), member);
  });
  return st;
}

// Every array of a checkpoint in file order: fn(name, vector, expected count). Ckpt is
// BlztCheckpoint or const BlztCheckpoint; the caller has checked layers.size().
template <typename Ckpt, typename F>
Status for_each_array(Ckpt& c, const BlztSizes& sz, F&& fn) {
  return for_each_array_at(sz,
                           [&](const ArrayAt& at, auto member) { return fn(at.display(), member(c), at.dims.count()); });
}

Error header_error(const std::string& source, uint64_t offset, const std::string& msg) {
  return parse_error("BLZT header: " + msg, Location::bytes(source, static_cast<int64_t>(offset)));
}

// Checks magic, version and dimensions; returns the sizes they imply.
Expected<BlztSizes> header_sizes(const BlztHeader& h, const std::string& source) {
  if (h.magic != kBlztMagic) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "bad magic 0x%08X, expected 0x%08X (\"BLZT\")", static_cast<uint32_t>(h.magic),
                  static_cast<uint32_t>(kBlztMagic));
    return header_error(source, offsetof(BlztHeader, magic), buf);
  }
  if (h.version != kBlztVersionMha && h.version != kBlztVersionGqa) {
    return header_error(source, offsetof(BlztHeader, version),
                        "unsupported version " + std::to_string(h.version) + " (expected 2 or 4)");
  }
  struct Field {
    const char* name;
    int32_t value;
    size_t offset;
  };
  const bool gqa = h.version == kBlztVersionGqa;
  const Field fields[] = {
      {"n_layers", h.n_layers, offsetof(BlztHeader, n_layers)},
      {"vocab_size", h.vocab_size, offsetof(BlztHeader, vocab_size)},
      {"dim", h.dim, offsetof(BlztHeader, dim)},
      {"hidden_dim", h.hidden_dim, offsetof(BlztHeader, hidden_dim)},
      {"n_heads", h.n_heads, offsetof(BlztHeader, n_heads)},
      {"seq_len", h.seq_len, offsetof(BlztHeader, seq_len)},
      {"kv_heads", gqa ? h.kv_heads : 1, offsetof(BlztHeader, kv_heads)},
      {"head_dim", gqa ? h.head_dim : 1, offsetof(BlztHeader, head_dim)},
      {"q_dim", gqa ? h.q_dim : 1, offsetof(BlztHeader, q_dim)},
  };
  for (const Field& f : fields) {
    if (f.value <= 0) {
      return header_error(source, f.offset,
                          std::string(f.name) + " = " + std::to_string(f.value) + " must be positive");
    }
  }
  auto u = [](int32_t v) { return static_cast<uint64_t>(v); };
  BlztSizes s{u(h.n_layers), u(h.dim), u(h.hidden_dim), u(h.dim), u(h.dim), u(h.vocab_size)};
  if (!gqa) {
    if (h.dim % h.n_heads != 0) {
      return header_error(source, offsetof(BlztHeader, dim),
                          "dim " + std::to_string(h.dim) + " is not a multiple of n_heads " + std::to_string(h.n_heads));
    }
    return s;
  }
  if (h.n_heads % h.kv_heads != 0) {
    return header_error(source, offsetof(BlztHeader, kv_heads),
                        "kv_heads " + std::to_string(h.kv_heads) + " does not divide n_heads " +
                            std::to_string(h.n_heads));
  }
  if (u(h.q_dim) != u(h.n_heads) * u(h.head_dim)) {
    return header_error(source, offsetof(BlztHeader, q_dim),
                        "q_dim " + std::to_string(h.q_dim) + " != n_heads * head_dim = " +
                            std::to_string(u(h.n_heads) * u(h.head_dim)));
  }
  s.q_dim = u(h.q_dim);
  s.kv_dim = u(h.kv_heads) * u(h.head_dim);
  return s;
}

// Floats in one layer (weights only), or false on overflow.
bool layer_floats(const BlztSizes& s, uint64_t* out) {
  uint64_t total = 0;
  for (const auto& slot : kLayerSlots) {
    // Each count is a product of two values below 2^31, so it cannot overflow by itself.
    if (__builtin_add_overflow(total, slot.count(s), &total)) return false;
  }
  *out = total;
  return true;
}

// Bytes of one layer (weights, m and v), or false on overflow.
bool layer_bytes(const BlztSizes& s, uint64_t* out) {
  uint64_t floats = 0;
  return layer_floats(s, &floats) && checked_mul(floats, 3 * sizeof(float), out);
}

Expected<uint64_t> file_size(const BlztSizes& s, const std::string& source) {
  uint64_t per_layer = 0, layers = 0, total = kHeaderBytes;
  bool ok = layer_bytes(s, &per_layer) && checked_mul(per_layer, s.n_layers, &layers) &&
            !__builtin_add_overflow(total, layers, &total);
  for (const auto& slot : kGlobalSlots) {
    uint64_t bytes = 0;
    ok = ok && checked_mul(slot.count(s), 3 * sizeof(float), &bytes) && !__builtin_add_overflow(total, bytes, &total);
  }
  if (!ok) return header_error(source, 0, "dimensions imply a file of more than 2^64 bytes");
  return total;
}

// Names the array that byte `offset` of the body falls in, e.g. "layer 3 Wk.m (bytes A..B)".
// Goes straight to the offset's layer: a header may claim billions of small layers.
std::string locate(const BlztSizes& s, uint64_t offset) {
  uint64_t per_layer = 0;
  layer_bytes(s, &per_layer);  // cannot overflow: file_size() succeeded
  uint64_t start = kHeaderBytes;
  std::string found;
  auto visit = [&](const ArrayAt& at) {
    const uint64_t end = start + at.dims.count() * sizeof(float);
    if (found.empty() && offset >= start && offset < end) {
      found = at.display() + " (bytes " + std::to_string(start) + ".." + std::to_string(end) + ")";
    }
    start = end;
  };
  const uint64_t layer = (offset - kHeaderBytes) / per_layer;
  if (layer < s.n_layers) {
    start += layer * per_layer;
    for_each_layer_array([&](const auto& slot, const Part& part) {
      visit(array_at(static_cast<int64_t>(layer), slot, part, s));
    });
  } else {
    start += s.n_layers * per_layer;
    for_each_global_array([&](const auto& slot, const Part& part) { visit(array_at(-1, slot, part, s)); });
  }
  return found;
}

}  // namespace

Expected<uint64_t> blzt_file_size(const BlztHeader& header) {
  ANE_ASSIGN_OR_RETURN(BlztSizes s, header_sizes(header, ""));
  return file_size(s, "");
}

Expected<ModelConfig> blzt_model_config(const BlztHeader& h) {
  ANE_RETURN_IF_ERROR(header_sizes(h, "").status());
  ModelConfig c;
  c.dim = h.dim;
  c.hidden_dim = h.hidden_dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.version == kBlztVersionGqa ? h.kv_heads : h.n_heads;
  c.head_dim = h.version == kBlztVersionGqa ? h.head_dim : h.dim / h.n_heads;
  c.vocab_size = h.vocab_size;
  c.seq_len = h.seq_len;
  ANE_RETURN_IF_ERROR(c.validate());
  return c;
}

Expected<BlztHeader> make_blzt_header(const ModelConfig& config, int32_t version) {
  ANE_RETURN_IF_ERROR(config.validate());
  auto refuse = [](const std::string& why) { return invalid_argument("a BLZT checkpoint cannot hold this model: " + why); };
  if (version != kBlztVersionMha && version != kBlztVersionGqa) {
    return invalid_argument("BLZT version must be 2 or 4, not " + std::to_string(version));
  }
  if (config.qk_norm) return refuse("it has no qk-norm weights");
  if (!config.shared_classifier) return refuse("it has no separate classifier");
  if (config.q_dim() > static_cast<size_t>(INT32_MAX)) return refuse("q_dim does not fit in an i32");
  if (version == kBlztVersionMha &&
      (config.n_kv_heads != config.n_heads || config.q_dim() != static_cast<size_t>(config.dim))) {
    return refuse("version 2 needs n_kv_heads == n_heads and n_heads * head_dim == dim (use version 4)");
  }
  BlztHeader h;
  h.version = version;
  h.n_layers = config.n_layers;
  h.vocab_size = config.vocab_size;
  h.dim = config.dim;
  h.hidden_dim = config.hidden_dim;
  h.n_heads = config.n_heads;
  h.seq_len = config.seq_len;
  if (version == kBlztVersionGqa) {
    h.kv_heads = config.n_kv_heads;
    h.head_dim = config.head_dim;
    h.q_dim = static_cast<int32_t>(config.q_dim());
  }
  ANE_RETURN_IF_ERROR(header_sizes(h, "").status());
  return h;
}

Expected<BlztCheckpoint> make_blzt_checkpoint(const ModelConfig& config, int32_t version) {
  BlztCheckpoint c;
  ANE_ASSIGN_OR_RETURN(c.header, make_blzt_header(config, version));
  ANE_ASSIGN_OR_RETURN(BlztSizes s, header_sizes(c.header, ""));
  c.layers.resize(c.header.n_layers);
  Status st = for_each_array(c, s, [](const std::string&, std::vector<float>& vec, uint64_t count) {
    vec.assign(count, 0.0f);
    return Status();
  });
  ANE_RETURN_IF_ERROR(st);
  return c;
}

namespace {

// The checked header of `bytes` and the sizes it implies, which `bytes` must match exactly;
// `r` reads on after the header.
Expected<std::pair<BlztHeader, BlztSizes>> read_header(ByteReader& r, std::span<const uint8_t> bytes,
                                                       const std::string& source) {
  ANE_ASSIGN_OR_RETURN(BlztHeader h, r.read<BlztHeader>("BLZT header"));
  ANE_ASSIGN_OR_RETURN(BlztSizes s, header_sizes(h, source));
  ANE_ASSIGN_OR_RETURN(uint64_t expected, file_size(s, source));
  if (bytes.size() < expected) {
    return r.error_at(bytes.size(), "truncated: data ran out at byte " + std::to_string(bytes.size()) + " inside " +
                                        locate(s, bytes.size()) + "; the header implies " +
                                        std::to_string(expected) + " bytes");
  }
  if (bytes.size() > expected) {
    return r.error_at(expected, std::to_string(bytes.size() - expected) + " unexpected bytes after the last array "
                                "(embedding.v ends at byte " + std::to_string(expected) + ")");
  }
  // A consistent layout may still be no model (an odd head_dim has no RoPE pairs): say so
  // here, with the file's name, rather than when a trainer is built from it.
  if (auto config = blzt_model_config(h); !config.ok()) {
    return header_error(source, 0, "not a model OpenANE can hold: " + config.error().message());
  }
  return std::pair{h, s};
}

// Writes `h` and then every array, each taken from get(ArrayAt, member) as a span of floats,
// to sink(bytes): the one writer behind serialize_blzt and both save_blzt.
template <typename Get, typename Sink>
Status write_blzt(const BlztHeader& h, Get&& get, Sink&& sink) {
  ANE_ASSIGN_OR_RETURN(BlztSizes s, header_sizes(h, "BLZT checkpoint"));
  ANE_RETURN_IF_ERROR(file_size(s, "BLZT checkpoint").status());
  ANE_RETURN_IF_ERROR(sink(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), kHeaderBytes)));
  return for_each_array_at(s, [&](const ArrayAt& at, auto member) -> Status {
    ANE_ASSIGN_OR_RETURN(std::span<const float> floats, get(at, member));
    if (floats.size() != at.dims.count()) {
      return invalid_argument("BLZT checkpoint: " + at.display() + " has " + std::to_string(floats.size()) +
                              " floats, the header implies " + std::to_string(at.dims.count()));
    }
    return sink(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(floats.data()), floats.size_bytes()));
  });
}

Status check_layers(const BlztCheckpoint& c) {
  if (c.layers.size() == static_cast<size_t>(std::max(c.header.n_layers, 0))) return {};
  return invalid_argument("BLZT checkpoint has " + std::to_string(c.layers.size()) + " layers, its header says " +
                          std::to_string(c.header.n_layers));
}

// A BlztCheckpoint's arrays, for write_blzt (after check_layers).
auto arrays_of(const BlztCheckpoint& c) {
  return [&c](const ArrayAt&, auto member) -> Expected<std::span<const float>> {
    return std::span<const float>(member(c));
  };
}

}  // namespace

Expected<BlztCheckpoint> parse_blzt(std::span<const uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  BlztCheckpoint c;
  ANE_ASSIGN_OR_RETURN(auto header, read_header(r, bytes, source));
  const auto& [h, s] = header;
  c.header = h;
  c.layers.resize(c.header.n_layers);
  Status st = for_each_array(c, s, [&](const std::string& name, std::vector<float>& vec, uint64_t count) -> Status {
    ANE_ASSIGN_OR_RETURN(auto data, r.take(count * sizeof(float), name.c_str()));
    vec.resize(count);
    std::memcpy(vec.data(), data.data(), data.size());
    return {};
  });
  ANE_RETURN_IF_ERROR(st);
  return c;
}

Expected<BlztHeader> read_blzt_header(std::span<const uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  ANE_ASSIGN_OR_RETURN(auto header, read_header(r, bytes, source));
  return header.first;
}

Status for_each_blzt_array(std::span<const uint8_t> bytes, const std::string& source,
                           const std::function<Status(const BlztArray&, std::span<const uint8_t>)>& fn) {
  ByteReader r(bytes, source);
  ANE_ASSIGN_OR_RETURN(auto header, read_header(r, bytes, source));
  return for_each_array_at(header.second, [&](const ArrayAt& at, auto) -> Status {
    ANE_ASSIGN_OR_RETURN(auto data, r.take(at.dims.count() * sizeof(float), at.display().c_str()));
    return fn(at.array(), data);
  });
}

Expected<std::vector<uint8_t>> serialize_blzt(const BlztCheckpoint& c) {
  ANE_RETURN_IF_ERROR(check_layers(c));
  std::vector<uint8_t> out;
  if (auto total = blzt_file_size(c.header); total.ok()) out.reserve(*total);  // else write_blzt reports the header
  ANE_RETURN_IF_ERROR(write_blzt(c.header, arrays_of(c), [&](std::span<const uint8_t> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return Status();
  }));
  return out;
}

Expected<BlztCheckpoint> load_blzt(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return parse_blzt(file.bytes(), path);
}

namespace {

template <typename Get>
Status save_streamed(const std::string& path, const BlztHeader& header, Get&& get) {
  ANE_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(path));
  ANE_RETURN_IF_ERROR(write_blzt(header, get, [&](std::span<const uint8_t> bytes) { return out.write(bytes); }));
  return out.commit();
}

}  // namespace

Status save_blzt(const std::string& path, const BlztCheckpoint& ckpt) {
  ANE_RETURN_IF_ERROR(check_layers(ckpt));
  return save_streamed(path, ckpt.header, arrays_of(ckpt));
}

Status save_blzt(const std::string& path, const BlztHeader& header, const BlztArraySource& source) {
  return save_streamed(path, header, [&](const ArrayAt& at, auto) { return source(at.array()); });
}

}  // namespace ane
