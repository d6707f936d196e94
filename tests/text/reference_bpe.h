// A deliberately plain version of llama2.c's encoder for the tests, sharing no code with
// src/text: an ordered map for lookup, and every merge step rescans every adjacent pair.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "formats/tokenizer_file.h"

namespace ane::test {

class ReferenceBpe {
 public:
  explicit ReferenceBpe(const TokenizerFile& file) : file_(file) {
    for (size_t i = 0; i < file.entries.size(); ++i) index_.emplace(file.entries[i].piece, static_cast<int32_t>(i));
  }

  std::vector<int32_t> encode(const std::string& text, bool bos, bool eos) const {
    std::vector<int32_t> t;
    if (bos) t.push_back(1);  // BOS takes part in the merges, as in run.c
    if (!text.empty()) add_piece_or_bytes(" ", &t);
    // A group is one byte plus the continuation bytes after it, four bytes at most.
    for (size_t i = 0; i < text.size();) {
      size_t j = i + 1;
      while (j < text.size() && j - i < 4 && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) ++j;
      add_piece_or_bytes(text.substr(i, j - i), &t);
      i = j;
    }
    for (;;) {
      float best_score = -1e10f;
      int32_t best_id = -1;
      size_t best_at = 0;
      for (size_t i = 0; i + 1 < t.size(); ++i) {
        const int32_t id = find(file_.entries[t[i]].piece + file_.entries[t[i + 1]].piece);
        if (id != -1 && file_.entries[id].score > best_score) {
          best_score = file_.entries[id].score;
          best_id = id;
          best_at = i;
        }
      }
      if (best_id == -1) break;
      t[best_at] = best_id;
      t.erase(t.begin() + static_cast<long>(best_at) + 1);
    }
    if (eos) t.push_back(2);
    return t;
  }

 private:
  int32_t find(const std::string& s) const {
    auto it = index_.find(s);
    return it == index_.end() ? -1 : it->second;
  }
  void add_piece_or_bytes(const std::string& s, std::vector<int32_t>* t) const {
    const int32_t id = find(s);
    if (id != -1) {
      t->push_back(id);
      return;
    }
    for (unsigned char c : s) t->push_back(c + 3);
  }

  const TokenizerFile& file_;
  std::map<std::string, int32_t> index_;
};

// "<unk>", "\n<s>\n", "\n</s>\n", then "<0x00>".."<0xFF>" (ids 3..258), all scored 0.
inline TokenizerFile vocabulary_head() {
  TokenizerFile f;
  f.entries = {{0, "<unk>"}, {0, "\n<s>\n"}, {0, "\n</s>\n"}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    f.entries.push_back({0, buf});
  }
  return f;
}

// The UTF-8 bytes of one codepoint.
inline std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A random valid codepoint (no surrogates), mostly from the lower planes.
inline uint32_t random_codepoint(std::mt19937& rng) {
  const uint32_t limits[] = {0x80, 0x800, 0x10000, 0x110000};
  const uint32_t limit = limits[std::uniform_int_distribution<int>(0, 3)(rng)];
  for (;;) {
    const uint32_t cp = std::uniform_int_distribution<uint32_t>(1, limit - 1)(rng);
    if (cp < 0xD800 || cp > 0xDFFF) return cp;
  }
}

}  // namespace ane::test
