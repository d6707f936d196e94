// `ane inspect FILE`: identifies which format a file is (by magic numbers first, then by
// what parses exactly) and summarises it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "formats/crc32.h"
#include "formats/llama2_model.h"
#include "formats/npy.h"
#include "formats/token_shard.h"
#include "formats/tokenizer_file.h"
#include "formats/weight_blob.h"
#include "mil/parser.h"
#include "mil/verifier.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

template <typename T>
bool starts_with_value(std::span<const uint8_t> b, T v) {
  if (b.size() < sizeof(T)) return false;
  T got;
  std::memcpy(&got, b.data(), sizeof(T));
  return got == v;
}

bool starts_with_text(std::span<const uint8_t> b, const char* text) {
  const size_t n = std::strlen(text);
  return b.size() >= n && std::memcmp(b.data(), text, n) == 0;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int inspect_blob(const std::string& path, std::span<const uint8_t> bytes) {
  auto blob = parse_weight_blob(bytes, path);
  if (!blob) return report(blob.error());
  std::printf("%s: MIL weight blob (MILBlob v%u), %zu blob(s), header count %u\n", path.c_str(), blob->version,
              blob->entries.size(), blob->count);
  for (const BlobEntry& e : blob->entries) {
    std::printf("  BLOBFILE offset %-10llu %-7s %12llu bytes at %-10llu crc32 %08x\n",
                static_cast<unsigned long long>(e.metadata_offset), blob_dtype_name(e.dtype),
                static_cast<unsigned long long>(e.size), static_cast<unsigned long long>(e.data_offset), crc32(e.data));
  }
  return 0;
}

int inspect_llama2(const std::string& path, std::span<const uint8_t> bytes) {
  auto info = parse_llama2_header(bytes, path);
  if (!info) return report(info.error());
  const Llama2Header& h = info->header;
  std::printf("%s: llama2.c model, %s\n", path.c_str(), llama2_format_name(info->format));
  std::printf("  dim %d, hidden_dim %d, layers %d, heads %d, kv_heads %d, head_size %d, vocab %d, seq_len %d\n", h.dim,
              h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.head_size(), h.vocab_size, h.seq_len);
  std::printf("  classifier %s", h.shared_classifier ? "shared with the embedding" : "separate");
  if (info->format == Llama2Format::kV2) std::printf(", Q8_0 group size %d", info->group_size);
  std::printf("\n  %llu bytes, crc32 %08x\n", static_cast<unsigned long long>(info->file_size), crc32(bytes));
  return 0;
}

int inspect_blzt(const std::string& path, std::span<const uint8_t> bytes) {
  auto header = read_blzt_header(bytes, path);  // the whole file checked, nothing copied
  if (!header) return report(header.error());
  const BlztHeader& h = *header;
  std::printf("%s: ANE training checkpoint (BLZT version %d)\n", path.c_str(), h.version);
  std::printf("  step %d of %d, loss %.4f, lr %.3g, adam_t %d\n", h.step, h.total_steps, h.loss, h.lr, h.adam_t);
  std::printf("  dim %d, hidden_dim %d, layers %d, heads %d, vocab %d, seq_len %d", h.dim, h.hidden_dim, h.n_layers,
              h.n_heads, h.vocab_size, h.seq_len);
  if (h.version == kBlztVersionGqa) std::printf(", kv_heads %d, head_dim %d, q_dim %d", h.kv_heads, h.head_dim, h.q_dim);
  std::printf("\n  compile %.0f ms, train %.0f ms, wall %.0f ms over %d steps / %d batches\n", h.cum_compile, h.cum_train,
              h.cum_wall, h.cum_steps, h.cum_batches);
  std::printf("  %zu bytes, crc32 %08x\n", bytes.size(), crc32(bytes));
  return 0;
}

int inspect_checkpoint(const std::string& path, std::span<const uint8_t> bytes) {
  auto ck = Checkpoint::parse(bytes, path);
  if (!ck) return report(ck.error());
  std::printf("%s: OpenANE checkpoint, %zu tensors, checksums verified\n", path.c_str(), ck->tensors.size());
  if (auto step = ck->step(); step.ok()) std::printf("  step %lld\n", static_cast<long long>(*step));
  if (auto cfg = ck->model_config(); cfg.ok()) {
    std::printf("  model %s: dim %d, hidden %d, layers %d, heads %d/%d kv, head_dim %d, vocab %d, seq %d, %zu params\n",
                cfg->name.c_str(), cfg->dim, cfg->hidden_dim, cfg->n_layers, cfg->n_heads, cfg->n_kv_heads,
                cfg->head_dim, cfg->vocab_size, cfg->seq_len, cfg->total_params());
  }
  for (const auto& [key, value] : ck->meta.items()) {
    if (key == "model" || key == "step") continue;
    std::string text = value.dump();
    if (text.size() > 100) text = text.substr(0, 97) + "...";
    std::printf("  %s: %s\n", key.c_str(), text.c_str());
  }
  const size_t shown = std::min<size_t>(ck->tensors.size(), 12);
  for (size_t i = 0; i < shown; ++i) {
    const NamedTensor& t = ck->tensors[i];
    std::printf("  %-28s %-4s %s\n", t.name.c_str(), ckpt_dtype_name(t.dtype), shape_string(t.shape).c_str());
  }
  if (shown < ck->tensors.size()) std::printf("  ... and %zu more\n", ck->tensors.size() - shown);
  return 0;
}

int inspect_npy(const std::string& path, std::span<const uint8_t> bytes) {
  auto a = parse_npy(bytes, path);
  if (!a) return report(a.error());
  std::vector<uint64_t> shape(a->shape.begin(), a->shape.end());
  std::printf("%s: NumPy array '%s' %s, %zu bytes of data\n", path.c_str(), a->descr.c_str(),
              shape_string(shape).c_str(), a->data.size());
  return 0;
}

int inspect_mil(const std::string& path, std::span<const uint8_t> bytes) {
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto program = mil::parse_program(text, path);
  if (!program) return report(program.error());
  std::printf("%s: MIL program(%s), %zu function(s)\n", path.c_str(), (*program)->version.c_str(),
              (*program)->functions.size());
  for (const auto& fn : (*program)->functions) {
    std::printf("  func %s<%s>: %zu inputs, %zu outputs, %zu ops\n", fn->name.c_str(), fn->opset.c_str(),
                fn->inputs.size(), fn->outputs.size(), fn->ops.size());
  }
  Status s = mil::verify(**program);
  std::printf("  %s\n", s.ok() ? "verifies (see `ane mil check` for details)" : s.to_string().c_str());
  return s.ok() ? 0 : 1;
}

int inspect_shard(const std::string& path, std::span<const uint8_t> bytes) {
  auto shard = parse_token_shard(bytes, path);
  if (!shard) return report(shard.error());
  const auto tokens = shard->tokens;
  uint16_t lo = 0xFFFF, hi = 0;
  std::vector<bool> seen(65536);
  size_t distinct = 0, bos = 0;
  for (uint16_t t : tokens) {
    lo = std::min(lo, t);
    hi = std::max(hi, t);
    if (!seen[t]) ++distinct, seen[t] = true;
    bos += (t == 1);
  }
  std::printf("%s: token shard (%s), %zu tokens\n", path.c_str(),
              shard->format == ShardFormat::kLlmc ? "llm.c, 1024-byte header" : "headerless uint16", tokens.size());
  if (!tokens.empty()) {
    std::printf("  ids %u..%u, %zu distinct, %zu BOS (id 1) = documents\n", lo, hi, distinct, bos);
  }
  return 0;
}

int inspect_tokenizer(const std::string& path, const TokenizerFile& tok) {
  size_t byte_pieces = 0;
  for (const auto& e : tok.entries) byte_pieces += (e.piece.size() == 6 && e.piece.rfind("<0x", 0) == 0);
  std::printf("%s: llama2.c tokenizer, %zu tokens, max_token_length %u (longest piece %u), %zu byte-fallback pieces\n",
              path.c_str(), tok.vocab_size(), tok.max_token_length, tok.longest_piece(), byte_pieces);
  for (const std::string& w : tok.warnings) std::printf("  warning: %s\n", w.c_str());
  for (size_t i = 0; i < std::min<size_t>(tok.entries.size(), 8); ++i) {
    std::printf("  %zu %-12s score %g\n", i, ("'" + tok.entries[i].piece + "'").c_str(), tok.entries[i].score);
  }
  return 0;
}

// Which format `bytes` is, tried from the most to the least specific signature.
int inspect_bytes(const std::string& path, std::span<const uint8_t> bytes) {
  if (starts_with_text(bytes, "OANECKPT")) return inspect_checkpoint(path, bytes);
  if (starts_with_value<int32_t>(bytes, kBlztMagic)) return inspect_blzt(path, bytes);
  if (starts_with_value<uint32_t>(bytes, kLlama2Magic)) return inspect_llama2(path, bytes);
  if (starts_with_text(bytes, "\x93NUMPY")) return inspect_npy(path, bytes);
  if (starts_with_value<int32_t>(bytes, kLlmcShardMagic)) return inspect_shard(path, bytes);
  if (bytes.size() >= 68 && starts_with_value<uint32_t>(bytes.subspan(4), kBlobVersion) &&
      starts_with_value<uint32_t>(bytes.subspan(64), kBlobSentinel)) {
    return inspect_blob(path, bytes);
  }
  if (path.ends_with(".mil") || starts_with_text(bytes, "program(")) return inspect_mil(path, bytes);
  if (parse_llama2_header(bytes, path).ok()) return inspect_llama2(path, bytes);
  if (auto tok = parse_tokenizer_until_eof(bytes, path); tok.ok() && tok->vocab_size() > 0) {
    return inspect_tokenizer(path, *tok);
  }
  if (bytes.size() % 2 == 0) return inspect_shard(path, bytes);
  return report(parse_error("not a format OpenANE knows (MIL text, weight blob, llama2.c model, tokenizer.bin, "
                            "token shard, BLZT or OpenANE checkpoint, .npy)", Location{path}));
}

}  // namespace

int cmd_inspect(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {}, {"help"});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help") || parsed->positional().size() != 1) {
    std::printf(
        "usage: ane inspect FILE\n\nIdentifies FILE (MIL text, MIL weight blob, llama2.c model v0/v1/v2, tokenizer.bin,\n"
        "token shard, BLZT or OpenANE checkpoint, .npy) and summarises it.\n");
    return parsed->has("help") ? 0 : 2;
  }
  const std::string& path = parsed->positional()[0];
  auto file = MappedFile::open(path);
  if (!file) return report(file.error());
  return inspect_bytes(path, file->bytes());
}

}  // namespace ane::cli
