// Shape ops: element placement checked against explicit index formulas.
#include "backends/ref/shape.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "../support/mil_fixture.h"
#include "ref_test_util.h"

namespace ane::ref {
namespace {

using testing::FnBuilder;
using testing::fp32;

// 0, 1, 2, ... so every output names the input element it came from.
DTensor iota(Shape shape) {
  DTensor t(fp32(std::move(shape)));
  std::iota(t.data.begin(), t.data.end(), 0.0);
  return t;
}
std::vector<double> iota_values(size_t n) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return v;
}

TEST(Shape, TransposeMovesEveryElement) {
  const DTensor x = iota({2, 3, 4, 5});
  DTensor y(fp32({4, 2, 5, 3}));
  transpose(x, {2, 0, 3, 1}, y);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 5; ++c)
        for (int d = 0; d < 3; ++d) ASSERT_EQ(y[((a * 2 + b) * 5 + c) * 3 + d], ((b * 3 + d) * 4 + a) * 5 + c);
}

TEST(Shape, ConcatAlongChannels) {
  const DTensor a = iota({1, 2, 1, 3});
  DTensor b = iota({1, 1, 1, 3});
  for (double& v : b.data) v += 100;
  DTensor y(fp32({1, 3, 1, 3}));
  concat({&a, &b}, 1, false, y);
  EXPECT_EQ(y.data, (std::vector<double>{0, 1, 2, 3, 4, 5, 100, 101, 102}));
}

TEST(Shape, ConcatInterleaveAlternatesInputs) {
  const DTensor a = iota({2, 2});
  DTensor b = iota({2, 2});
  for (double& v : b.data) v += 10;
  DTensor y0(fp32({4, 2})), y1(fp32({2, 4}));
  concat({&a, &b}, 0, true, y0);
  concat({&a, &b}, 1, true, y1);
  EXPECT_EQ(y0.data, (std::vector<double>{0, 1, 10, 11, 2, 3, 12, 13}));
  EXPECT_EQ(y1.data, (std::vector<double>{0, 10, 1, 11, 2, 12, 3, 13}));
}

TEST(Shape, ConcatAndSplitThroughBackendAreInverse) {
  FnBuilder b;
  auto* x = b.param("x", fp32({2, 3}));
  auto* y = b.param("y", fp32({2, 1}));
  auto* cat = b.op("concat", {testing::Arg("values", {x, y}, true), {"axis", b.int_lit(-1)},
                              {"interleave", b.bool_lit(false)}},
                   fp32({2, 4}));
  auto parts = b.ops("split", {{"x", cat}, {"axis", b.int_lit(1)}, {"split_sizes", b.ints_lit({1, 3})}},
                     {fp32({2, 1}), fp32({2, 3})});
  b.returns({cat, parts[0], parts[1]});
  auto out = testing::run_ref(b.fn(), {{0, 1, 2, 3, 4, 5}, {9, 8}});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{0, 1, 2, 9, 3, 4, 5, 8}));
  EXPECT_EQ((*out)[1], (std::vector<double>{0, 3}));
  EXPECT_EQ((*out)[2], (std::vector<double>{1, 2, 9, 4, 5, 8}));
}

TEST(Shape, SliceBySizeWithMinusOneToTheEnd) {
  FnBuilder b;
  auto* x = b.param("x", fp32({1, 6, 1, 4}));
  b.returns({b.op("slice_by_size", {{"x", x}, {"begin", b.ints_lit({0, 2, 0, 1})}, {"size", b.ints_lit({1, 3, 1, -1})}},
                  fp32({1, 3, 1, 3}))});
  auto out = testing::run_ref(b.fn(), {iota_values(24)});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  std::vector<double> want;
  for (int c = 2; c < 5; ++c)
    for (int s = 1; s < 4; ++s) want.push_back(c * 4 + s);
  EXPECT_EQ((*out)[0], want);
}

TEST(Shape, SliceBySizeOutOfBoundsIsAnError) {
  FnBuilder b;
  auto* x = b.param("x", fp32({4}));
  b.returns({b.op("slice_by_size", {{"x", x}, {"begin", b.ints_lit({3})}, {"size", b.ints_lit({2})}}, fp32({2}))});
  auto out = testing::run_ref(b.fn(), {{0, 0, 0, 0}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().where().line, b.line());
}

TEST(Shape, SliceByIndexStridesMasksAndSqueeze) {
  FnBuilder b;
  auto* x = b.param("x", fp32({3, 8}));
  // Row 1 (squeezed), columns 7, 5, 3 (negative stride from the end, end exclusive at 1).
  auto* a = b.op("slice_by_index", {{"x", x}, {"begin", b.ints_lit({1, -1})}, {"end", b.ints_lit({2, 1})},
                                    {"stride", b.ints_lit({1, -2})}, {"squeeze_mask", b.bools_lit({true, false})}},
                 fp32({3}));
  // All rows (masks), columns 2, 5 (end 7 exclusive, stride 3).
  auto* c = b.op("slice_by_index", {{"x", x}, {"begin", b.ints_lit({5, 2})}, {"end", b.ints_lit({0, 7})},
                                    {"stride", b.ints_lit({1, 3})}, {"begin_mask", b.bools_lit({true, false})},
                                    {"end_mask", b.bools_lit({true, false})}},
                 fp32({3, 2}));
  b.returns({a, c});
  auto out = testing::run_ref(b.fn(), {iota_values(24)});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{15, 13, 11}));
  EXPECT_EQ((*out)[1], (std::vector<double>{2, 5, 10, 13, 18, 21}));
}

TEST(Shape, TileRepeatsAlongEachAxis) {
  const DTensor x = iota({2, 3});
  DTensor y(fp32({4, 6}));
  tile(x, y);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j) ASSERT_EQ(y[i * 6 + j], x[(i % 2) * 3 + j % 3]);
}

TEST(Shape, GatherRowsWithNegativeIndices) {
  const DTensor x = iota({4, 3});
  const DTensor idx(testing::i32({2, 2}), {3, 0, -1, 1});
  DTensor y(fp32({2, 2, 3}));
  ASSERT_TRUE(gather(x, idx, 0, 0, y).ok());
  const int rows[] = {3, 0, 3, 1};
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(y[i * 3 + c], rows[i] * 3 + c);
  const DTensor bad(testing::i32({1}), {4});
  DTensor y1(fp32({1, 3}));
  EXPECT_EQ(gather(x, bad, 0, 0, y1).error().code(), ErrorCode::kOutOfRange);
  const DTensor nan_index(fp32({1}), {std::nan("")});
  EXPECT_EQ(gather(x, nan_index, 0, 0, y1).error().code(), ErrorCode::kOutOfRange);
}

TEST(Shape, GatherAlongAxisWithBatchDims) {
  const DTensor x = iota({2, 3, 4});           // b, p, n
  const DTensor idx(testing::i32({2, 2}), {3, 0, 1, 1});  // per batch
  DTensor y(fp32({2, 3, 2}));
  ASSERT_TRUE(gather(x, idx, 2, 1, y).ok());
  for (int b = 0; b < 2; ++b)
    for (int p = 0; p < 3; ++p)
      for (int i = 0; i < 2; ++i) EXPECT_EQ(y[(b * 3 + p) * 2 + i], (b * 3 + p) * 4 + idx[b * 2 + i]);
}

TEST(Shape, ReshapeExpandSqueezeKeepOrderThroughBackend) {
  FnBuilder b;
  auto* x = b.param("x", fp32({1, 6, 1, 2}));
  auto* r = b.op("reshape", {{"x", x}, {"shape", b.ints_lit({1, 2, 3, 2})}}, fp32({1, 2, 3, 2}));
  auto* t = b.op("transpose", {{"x", r}, {"perm", b.ints_lit({0, 1, 3, 2})}}, fp32({1, 2, 2, 3}));
  auto* s = b.op("squeeze", {{"x", t}, {"axes", b.ints_lit({0})}}, fp32({2, 2, 3}));
  auto* e = b.op("expand_dims", {{"x", s}, {"axes", b.ints_lit({0})}}, fp32({1, 2, 2, 3}));
  b.returns({e});
  auto out = testing::run_ref(b.fn(), {iota_values(12)});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ((*out)[0], (std::vector<double>{0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11}));
}

}  // namespace
}  // namespace ane::ref
