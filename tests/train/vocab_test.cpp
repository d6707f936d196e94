// Vocabulary maps: windows remapped to compact rows, rows lined up by id, `auto` compacting
// exactly below half the vocabulary, and a checkpoint whose moments disagree with its map
// refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "train/vocab.h"

namespace ane::train {
namespace {

TEST(CompactVocab, AutoCompactsBelowHalfTheVocabulary) {
  EXPECT_FALSE(compacts(CompactVocab::kAuto, 128, 256));
  EXPECT_TRUE(compacts(CompactVocab::kAuto, 127, 256));
  EXPECT_TRUE(compacts(CompactVocab::kAuto, 128, 257));
  EXPECT_FALSE(compacts(CompactVocab::kAuto, 129, 257));
  EXPECT_TRUE(compacts(CompactVocab::kOn, 256, 256));
  EXPECT_FALSE(compacts(CompactVocab::kOff, 1, 256));
}

TEST(VocabMap, RemapsWindowsAndRealignsRowsById) {
  EXPECT_FALSE(VocabMap::of({3, 2}, 10).ok());
  EXPECT_FALSE(VocabMap::of({2, 2}, 10).ok());
  EXPECT_FALSE(VocabMap::of({2, 10}, 10).ok());
  EXPECT_FALSE(VocabMap::of({}, 10).ok());
  EXPECT_FALSE(VocabMap::of({70000}, 151936).ok()) << "data ids are uint16";
  const VocabMap a = VocabMap::of({1, 4, 7}, 10).value(), b = VocabMap::of({0, 4, 7, 9}, 10).value();
  std::vector<uint16_t> scratch;
  const std::vector<uint16_t> window{7, 1, 4, 7};
  const auto mapped = a.remap(window, scratch);
  EXPECT_EQ(std::vector<uint16_t>(mapped.begin(), mapped.end()), (std::vector<uint16_t>{2, 0, 1, 2}));
  const VocabMap all = VocabMap::all(10);
  EXPECT_EQ(all.remap(window, scratch).data(), window.data()) << "every id: the window as is";
  // rows of width 2 holding their id
  const std::vector<float> in{1, 1, 4, 4, 7, 7};
  std::vector<float> out(8, -1);
  realign_rows(in, a, out, b, 2);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 4, 4, 7, 7, 0, 0}));
  std::vector<float> full(20, -1);
  realign_rows(in, a, full, all, 2);
  EXPECT_EQ(full, (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 7, 7, 0, 0, 0, 0}));
}

TEST(VocabMap, AMisShapedCheckpointIsAnError) {
  const ModelConfig c = model_preset("tiny").value();
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value()).ok());
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value(), "adam.m.").ok());
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value(), "adam.v.").ok());
  const std::vector<int32_t> ids{1, 5};
  ck.tensors.push_back(NamedTensor::of<int32_t>(kActiveIdsTensor, {2}, ids));
  auto r = align_state(ck, VocabMap::of({1, 5, 9}, c.vocab_size).value());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("adam.m.embedding"), std::string::npos) << r.error().to_string();
}

}  // namespace
}  // namespace ane::train
