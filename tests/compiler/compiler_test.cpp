// Compiler passes: the memory planner's sharing and peak, DCE/CSE on a small graph, op costs.
#include <gtest/gtest.h>

#include "compiler/graph.h"
#include "compiler/memory_plan.h"
#include "compiler/op_cost.h"
#include "mil/builder.h"

namespace ane::compiler {
namespace {

TEST(MemoryPlan, BuffersAliveAtOnceNeverOverlapAndDeadOnesShare) {
  const BufferLife lives[] = {{1000, 0, 2}, {500, 1, 3}, {1000, 3, 5}, {64, 4, 4}, {2000, 6, 7}};
  const MemoryPlan p = plan_memory(lives);
  for (size_t i = 0; i < std::size(lives); ++i) {
    EXPECT_EQ(p.offsets[i] % 64, 0u);
    for (size_t j = 0; j < i; ++j) {
      const bool in_time = lives[i].first <= lives[j].last && lives[j].first <= lives[i].last;
      const bool in_space = p.offsets[i] < p.offsets[j] + lives[j].bytes && p.offsets[j] < p.offsets[i] + lives[i].bytes;
      EXPECT_FALSE(in_time && in_space) << i << " and " << j;
    }
  }
  EXPECT_EQ(p.peak_bytes, 2048u);  // the 2000-byte buffer outlives everything else
  EXPECT_GT(p.total_bytes, p.peak_bytes);
}

TEST(Graph, DropsDeadOpsAndMergesDuplicates) {
  mil::Builder b;
  mil::Value* x = b.input("x", {mil::DType::kFp32, {4}});
  mil::Value* a = b.relu(x);
  mil::Value* a2 = b.relu(x);
  b.sigmoid(x);  // dead
  b.output(b.add(a, a2));
  auto p = b.finish();
  ASSERT_TRUE(p.ok());
  const GraphAnalysis g = analyze_graph(*(*p)->functions[0]);
  EXPECT_EQ(g.dead_ops, 1);
  EXPECT_EQ(g.merged_ops, 1);
  EXPECT_EQ(g.canonical(a2), a);
  EXPECT_EQ(g.ops.size(), 2u);
  const GraphAnalysis none = analyze_graph(*(*p)->functions[0], {false, false});
  EXPECT_EQ(none.ops.size(), (*p)->functions[0]->ops.size());
}

TEST(OpCost, ConvAndMatmulCountMultiplyAdds) {
  mil::Builder b;
  mil::Value* x = b.input("x", {mil::DType::kFp16, {1, 768, 1, 256}});
  mil::Value* w = b.const_blob("w", {mil::DType::kFp16, {2048, 768, 1, 1}}, "@model_path/w.bin", 64);
  mil::Value* y = b.conv(x, w);
  mil::Value* q = b.input("q", {mil::DType::kFp32, {2, 16, 32}});
  mil::Value* k = b.input("k", {mil::DType::kFp32, {2, 16, 32}});
  mil::Value* s = b.matmul(q, k, false, true);
  b.output(y);
  b.output(s);
  const auto& fn = *b.program()->functions[0];
  const OpCost conv = op_cost(*y->producer);
  EXPECT_EQ(conv.flops, 2.0 * 2048 * 768 * 256);
  EXPECT_NEAR(conv.bytes, 2.0 * (768 * 256 + 2048 * 768 + 2048 * 256), 100);  // + the small parameter consts
  EXPECT_EQ(op_cost(*s->producer).flops, 2.0 * 2 * 16 * 16 * 32);
  (void)fn;
}

}  // namespace
}  // namespace ane::compiler
