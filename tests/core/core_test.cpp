// Status/Expected, ByteReader bounds checks, files (mapping, atomic writes), huge-page
// advice, thread pool.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <numeric>
#include <thread>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/byte_reader.h"
#include "core/file.h"
#include "core/huge_pages.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace ane {
namespace {

Expected<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("not positive: " + std::to_string(x), Location::text("f.mil", 3, 7));
  return x;
}

Expected<int> doubled(int x) {
  ANE_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return 2 * v;
}

TEST(Status, CarriesMessageAndLocation) {
  auto ok = doubled(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().to_string(), "f.mil:3:7: not positive: -1");
  Error at_byte = parse_error("bad magic", Location::bytes("m.bin", 12));
  EXPECT_EQ(at_byte.to_string(), "m.bin: byte 12: bad magic");
  EXPECT_EQ(at_byte.with_context("loading model").to_string(), "m.bin: byte 12: loading model: bad magic");
}

TEST(ByteReader, ReadsLittleEndianAndStopsAtTheEnd) {
  std::vector<uint8_t> bytes = {0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB};
  ByteReader r(bytes, "x.bin");
  auto a = r.read<uint32_t>("header");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 0x04030201u);
  auto b = r.read<uint32_t>("count");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().where().byte_offset, 4);
  EXPECT_NE(b.error().message().find("count needs 4 bytes, 2 left"), std::string::npos);
  EXPECT_FALSE(r.seek(7, "data").ok());
  EXPECT_TRUE(r.seek(6, "end").ok());
  EXPECT_FALSE(r.take(1, "tail").ok());
}

TEST(ByteReader, CheckedMulDetectsOverflow) {
  uint64_t out = 0;
  EXPECT_TRUE(checked_mul(1u << 20, 1u << 20, &out));
  EXPECT_EQ(out, 1ull << 40);
  EXPECT_FALSE(checked_mul(1ull << 40, 1ull << 30, &out));
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ane_core_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(FileTest, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  const std::string p = path("a.bin");
  ASSERT_TRUE(write_file_atomic(p, std::string("first version")).ok());
  ASSERT_TRUE(write_file_atomic(p, std::string("second")).ok());
  auto text = read_text_file(p);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "second");
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) entries += (void(e), 1);
  EXPECT_EQ(entries, 1u);
}

TEST_F(FileTest, AtomicWriteIntoMissingDirectoryFailsAndNamesPath) {
  Status s = write_file_atomic(path("no/such/dir/x.bin"), std::string("x"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kIo);
  EXPECT_NE(s.error().to_string().find("no/such/dir/x.bin"), std::string::npos);
}

TEST_F(FileTest, LinkAtomicGivesTheFileASecondNameThatLaterWritesLeaveAlone) {
  const std::string a = path("a.bin"), b = path("b.bin");
  ASSERT_TRUE(write_file_atomic(a, std::string("state one")).ok());
  ASSERT_TRUE(write_file_atomic(b, std::string("older state")).ok());
  ASSERT_TRUE(link_atomic(a, b).ok());
  EXPECT_TRUE(std::filesystem::equivalent(a, b));
  EXPECT_EQ(*read_text_file(b), "state one");
  ASSERT_TRUE(write_file_atomic(a, std::string("state two")).ok());  // replaces the name a only
  EXPECT_EQ(*read_text_file(a), "state two");
  EXPECT_EQ(*read_text_file(b), "state one");
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) entries += (void(e), 1);
  EXPECT_EQ(entries, 2u);  // no temp name left behind

  Status missing = link_atomic(path("missing.bin"), b);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
  EXPECT_NE(missing.error().to_string().find("missing.bin"), std::string::npos) << missing.error().to_string();
  EXPECT_EQ(*read_text_file(b), "state one");  // untouched
}

TEST_F(FileTest, MapsFilesAndReportsMissingOnes) {
  const std::string p = path("m.bin");
  std::vector<uint8_t> data(1000);
  std::iota(data.begin(), data.end(), 0);
  ASSERT_TRUE(write_file_atomic(p, data).ok());
  auto m = MappedFile::open(p);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 1000u);
  EXPECT_EQ(m->bytes()[999], static_cast<uint8_t>(999 % 256));
  auto missing = MappedFile::open(path("nope.bin"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().to_string().find("nope.bin"), std::string::npos);
  ASSERT_TRUE(write_file_atomic(path("empty"), std::string()).ok());
  auto empty = MappedFile::open(path("empty"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(AlignedBuffer, IsAlignedAndZeroed) {
  AlignedBuffer b(1001);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b.data()[i], 0);
  AlignedBuffer moved = std::move(b);
  EXPECT_EQ(moved.size(), 1001u);
  EXPECT_EQ(b.data(), nullptr);
}

// Whether this kernel backs advised memory with huge pages at all (THP "madvise" or "always").
bool thp_available() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  return std::getline(f, modes) && modes.find("[never]") == std::string::npos;
}

// The "THPeligible:" field of /proc/self/smaps for the mapping holding `p` (-1 if absent).
int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= address && address < hi;
    } else if (inside && line.rfind("THPeligible:", 0) == 0) {
      return std::stoi(line.substr(12));
    }
  }
  return -1;
}

TEST(HugePages, AdvisesTheWholeHugePagesInsideARange) {
  EXPECT_FALSE(advise_huge_pages(nullptr, size_t{1} << 30));
  const size_t bytes = 3 * kHugePageBytes;
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  const auto base = reinterpret_cast<uintptr_t>(map);
  auto* page = reinterpret_cast<char*>((base + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
  // A range that holds no whole huge page is left alone.
  EXPECT_FALSE(advise_huge_pages(page + 4096, kHugePageBytes));
  EXPECT_FALSE(advise_huge_pages(page, kHugePageBytes - 1));
  if (thp_available()) {
    EXPECT_TRUE(advise_huge_pages(page, kHugePageBytes));
    EXPECT_EQ(thp_eligible(page), 1);
  } else {
    GTEST_LOG_(INFO) << "no transparent huge pages on this kernel: eligibility not checked";
  }
  ::munmap(map, bytes);
}

TEST(HugePages, LargeBuffersComeZeroedAndAdvised) {
  const std::vector<float> v = vector_on_huge_pages<float>(3'000'000);
  ASSERT_EQ(v.size(), 3'000'000u);
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));
  AlignedBuffer b(4 * kHugePageBytes);
  EXPECT_TRUE(std::all_of(b.data(), b.data() + b.size(), [](uint8_t x) { return x == 0; }));
  if (thp_available()) {
    EXPECT_EQ(thp_eligible(b.data() + 2 * kHugePageBytes), 1);
    EXPECT_EQ(thp_eligible(v.data() + v.size() / 2), 1);
  }
}

TEST(AlignedBuffer, LargeBuffersMoveAndRelease) {
  AlignedBuffer a(3 * kHugePageBytes / 2);
  std::fill(a.data(), a.data() + a.size(), uint8_t{7});
  AlignedBuffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 3 * kHugePageBytes / 2);
  EXPECT_EQ(b.data()[b.size() - 1], 7);
  b = AlignedBuffer(5 * kHugePageBytes / 2);  // releases the first buffer
  EXPECT_TRUE(std::all_of(b.data(), b.data() + b.size(), [](uint8_t x) { return x == 0; }));
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, 1, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) hits[i]++;
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n;
    }
  }
}

// An Engine's pool is shared by kernels run from several threads: a call made while another
// thread's job holds the workers runs its chunks on its own thread, in order, rather than
// waiting (here the running job waits for that call to finish, so waiting would hang).
TEST(ThreadPool, ACallWhileAnotherJobRunsRunsOnItsOwnThread) {
  ThreadPool pool(2);
  constexpr size_t kN = 1000;
  std::atomic<int> running{0};
  std::atomic<bool> second_done{false}, timed_out{false};
  std::vector<std::atomic<int>> first_hits(kN), second_hits(kN);
  std::thread first([&] {
    pool.parallel_for(kN, 1, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) first_hits[i]++;
      ++running;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!second_done.load()) {
        if (std::chrono::steady_clock::now() > deadline) return void(timed_out = true);
        std::this_thread::yield();
      }
    });
  });
  while (running.load() < 2) std::this_thread::yield();  // both chunks of the first job hold the pool
  const std::thread::id me = std::this_thread::get_id();
  std::atomic<int> chunks{0}, elsewhere{0};
  pool.parallel_for(kN, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) second_hits[i]++;
    ++chunks;
    if (std::this_thread::get_id() != me) ++elsewhere;
  });
  second_done = true;
  first.join();
  EXPECT_FALSE(timed_out.load());
  EXPECT_EQ(chunks.load(), 2);  // still split as the pool's size says
  EXPECT_EQ(elsewhere.load(), 0);
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_EQ(first_hits[i].load(), 1) << i;
    ASSERT_EQ(second_hits[i].load(), 1) << i;
  }
}

TEST(ThreadPool, AJobMayCallParallelForOnItsOwnPool) {
  ThreadPool pool(2);
  constexpr size_t kOuter = 4, kInner = 1000;
  std::vector<std::atomic<int>> hits(kOuter * kInner);
  pool.parallel_for(kOuter, 1, [&](size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      pool.parallel_for(kInner, 1, [&](size_t ib, size_t ie) {
        for (size_t i = ib; i < ie; ++i) hits[o * kInner + i]++;
      });
    }
  });
  for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << i;
}

TEST(ThreadPool, GrainKeepsSmallLoopsOnOneChunk) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.parallel_for(10, 100, [&](size_t b, size_t e) {
    calls++;
    EXPECT_EQ(b, 0u);
    EXPECT_EQ(e, 10u);
  });
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace ane
