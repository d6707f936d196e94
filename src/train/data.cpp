#include "train/data.h"

#include <algorithm>
#include <filesystem>

namespace ane::train {
namespace {

// splitmix64: a well-mixed 64-bit hash, so nearby (step, micro) pairs land far apart.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Expected<std::vector<std::string>> expand_shard_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      ANE_ASSIGN_OR_RETURN(std::vector<std::string> dir, list_token_shards(p));
      out.insert(out.end(), dir.begin(), dir.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

void TokenData::Split::add(Range r, int64_t window) {
  const int64_t n = r.end - r.begin - window + 1;
  tokens += r.end - r.begin;
  if (n <= 0) return;
  starts_before.push_back(starts);
  ranges.push_back(r);
  starts += n;
}

std::span<const uint16_t> TokenData::Split::window_at(const std::vector<TokenShard>& shards, int64_t index,
                                                      int64_t window) const {
  // the last range whose first start is <= index
  size_t lo = 0, hi = ranges.size();
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    (starts_before[mid] <= index ? lo : hi) = mid;
  }
  const Range& r = ranges[lo];
  const int64_t begin = r.begin + (index - starts_before[lo]);
  return shards[r.shard].tokens().subspan(static_cast<size_t>(begin), static_cast<size_t>(window));
}

Expected<TokenData> TokenData::open(const DataOptions& o) {
  if (o.window < 2) return invalid_argument("data: a window needs at least 2 tokens");
  if (o.train.empty()) return invalid_argument("data: no training shards given (--data)");
  if (o.val.empty() && !(o.val_fraction > 0 && o.val_fraction < 1)) {
    return invalid_argument("data: the validation fraction must be in (0, 1), got " + std::to_string(o.val_fraction));
  }
  TokenData d;
  d.window_ = o.window;
  // One pass over every token marks the ids that occur; only a shard whose largest id is
  // outside the vocabulary is read again, to name the first bad token's offset.
  std::vector<uint8_t> occurs(size_t{1} << 16, 0);
  auto open_all = [&](const std::vector<std::string>& paths) -> Expected<std::vector<size_t>> {
    ANE_ASSIGN_OR_RETURN(std::vector<std::string> files, expand_shard_paths(paths));
    std::vector<size_t> idx;
    for (const std::string& f : files) {
      ANE_ASSIGN_OR_RETURN(TokenShard s, TokenShard::open(f));
      uint16_t largest = 0;
      for (const uint16_t t : s.tokens()) {
        occurs[t] = 1;
        largest = std::max(largest, t);
      }
      if (largest >= o.vocab_size) ANE_RETURN_IF_ERROR(s.validate(o.vocab_size));
      idx.push_back(d.shards_.size());
      d.shards_.push_back(std::move(s));
    }
    return idx;
  };
  ANE_ASSIGN_OR_RETURN(std::vector<size_t> train, open_all(o.train));
  ANE_ASSIGN_OR_RETURN(std::vector<size_t> val, open_all(o.val));
  for (size_t i : train) {
    const auto n = static_cast<int64_t>(d.shards_[i].tokens().size());
    if (!val.empty()) {
      d.train_.add({i, 0, n}, o.window);
      continue;
    }
    const auto cut = n - static_cast<int64_t>(static_cast<double>(n) * o.val_fraction);
    d.train_.add({i, 0, cut}, o.window);
    d.val_.add({i, cut, n}, o.window);
  }
  for (size_t i : val) d.val_.add({i, 0, static_cast<int64_t>(d.shards_[i].tokens().size())}, o.window);
  auto too_small = [&](const char* what, const Split& s) {
    return invalid_argument(std::string("data: the ") + what + " tokens (" + std::to_string(s.tokens) +
                            ") hold no window of seq_len + 1 = " + std::to_string(o.window) + " tokens in any shard");
  };
  if (d.train_.starts == 0) return too_small("training", d.train_);
  if (d.val_.starts == 0) return too_small("validation", d.val_);
  for (size_t id = 0; id < occurs.size(); ++id) {
    if (occurs[id]) d.token_ids_.push_back(static_cast<uint16_t>(id));
  }
  return d;
}

std::span<const uint16_t> TokenData::train_window(uint64_t seed, int64_t step, int64_t micro) const {
  const uint64_t h = mix(mix(mix(seed) ^ static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(micro));
  return train_.window_at(shards_, static_cast<int64_t>(h % static_cast<uint64_t>(train_.starts)), window_);
}

std::span<const uint16_t> TokenData::val_window(int64_t i, int64_t n) const {
  const int64_t stride = std::max<int64_t>(val_.starts / std::max<int64_t>(n, 1), 1);
  return val_.window_at(shards_, (i * stride) % val_.starts, window_);
}

}  // namespace ane::train
