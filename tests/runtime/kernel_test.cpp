// Kernel and Surface: I/O bounds, persistence across runs, chaining, threads.
#include "runtime/kernel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <random>
#include <thread>

#include "core/shared_arena.h"
#include "runtime/engine.h"
#include "runtime_test_util.h"

namespace ane {
namespace {

using testing::affine_program;
using testing::floats_of_halves;
using testing::halves;
using testing::make_engine;
using testing::softmax_residual_program;

constexpr int64_t kC = 8, kS = 4;
constexpr size_t kBytes = kC * kS * 2;

std::unique_ptr<Kernel> compile_affine(Engine& engine, double k, double b) {
  const size_t in[] = {kBytes}, out[] = {kBytes};
  auto kernel = engine.compile_program(affine_program(kC, kS, k, b), {}, in, out);
  EXPECT_TRUE(kernel.ok()) << kernel.error().to_string();
  return kernel.ok() ? std::move(*kernel) : nullptr;
}

std::vector<float> ramp(size_t n, float start = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

std::vector<float> read_all(const Kernel& k, size_t idx = 0) {
  std::vector<uint8_t> bytes(k.output(idx)->size());
  EXPECT_TRUE(k.read_output(idx, bytes).ok());
  return floats_of_halves(bytes);
}

TEST(Surface, IsAlignedZeroFilledAndBoundsChecked) {
  auto s = Surface::create(testing::fp16({1, 3, 1, 5}));
  EXPECT_EQ(s->size(), 30u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s->data()) % 64, 0u);
  for (size_t i = 0; i < s->size(); ++i) ASSERT_EQ(s->data()[i], 0);
  std::vector<uint8_t> big(31);
  EXPECT_EQ(s->write(big).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(s->read(big).error().code(), ErrorCode::kOutOfRange);
}

TEST(Kernel, RunsWrittenInputs) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 2, 1);
  ASSERT_TRUE(k);
  ASSERT_TRUE(k->write_input(0, halves(ramp(kC * kS))).ok());
  ASSERT_TRUE(k->run().ok());
  const auto y = read_all(*k);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], 2 * static_cast<float>(i) + 1);
}

TEST(Kernel, WriteInputRejectsBadIndexAndOversizeButWritesPrefixes) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 1, 0);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->write_input(1, halves({1})).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(k->write_input(0, std::vector<uint8_t>(kBytes + 1)).error().code(), ErrorCode::kOutOfRange);
  std::vector<uint8_t> out(kBytes + 2);
  EXPECT_EQ(k->read_output(0, out).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(k->read_output(3, std::span(out).first(2)).error().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(k->input(5), nullptr);
  EXPECT_EQ(k->output(1), nullptr);

  ASSERT_TRUE(k->write_input(0, halves(ramp(kC * kS, 100))).ok());
  ASSERT_TRUE(k->write_input(0, halves({-1, -2})).ok());  // a prefix: the rest stays
  ASSERT_TRUE(k->run().ok());
  const auto y = read_all(*k);
  EXPECT_EQ(y[0], -1);
  EXPECT_EQ(y[1], -2);
  EXPECT_EQ(y[2], 102);
}

TEST(Kernel, SurfacesPersistAcrossRuns) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 1, 5);
  ASSERT_TRUE(k);
  ASSERT_TRUE(k->write_input(0, halves(ramp(kC * kS))).ok());
  ASSERT_TRUE(k->run().ok());
  const auto first = read_all(*k);
  ASSERT_TRUE(k->run().ok());  // same input contents, nothing rewritten
  EXPECT_EQ(read_all(*k), first);
  // Zero-copy write through data(): only element 3 changes.
  const half_bits h = float_to_half(1000);
  std::memcpy(k->input(0)->data() + 6, &h, 2);
  ASSERT_TRUE(k->run().ok());
  const auto third = read_all(*k);
  EXPECT_EQ(third[3], 1005);
  EXPECT_EQ(third[4], first[4]);
}

TEST(Kernel, ChainsOutputSurfaceIntoAnotherKernelsInput) {
  auto engine = make_engine();
  auto a = compile_affine(*engine, 2, 0);  // y = 2x
  auto b = compile_affine(*engine, 1, 3);  // z = y + 3
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->bind_input(0, a->output(0)).ok());
  EXPECT_EQ(b->input(0).get(), a->output(0).get());  // the same memory, no copy
  ASSERT_TRUE(a->write_input(0, halves(ramp(kC * kS))).ok());
  ASSERT_TRUE(a->run().ok());
  ASSERT_TRUE(b->run().ok());
  const auto z = read_all(*b);
  for (size_t i = 0; i < z.size(); ++i) EXPECT_EQ(z[i], 2 * static_cast<float>(i) + 3);
  // The chain sees new values on the next runs without rebinding.
  ASSERT_TRUE(a->write_input(0, halves(ramp(kC * kS, 10))).ok());
  ASSERT_TRUE(a->run().ok());
  ASSERT_TRUE(b->run().ok());
  EXPECT_EQ(read_all(*b)[0], 23);
}

TEST(Kernel, BindInputChecksDtypeSizeAndAliasing) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 1, 0);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->bind_input(0, nullptr).ok());
  EXPECT_FALSE(k->bind_input(0, Surface::create(testing::fp32({1, kC, 1, kS}))).ok());      // dtype
  EXPECT_FALSE(k->bind_input(0, Surface::create(testing::fp16({1, kC, 1, kS + 1}))).ok());  // size
  EXPECT_FALSE(k->bind_input(0, k->output(0)).ok());                                        // its own output
  EXPECT_EQ(k->bind_input(1, Surface::create(testing::fp16({1, kC, 1, kS}))).error().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(k->bind_input(0, Surface::create(testing::fp16({1, kS, 1, kC}))).ok());  // same bytes, other shape
}

// A bound output receives the results (the kernel's own surface is released), and each run
// overwrites it; binding checks as bind_input does, plus aliasing with the inputs.
TEST(Kernel, BindOutputWritesIntoTheCallersSurface) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 2, 1);
  ASSERT_TRUE(k);
  std::vector<std::shared_ptr<Surface>> per_layer = {Surface::create(testing::fp16({1, kC, 1, kS})),
                                                     Surface::create(testing::fp16({1, kC, 1, kS}))};
  for (size_t l = 0; l < per_layer.size(); ++l) {
    ASSERT_TRUE(k->bind_output(0, per_layer[l]).ok());
    EXPECT_EQ(k->output(0).get(), per_layer[l].get());
    ASSERT_TRUE(k->write_input(0, halves(ramp(kC * kS, static_cast<float>(10 * l)))).ok());
    ASSERT_TRUE(k->run().ok());
  }
  for (size_t l = 0; l < per_layer.size(); ++l) {  // each holds its own run's results
    const auto y = floats_of_halves(per_layer[l]->bytes());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], 2 * (static_cast<float>(10 * l + i)) + 1) << l << " " << i;
  }
  EXPECT_FALSE(k->bind_output(0, nullptr).ok());
  EXPECT_FALSE(k->bind_output(0, Surface::create(testing::fp32({1, kC, 1, kS}))).ok());      // dtype
  EXPECT_FALSE(k->bind_output(0, Surface::create(testing::fp16({1, kC, 1, kS + 1}))).ok());  // size
  EXPECT_FALSE(k->bind_output(0, k->input(0)).ok());                                         // its own input
  EXPECT_EQ(k->bind_output(1, per_layer[0]).error().code(), ErrorCode::kOutOfRange);

  // Two outputs may not share a surface.
  testing::FnBuilder fb;
  auto* x = fb.param("x", testing::fp16({1, kC, 1, kS}));
  auto* doubled = fb.op("add", {{"x", x}, {"y", x}}, testing::fp16({1, kC, 1, kS}));
  auto* squared = fb.op("mul", {{"x", x}, {"y", x}}, testing::fp16({1, kC, 1, kS}));
  fb.returns({doubled, squared});
  const size_t in[] = {kBytes}, out[] = {kBytes, kBytes};
  auto two = engine->compile_program(fb.finish(), {}, in, out);
  ASSERT_TRUE(two.ok()) << two.error().to_string();
  ASSERT_TRUE((*two)->bind_output(0, per_layer[0]).ok());
  EXPECT_FALSE((*two)->bind_output(1, per_layer[0]).ok());
  EXPECT_TRUE((*two)->bind_output(1, per_layer[1]).ok());
}

TEST(Kernel, KernelsOutliveTheirEngine) {
  std::unique_ptr<Kernel> k;
  {
    auto engine = make_engine();
    k = compile_affine(*engine, 3, 0);
  }
  ASSERT_TRUE(k);
  ASSERT_TRUE(k->write_input(0, halves({1, 2})).ok());
  ASSERT_TRUE(k->run().ok());
  EXPECT_EQ(read_all(*k)[1], 6);
}

TEST(Kernel, TwoKernelsRunConcurrentlyOnTwoThreads) {
  auto engine = make_engine();
  auto a = compile_affine(*engine, 2, 0);
  auto b = compile_affine(*engine, -1, 4);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->write_input(0, halves(ramp(kC * kS))).ok());
  ASSERT_TRUE(b->write_input(0, halves(ramp(kC * kS))).ok());
  std::atomic<int> failures{0};
  auto loop = [&failures](Kernel* k) {
    for (int i = 0; i < 200; ++i) {
      if (!k->run().ok()) ++failures;
    }
  };
  std::thread ta(loop, a.get()), tb(loop, b.get());
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(read_all(*a)[5], 10);
  EXPECT_EQ(read_all(*b)[5], -1);
}

// Kernels compiled with one shared arena, each against the same program compiled with an arena
// of its own: shapes differ so that each run leaves the shared arena in another state.
struct TurnPair {
  std::unique_ptr<Kernel> shared, own;
  std::vector<uint8_t> input;
};

std::vector<TurnPair> turn_pairs(Engine& engine, int threads) {
  auto arena = SharedArena::reserve(size_t{1} << 30);
  if (!arena.ok()) return {};
  CompileOptions turns, plain;
  turns.threads = plain.threads = threads;
  turns.shared_arena = *arena;
  std::vector<TurnPair> pairs;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-3, 3);
  const struct { int64_t c, s; double k; } shapes[] = {{16, 8, 1.5}, {64, 4, -0.5}, {8, 32, 3.0}};
  for (const auto& sh : shapes) {
    const size_t bytes[] = {static_cast<size_t>(sh.c * sh.s * 2)};
    auto a = engine.compile_program(softmax_residual_program(sh.c, sh.s, sh.k), {}, bytes, bytes, "main", turns);
    auto b = engine.compile_program(softmax_residual_program(sh.c, sh.s, sh.k), {}, bytes, bytes, "main", plain);
    if (!a.ok() || !b.ok()) return {};
    std::vector<float> x(static_cast<size_t>(sh.c * sh.s));
    for (float& v : x) v = u(rng);
    pairs.push_back({std::move(*a), std::move(*b), halves(x)});
  }
  return pairs;
}

TEST(Kernel, KernelsSharingAnArenaGiveTheSameResults) {
  auto engine = make_engine(0);
  std::vector<TurnPair> pairs = turn_pairs(*engine, 0);
  ASSERT_EQ(pairs.size(), 3u);
  for (const TurnPair& p : pairs) {
    EXPECT_TRUE(p.shared->stats().in_shared_arena);
    EXPECT_FALSE(p.own->stats().in_shared_arena);
    EXPECT_GT(p.shared->stats().arena_bytes, 0u);
    ASSERT_TRUE(p.shared->write_input(0, p.input).ok() && p.own->write_input(0, p.input).ok());
    ASSERT_TRUE(p.own->run().ok());
  }
  for (int round = 0; round < 3; ++round) {  // each kernel finds the arena as another left it
    for (size_t i = 0; i < pairs.size(); ++i) {
      const TurnPair& p = pairs[(i + static_cast<size_t>(round)) % pairs.size()];
      ASSERT_TRUE(p.shared->run().ok());
      EXPECT_EQ(read_all(*p.shared), read_all(*p.own)) << "round " << round << ", kernel " << i;
    }
  }
}

TEST(Kernel, KernelsSharingAnArenaRunOneAtATimeFromTwoThreads) {
  auto engine = make_engine(0);
  std::vector<TurnPair> pairs = turn_pairs(*engine, 1);
  ASSERT_EQ(pairs.size(), 3u);
  for (const TurnPair& p : pairs) {
    ASSERT_TRUE(p.shared->write_input(0, p.input).ok() && p.own->write_input(0, p.input).ok());
    ASSERT_TRUE(p.own->run().ok());
  }
  // Two threads run two kernels that share the arena over and over; every result must be
  // the kernel's own, which it would not be if the runs overlapped in the arena.
  std::atomic<int> failures{0}, wrong{0};
  auto loop = [&](const TurnPair& p) {
    const std::vector<float> want = read_all(*p.own);
    for (int i = 0; i < 100; ++i) {
      if (!p.shared->run().ok()) ++failures;
      if (read_all(*p.shared) != want) ++wrong;
    }
  };
  std::thread ta(loop, std::cref(pairs[0])), tb(loop, std::cref(pairs[1]));
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(SharedArena, AReservationTheSystemRefusesIsAnError) {
  auto arena = SharedArena::reserve(size_t{1} << 62);
  ASSERT_FALSE(arena.ok());
  EXPECT_EQ(arena.error().code(), ErrorCode::kIo);
  EXPECT_NE(arena.error().message().find("shared arena"), std::string::npos) << arena.error().message();
}

TEST(Kernel, SharedSurfaceBetweenConcurrentKernelsIsLocked) {
  auto engine = make_engine();
  auto producer = compile_affine(*engine, 1, 1);
  auto consumer = compile_affine(*engine, 1, 0);
  ASSERT_TRUE(producer && consumer);
  ASSERT_TRUE(consumer->bind_input(0, producer->output(0)).ok());
  ASSERT_TRUE(producer->write_input(0, halves(std::vector<float>(kC * kS, 7))).ok());
  std::atomic<int> failures{0};
  std::thread tp([&] {
    for (int i = 0; i < 200; ++i) failures += !producer->run().ok();
  });
  std::thread tc([&] {
    for (int i = 0; i < 200; ++i) {
      failures += !consumer->run().ok();
      const auto y = read_all(*consumer);
      for (float v : y) {
        if (v != 0 && v != 8) ++failures;  // never a torn mix of old and new bytes
      }
    }
  });
  tp.join();
  tc.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Kernel, ConcurrentRunOfOneKernelFailsCleanlyInsteadOfRacing) {
  auto engine = make_engine();
  auto k = compile_affine(*engine, 1, 0);
  ASSERT_TRUE(k);
  std::atomic<int> ok{0}, busy{0}, other{0};
  auto loop = [&] {
    for (int i = 0; i < 200; ++i) {
      Status st = k->run();
      if (st.ok()) ++ok;
      else if (st.error().message().find("not re-entrant") != std::string::npos) ++busy;
      else ++other;
    }
  };
  std::thread t1(loop), t2(loop);
  t1.join();
  t2.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + busy.load(), 400);
  EXPECT_GT(ok.load(), 0);
}

}  // namespace
}  // namespace ane
