// Training and validation windows of seq_len + 1 tokens from memory-mapped token shards.
// Which window a micro-step reads is a pure function of (seed, step, micro-step), so a
// resumed run reads exactly what an uninterrupted one would, with no data state to save.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/token_shard.h"

namespace ane::train {

struct DataOptions {
  std::vector<std::string> train;  // shard files or directories of *.bin shards
  std::vector<std::string> val;    // optional: validation shards; else a split of `train`
  double val_fraction = 0.05;      // without `val`: the last fraction of every shard
  int64_t window = 0;              // tokens per window: seq_len + 1
  int64_t vocab_size = 0;          // every token must be below it
};

class TokenData {
 public:
  // Maps the shards and checks every token against the vocabulary, noting which ids occur.
  // Errors name the shard and the byte offset of a bad token, or say why no window fits.
  static Expected<TokenData> open(const DataOptions& options);

  // The training window of micro-step `micro` of optimizer step `step`.
  std::span<const uint16_t> train_window(uint64_t seed, int64_t step, int64_t micro) const;
  // Window i of n spread evenly over the validation tokens (the same every call).
  std::span<const uint16_t> val_window(int64_t i, int64_t n) const;

  // The ids that occur anywhere in the training and validation shards, ascending.
  std::span<const uint16_t> token_ids() const { return token_ids_; }
  int64_t train_tokens() const { return train_.tokens; }
  int64_t val_tokens() const { return val_.tokens; }

 private:
  // Token ranges [begin, end) of shards, and how many window starts they offer.
  struct Range {
    size_t shard;
    int64_t begin, end;
  };
  struct Split {
    std::vector<Range> ranges;
    std::vector<int64_t> starts_before;  // prefix sums of window starts per range
    int64_t starts = 0;                  // window starts in all ranges
    int64_t tokens = 0;
    void add(Range r, int64_t window);
    std::span<const uint16_t> window_at(const std::vector<TokenShard>& shards, int64_t index, int64_t window) const;
  };

  std::vector<TokenShard> shards_;
  Split train_, val_;
  int64_t window_ = 0;
  std::vector<uint16_t> token_ids_;
};

// Expands files and directories (a directory stands for its *.bin shards, by name).
Expected<std::vector<std::string>> expand_shard_paths(const std::vector<std::string>& paths);

}  // namespace ane::train
