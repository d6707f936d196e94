#include "text/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <array>
#include <cstdio>
#include <limits>
#include <queue>

namespace ane {
namespace {

// run.c only merges pairs scoring above its initial best score.
constexpr float kNoMergeScore = -1e10f;

// Every byte value once, so that decode() can return a view of one.
constexpr std::array<char, kByteTokenCount> kAllBytes = [] {
  std::array<char, kByteTokenCount> a{};
  for (int b = 0; b < kByteTokenCount; ++b) a[static_cast<size_t>(b)] = static_cast<char>(b);
  return a;
}();

std::string byte_piece(int byte) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", byte);
  return buf;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte a "<0xXX>" piece stands for, or -1 for any other piece.
int parse_byte_piece(std::string_view p) {
  if (p.size() != 6 || !p.starts_with("<0x") || p[5] != '>') return -1;
  const int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The symbols being merged, a doubly linked list over the initial token positions.
struct Symbol {
  int32_t id;
  int32_t prev, next;  // positions, -1 at the ends
  uint32_t version;    // bumped when the symbol absorbs its right neighbour
  bool alive;
};

// A pair that was mergeable when pushed; stale once either symbol changed.
struct Candidate {
  float score;
  int32_t left, right;  // positions
  uint32_t left_version, right_version;
  int32_t merged_id;
};

// Highest score first, then the leftmost pair (run.c's first-best scan order).
struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.score != b.score) return a.score < b.score;
    return a.left > b.left;
  }
};

// The merge table's key of an adjacent pair of (canonical) ids.
uint64_t pair_key(int32_t left, int32_t right) {
  return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 | static_cast<uint32_t>(right);
}

}  // namespace

Tokenizer::Tokenizer(TokenizerFile file) : file_(std::move(file)) {
  const size_t n = file_.entries.size();
  ids_.reserve(n);
  for (size_t id = 0; id < n; ++id) ids_.emplace(file_.entries[id].piece, static_cast<int32_t>(id));  // the lowest id
  canonical_.resize(n);
  for (size_t id = 0; id < n; ++id) canonical_[id] = lookup(file_.entries[id].piece);
  // Two symbols merge when their texts join to a piece (its lowest id): every split of every
  // piece that may merge into two pieces, found once here instead of per pair while encoding.
  for (size_t id = 0; id < n; ++id) {
    const std::string_view piece = file_.entries[id].piece;
    if (canonical_[id] != static_cast<int32_t>(id) || !(file_.entries[id].score > kNoMergeScore)) continue;
    for (size_t k = 1; k < piece.size(); ++k) {
      const int32_t left = lookup(piece.substr(0, k)), right = lookup(piece.substr(k));
      if (left >= 0 && right >= 0) merges_.emplace(pair_key(left, right), static_cast<int32_t>(id));
    }
  }
}

Expected<Tokenizer> Tokenizer::create(TokenizerFile file) {
  const size_t n = file.entries.size();
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return invalid_argument("tokenizer has " + std::to_string(n) + " tokens, more than int32 ids can number");
  }
  const size_t needed = kFirstByteId + kByteTokenCount;
  if (n < needed) {
    return invalid_argument("tokenizer has " + std::to_string(n) + " tokens; byte fallback needs the pieces <0x00>.." +
                            "<0xFF> at ids 3..258");
  }
  for (int b = 0; b < kByteTokenCount; ++b) {
    const std::string& piece = file.entries[static_cast<size_t>(kFirstByteId + b)].piece;
    if (piece != byte_piece(b)) {
      return invalid_argument("tokenizer token " + std::to_string(kFirstByteId + b) + " is '" + piece +
                              "', expected '" + byte_piece(b) + "': byte fallback needs <0x00>..<0xFF> at ids 3..258");
    }
  }
  return Tokenizer(std::move(file));
}

int32_t Tokenizer::lookup(std::string_view piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

void Tokenizer::append_codepoints(std::string_view text, std::vector<int32_t>* ids) const {
  // run.c's grouping: a lead byte and up to three continuation bytes after it; a stray
  // continuation byte starts a group of its own.
  size_t begin = 0, len = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (len == 0) begin = i;
    ++len;
    if (i + 1 < text.size() && is_continuation(text[i + 1]) && len < 4) continue;
    const std::string_view group = text.substr(begin, len);
    if (const int32_t id = lookup(group); id >= 0) {
      ids->push_back(id);
    } else {
      for (char c : group) ids->push_back(kFirstByteId + static_cast<unsigned char>(c));
    }
    len = 0;
  }
}

void Tokenizer::merge_pairs(std::vector<int32_t>* ids) const {
  const auto n = static_cast<int32_t>(ids->size());
  std::vector<Symbol> sym(static_cast<size_t>(n));  // [n]
  for (int32_t i = 0; i < n; ++i) {
    sym[static_cast<size_t>(i)] = {(*ids)[static_cast<size_t>(i)], i - 1, i + 1 < n ? i + 1 : -1, 0, true};
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> heap;
  auto push_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = sym[static_cast<size_t>(left)];
    const Symbol& r = sym[static_cast<size_t>(right)];
    // As run.c: the piece the two texts join to (a byte token's text is "<0xXX>"), if any.
    const auto it =
        merges_.find(pair_key(canonical_[static_cast<size_t>(l.id)], canonical_[static_cast<size_t>(r.id)]));
    if (it == merges_.end()) return;
    const int32_t merged = it->second;
    heap.push({file_.entries[static_cast<size_t>(merged)].score, left, right, l.version, r.version, merged});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i, i + 1);

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = sym[static_cast<size_t>(c.left)];
    Symbol& r = sym[static_cast<size_t>(c.right)];
    if (!l.alive || !r.alive || l.version != c.left_version || r.version != c.right_version) continue;
    l.id = c.merged_id;
    ++l.version;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = c.left;
    push_pair(l.prev, c.left);
    push_pair(c.left, l.next);
  }

  ids->clear();
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    ids->push_back(sym[static_cast<size_t>(i)].id);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool bos, bool eos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 3);
  if (bos) ids.push_back(kBosId);  // run.c lets BOS take part in the merges
  if (!text.empty()) append_codepoints(" ", &ids);  // run.c's dummy prefix, looked up on its own
  append_codepoints(text, &ids);
  merge_pairs(&ids);
  if (eos) ids.push_back(kEosId);
  return ids;
}

Expected<std::string_view> Tokenizer::decode(int32_t prev_token, int32_t token) const {
  if (token < 0 || token >= vocab_size()) {
    return Error(ErrorCode::kOutOfRange,
                 "token id " + std::to_string(token) + " is outside the vocabulary of " + std::to_string(vocab_size()));
  }
  std::string_view piece = file_.entries[static_cast<size_t>(token)].piece;
  if (prev_token == kBosId && piece.starts_with(' ')) piece.remove_prefix(1);
  if (const int b = parse_byte_piece(piece); b >= 0) return std::string_view(&kAllBytes[static_cast<size_t>(b)], 1);
  return piece;
}

Expected<std::string> Tokenizer::decode_all(std::span<const int32_t> ids) const {
  std::string out;
  int32_t prev = -1;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id != kBosId && id != kEosId) {
      auto piece = decode(prev, id);
      if (!piece) return piece.error().with_context("token " + std::to_string(i));
      out.append(*piece);
    }
    prev = id;
  }
  return out;
}

bool Tokenizer::printable(std::string_view piece) {
  if (piece.size() != 1) return true;
  const auto byte = static_cast<unsigned char>(piece[0]);
  return byte >= 0x80 || std::isprint(byte) || std::isspace(byte);
}

}  // namespace ane
