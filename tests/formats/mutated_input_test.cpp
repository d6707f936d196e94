// Every file format's reader on its fuzz seeds (fuzz/corpus/<family>/) and on deterministic
// corruptions of them: each read must end in a value or an error, never a crash (the
// sanitizer build checks every memory access), and the property fuzz/format_checks.h states
// for the format must hold. The fuzzers (make test-fuzz) search much further; this keeps a
// share of that search in every CI run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/file.h"
#include "format_checks.h"

namespace ane {
namespace {

namespace fs = std::filesystem;

// One corruption of `seed`: bits flipped, a field overwritten with a boundary value, bytes
// cut, inserted or repeated. A fresh mutation each call, reproducible from the generator.
std::vector<uint8_t> mutate(const std::vector<uint8_t>& seed, std::mt19937_64& rng) {
  std::vector<uint8_t> b = seed;
  // A random offset with `room` bytes after it (0 when the input is shorter).
  auto at = [&](size_t room) -> size_t {
    return b.size() > room ? std::uniform_int_distribution<size_t>(0, b.size() - room)(rng) : 0;
  };
  switch (rng() % 6) {
    case 0:  // flip 1-4 bits
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n && !b.empty(); ++i) {
        b[at(1)] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
      break;
    case 1: {  // a little-endian field of 1, 2, 4 or 8 bytes set to a boundary value
      static const uint64_t kValues[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                         0x7fffffffffffffff, 0x8000000000000000, ~uint64_t{0}, 64, 1024, 1u << 20};
      const size_t width = size_t{1} << (rng() % 4);
      if (b.size() < width) break;
      const uint64_t v = kValues[rng() % std::size(kValues)];
      const size_t o = at(width);
      for (size_t i = 0; i < width; ++i) b[o + i] = static_cast<uint8_t>(v >> (8 * i));
      break;
    }
    case 2:  // truncated
      b.resize(at(0));
      break;
    case 3: {  // a range cut out
      const size_t o = at(0), n = std::min<size_t>(b.size() - o, 1 + rng() % 16);
      b.erase(b.begin() + static_cast<ptrdiff_t>(o), b.begin() + static_cast<ptrdiff_t>(o + n));
      break;
    }
    case 4: {  // random bytes inserted
      const size_t o = at(0);
      std::vector<uint8_t> extra(1 + rng() % 16);
      for (uint8_t& x : extra) x = static_cast<uint8_t>(rng());
      b.insert(b.begin() + static_cast<ptrdiff_t>(o), extra.begin(), extra.end());
      break;
    }
    default: {  // a range repeated
      const size_t o = at(0), n = std::min<size_t>(b.size() - o, 1 + rng() % 64);
      const std::vector<uint8_t> copy(b.begin() + static_cast<ptrdiff_t>(o), b.begin() + static_cast<ptrdiff_t>(o + n));
      b.insert(b.begin() + static_cast<ptrdiff_t>(o), copy.begin(), copy.end());
      break;
    }
  }
  return b;
}

class MutatedInput : public ::testing::TestWithParam<fuzz::FormatCheck> {};

TEST_P(MutatedInput, EndsInAValueOrAnErrorAndKeepsTheFormatsProperty) {
  const fuzz::FormatCheck format = GetParam();
  const fs::path dir = fs::path(ANE_FUZZ_CORPUS_DIR) / format.family;
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " is missing (fuzz/make-seeds.sh writes it)";
  std::vector<fs::path> seeds;
  for (const auto& e : fs::directory_iterator(dir)) seeds.push_back(e.path());
  std::sort(seeds.begin(), seeds.end());
  ASSERT_FALSE(seeds.empty()) << dir;
  constexpr int kMutationsPerSeed = 4000;
  std::mt19937_64 rng(20261127);
  int accepted = 0;
  for (const fs::path& path : seeds) {
    auto read = read_file(path.string());
    ASSERT_TRUE(read.ok()) << read.error().to_string();
    const std::vector<uint8_t>& seed = *read;
    const fuzz::Verdict clean = format.check(seed);
    EXPECT_TRUE(clean.accepted) << path << ": the seed itself is refused, so it seeds nothing";
    EXPECT_EQ(clean.failure, "") << path;
    for (int i = 0; i < kMutationsPerSeed; ++i) {
      std::vector<uint8_t> input = mutate(seed, rng);
      // Every other corruption of a format with checksums gets them rewritten, to reach the
      // reader's checks behind them.
      if (format.repair != nullptr && i % 2 == 1) format.repair(input);
      const fuzz::Verdict v = format.check(input);
      ASSERT_EQ(v.failure, "") << path << ", mutation " << i;
      accepted += v.accepted;
    }
  }
  // How much of the corruption the format tolerates (text formats most): for the log only.
  std::printf("%s: %zu seeds, %d of %zu corruptions accepted\n", format.family, seeds.size(), accepted,
              seeds.size() * kMutationsPerSeed);
}

INSTANTIATE_TEST_SUITE_P(Formats, MutatedInput,
                         ::testing::ValuesIn(fuzz::format_checks().begin(), fuzz::format_checks().end()),
                         [](const auto& p) { return std::string(p.param.family); });

}  // namespace
}  // namespace ane
