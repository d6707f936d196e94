// Engine: declared surface sizes, the compile budget, front-end errors.
#include "runtime/engine.h"

#include <gtest/gtest.h>

#include "runtime_test_util.h"

namespace ane {
namespace {

using testing::affine_program;
using testing::make_engine;

const size_t kBytes = 1 * 8 * 1 * 4 * 2;  // fp16 [1, 8, 1, 4]

TEST(Engine, CompilesAndCounts) {
  auto engine = make_engine();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->compile_count(), 0);
  const size_t in[] = {kBytes}, out[] = {kBytes};
  auto k = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out);
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ(engine->compile_count(), 1);
  EXPECT_EQ((*k)->num_inputs(), 1u);
  EXPECT_EQ((*k)->num_outputs(), 1u);
  EXPECT_EQ((*k)->input(0)->size(), kBytes);
}

TEST(Engine, ReportsEverySizeMismatch) {
  auto engine = make_engine();
  const size_t in[] = {100}, out[] = {kBytes, 4};
  auto k = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code(), ErrorCode::kInvalidArgument);
  const std::string msg = k.error().message();
  EXPECT_NE(msg.find("input 0 'x': declared 100 bytes but tensor<fp16, [1, 8, 1, 4]> is 64 bytes"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("declared 2 outputs but the function has 1"), std::string::npos) << msg;
  EXPECT_EQ(engine->compile_count(), 0);  // failed compiles do not count
}

TEST(Engine, BudgetExceededIsADistinctError) {
  auto engine = make_engine(3);
  const size_t in[] = {kBytes}, out[] = {kBytes};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine->compile_program(affine_program(8, 4, 1, 0), {}, in, out).ok());
  auto k = engine->compile_program(affine_program(8, 4, 1, 0), {}, in, out);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code(), ErrorCode::kBudgetExceeded);
  EXPECT_EQ(engine->compile_count(), 3);
  engine->reset_compile_count();
  EXPECT_EQ(engine->compile_count(), 0);
  EXPECT_TRUE(engine->compile_program(affine_program(8, 4, 1, 0), {}, in, out).ok());
}

TEST(Engine, ZeroBudgetIsUnlimitedAndBudgetsAreIndependent) {
  auto unlimited = make_engine(0);
  auto small = make_engine(1);
  const size_t in[] = {kBytes}, out[] = {kBytes};
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(unlimited->compile_program(affine_program(8, 4, 1, 0), {}, in, out).ok());
  EXPECT_TRUE(small->compile_program(affine_program(8, 4, 1, 0), {}, in, out).ok());
  EXPECT_EQ(small->compile_program(affine_program(8, 4, 1, 0), {}, in, out).error().code(), ErrorCode::kBudgetExceeded);
}

TEST(Engine, RejectsBadOptionsMissingFunctionAndNullProgram) {
  EngineOptions o;
  o.backend = "tpu";
  EXPECT_EQ(Engine::create(o).error().code(), ErrorCode::kInvalidArgument);
  o.backend = "ref";
  o.compile_budget = -1;
  EXPECT_FALSE(Engine::create(o).ok());
  auto engine = make_engine();
  const size_t in[] = {kBytes}, out[] = {kBytes};
  auto k = engine->compile_program(affine_program(8, 4, 1, 0), {}, in, out, "backward");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message().find("'backward'"), std::string::npos);
  EXPECT_FALSE(engine->compile_program(nullptr, {}, in, out).ok());
  EXPECT_EQ(engine->compile_count(), 0);
}

TEST(Engine, UnknownOpFailsVerificationWithItsLocation) {
  testing::FnBuilder b;
  auto* x = b.param("x", testing::fp16({4}));
  b.returns({b.op("mystery", {{"x", x}}, testing::fp16({4}))});
  auto engine = make_engine();
  const size_t in[] = {8}, out[] = {8};
  auto k = engine->compile_program(b.finish(), {}, in, out);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code(), ErrorCode::kVerify);
  EXPECT_NE(k.error().to_string().find("unknown op 'mystery'"), std::string::npos);
  EXPECT_GT(k.error().where().line, 0);
}

TEST(Engine, TextWithoutMainIsAnErrorAndCostsNoCompile) {
  auto engine = make_engine();
  const size_t in[] = {kBytes}, out[] = {kBytes};
  auto k = engine->compile("program(1.3) { }", {}, in, out);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(engine->compile_count(), 0);
}

TEST(Engine, PerCompileOptionsOverrideTheEngines) {
  EngineOptions o;
  o.precision = Precision::kFp32;
  o.threads = 3;
  auto created = Engine::create(o);
  ASSERT_TRUE(created.ok());
  auto& engine = *created;
  const size_t in[] = {kBytes}, out[] = {kBytes};
  auto plain = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out);
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ((*plain)->compile_options().precision, Precision::kFp32);
  EXPECT_EQ((*plain)->compile_options().threads, 3);
  EXPECT_EQ((*plain)->compile_options().pool, engine->thread_pool());  // the engine's threads

  CompileOptions override_opts;
  override_opts.precision = Precision::kFp16;
  override_opts.threads = 1;
  auto k = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out, "main", override_opts);
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ((*k)->compile_options().precision, Precision::kFp16);
  EXPECT_EQ((*k)->compile_options().threads, 1);
  EXPECT_EQ((*k)->compile_options().pool, nullptr);  // a pool of its own, of one thread
  EXPECT_EQ(engine->options().precision, Precision::kFp32);  // the engine's own are unchanged

  override_opts.threads = -2;
  auto bad = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out, "main", override_opts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("threads must be >= 0"), std::string::npos) << bad.error().message();
  EXPECT_EQ(engine->compile_count(), 2);  // the failed compile gave its count back
}

// Kernels compiled for the engine's thread count run on the engine's pool, whatever options
// they were compiled with, so kernels and the CPU work between them find the same threads warm.
TEST(Engine, KernelsOfItsThreadCountShareItsPool) {
  EngineOptions o;
  o.threads = 2;
  auto created = Engine::create(o);
  ASSERT_TRUE(created.ok());
  auto& engine = *created;
  ASSERT_NE(engine->thread_pool(), nullptr);
  EXPECT_EQ(engine->thread_pool()->size(), 2);
  const size_t in[] = {kBytes}, out[] = {kBytes};
  CompileOptions fp16_two;
  fp16_two.precision = Precision::kFp16;
  fp16_two.threads = 2;
  auto k = engine->compile_program(affine_program(8, 4, 2, 1), {}, in, out, "main", fp16_two);
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ((*k)->compile_options().pool, engine->thread_pool());
  EXPECT_GT(engine->thread_pool().use_count(), 1);
  k->reset();
  EXPECT_EQ(engine->thread_pool().use_count(), 1);  // the kernel held the pool, and let it go
}

}  // namespace
}  // namespace ane
