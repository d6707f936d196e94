// `ane tokenize`: text files to uint16 token shards (each document after a BOS), and
// `ane detokenize`: a shard back to text.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "formats/token_shard.h"
#include "text/tokenizer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/text_generation.h"

namespace ane::cli {
namespace {

constexpr const char* kTokenizeHelp =
    "usage: ane tokenize --tokenizer tokenizer.bin IN.txt... -o shard.bin [--format raw|llmc]\n"
    "                    [--doc-separator STRING] [--val-fraction F] [--val-out val.bin] [--threads N]\n"
    "\n"
    "Encodes each input file as one document, or as several split on --doc-separator (\\n, \\t,\n"
    "\\r and \\\\ are understood; empty documents are dropped), each after a BOS token (id 1),\n"
    "and writes the uint16 ids: headerless (raw, llama2.c) or after llm.c's header (llmc).\n"
    "--val-fraction F keeps the last F of the documents for a second shard, --val-out\n"
    "(default: the output name with _val before its extension). Documents are encoded on\n"
    "--threads N threads (default: physical cores); the shards do not depend on N.\n";

constexpr const char* kDetokenizeHelp =
    "usage: ane detokenize --tokenizer tokenizer.bin shard.bin [--doc-separator STRING]\n"
    "\n"
    "Prints the text of a token shard, STRING between documents (each BOS starts one).\n";

constexpr int64_t kShardIdLimit = 65536;  // uint16 ids

Expected<Tokenizer> load_tokenizer(const Args& args) {
  if (!args.has("tokenizer")) return invalid_argument("--tokenizer tokenizer.bin is required");
  return cli::load_tokenizer(args.get("tokenizer"));
}

// The separator as typed, with backslash escapes for the characters a shell makes awkward.
Expected<std::string> unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char c = i + 1 < s.size() ? s[++i] : '\0';
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      default: return invalid_argument("--doc-separator: unknown escape '\\" + std::string(1, c) + "' in '" + s + "'");
    }
  }
  return out;
}

// The non-empty pieces of `text` between separators (the whole text without one).
void split_documents(std::string_view text, std::string_view separator, std::vector<std::string_view>* docs) {
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = separator.empty() ? std::string_view::npos : text.find(separator, begin);
    const std::string_view doc =
        text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    if (!doc.empty()) docs->push_back(doc);
    if (end == std::string_view::npos) break;
    begin = end + separator.size();
  }
}

Expected<ShardFormat> shard_format(const std::string& name) {
  if (name == "raw") return ShardFormat::kRawU16;
  if (name == "llmc") return ShardFormat::kLlmc;
  return invalid_argument("--format must be raw or llmc, got '" + name + "'");
}

std::string default_val_path(const std::string& out) {
  std::filesystem::path p(out);
  return p.replace_filename(p.stem().string() + "_val" + p.extension().string()).string();
}

// How many of `n_docs` documents go to validation.
Expected<size_t> validation_count(double fraction, size_t n_docs) {
  if (!(fraction >= 0 && fraction < 1)) return invalid_argument("--val-fraction must be in [0, 1)");
  if (fraction == 0) return size_t{0};
  if (n_docs < 2) {
    return invalid_argument("--val-fraction needs at least 2 documents, the input has " + std::to_string(n_docs));
  }
  const auto n = static_cast<size_t>(std::llround(fraction * static_cast<double>(n_docs)));
  return std::clamp<size_t>(n, 1, n_docs - 1);
}

// BOS and the ids of each document, in order. Batches of documents are encoded on the pool's
// threads, each into its own ids, and joined in document order: the shard does not depend on
// the thread count.
std::vector<uint16_t> encode_documents(const Tokenizer& tok, std::span<const std::string_view> docs, ThreadPool& pool) {
  constexpr size_t kBatch = 16;  // documents a thread claims at a time
  std::vector<std::vector<uint16_t>> batches((docs.size() + kBatch - 1) / kBatch);
  parallel_claim(&pool, batches.size(), [&](size_t b) {
    for (std::string_view doc : docs.subspan(b * kBatch, std::min(kBatch, docs.size() - b * kBatch))) {
      for (int32_t id : tok.encode(doc, true, false)) batches[b].push_back(static_cast<uint16_t>(id));
    }
  });
  std::vector<uint16_t> shard;
  for (const std::vector<uint16_t>& ids : batches) shard.insert(shard.end(), ids.begin(), ids.end());
  return shard;
}

Status write_shard(const std::string& path, const std::vector<uint16_t>& tokens, size_t n_docs, ShardFormat format) {
  ANE_RETURN_IF_ERROR(write_token_shard(path, tokens, format));
  std::printf("%s: %zu tokens, %zu documents (%s)\n", path.c_str(), tokens.size(), n_docs,
              format == ShardFormat::kLlmc ? "llm.c header" : "raw uint16");
  return {};
}

Status tokenize(const Args& args) {
  if (!args.has("out") || args.positional().empty()) {
    return invalid_argument("need input files and -o shard.bin (see --help)");
  }
  ANE_ASSIGN_OR_RETURN(const Tokenizer tok, load_tokenizer(args));
  if (tok.vocab_size() > kShardIdLimit) {
    return invalid_argument("the tokenizer has " + std::to_string(tok.vocab_size()) +
                            " tokens; shards hold uint16 ids, so at most 65536");
  }
  ANE_ASSIGN_OR_RETURN(const ShardFormat format, shard_format(args.get("format", "raw")));
  ANE_ASSIGN_OR_RETURN(const std::string separator, unescape(args.get("doc-separator")));
  ANE_ASSIGN_OR_RETURN(const double val_fraction, args.get_double("val-fraction", 0));
  ANE_ASSIGN_OR_RETURN(const long long threads, args.get_int("threads", 0));

  std::vector<std::string> texts;  // owns what `docs` views
  std::vector<std::string_view> docs;
  size_t total_bytes = 0;
  for (const std::string& path : args.positional()) {
    ANE_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
    total_bytes += text.size();
    texts.push_back(std::move(text));
  }
  for (const std::string& text : texts) split_documents(text, separator, &docs);
  ANE_ASSIGN_OR_RETURN(const size_t n_val, validation_count(val_fraction, docs.size()));

  Timer timer;
  ThreadPool pool(static_cast<int>(threads));  // 0 or less: physical cores
  const size_t n_train = docs.size() - n_val;
  const std::vector<uint16_t> train = encode_documents(tok, std::span(docs).first(n_train), pool);
  const std::vector<uint16_t> val = encode_documents(tok, std::span(docs).subspan(n_train), pool);
  const double seconds = timer.seconds();

  ANE_RETURN_IF_ERROR(write_shard(args.get("out"), train, n_train, format));
  if (n_val > 0) {
    ANE_RETURN_IF_ERROR(write_shard(args.get("val-out", default_val_path(args.get("out"))), val, n_val, format));
  }
  const size_t n_tokens = train.size() + val.size();
  std::printf("encoded %zu bytes from %zu file(s) in %.2f s (%d threads): %zu tokens, %.2f bytes per token\n",
              total_bytes, texts.size(), seconds, pool.size(), n_tokens,
              static_cast<double>(total_bytes) / static_cast<double>(std::max<size_t>(n_tokens, 1)));
  return {};
}

Status detokenize(const Args& args) {
  if (args.positional().size() != 1) return invalid_argument("need one shard (see --help)");
  ANE_ASSIGN_OR_RETURN(const Tokenizer tok, load_tokenizer(args));
  ANE_ASSIGN_OR_RETURN(const std::string separator, unescape(args.get("doc-separator")));
  ANE_ASSIGN_OR_RETURN(TokenShard shard, TokenShard::open(args.positional()[0]));
  ANE_RETURN_IF_ERROR(shard.validate(tok.vocab_size()));

  const std::vector<int32_t> ids(shard.tokens().begin(), shard.tokens().end());
  std::string text;
  for (size_t begin = 0; begin < ids.size();) {
    const size_t end = std::find(ids.begin() + static_cast<long>(begin) + 1, ids.end(), kBosId) - ids.begin();
    ANE_ASSIGN_OR_RETURN(std::string doc, tok.decode_all(std::span(ids).subspan(begin, end - begin)));
    if (begin > 0) text += separator;
    text += doc;
    begin = end;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return io_error("cannot write the text to stdout");
  }
  return {};
}

}  // namespace

int cmd_tokenize(const std::vector<std::string>& args) {
  return run_command(args, {"tokenizer", "out", "format", "doc-separator", "val-fraction", "val-out", "threads"},
                     kTokenizeHelp, tokenize);
}

int cmd_detokenize(const std::vector<std::string>& args) {
  return run_command(args, {"tokenizer", "doc-separator"}, kDetokenizeHelp, detokenize);
}

}  // namespace ane::cli
