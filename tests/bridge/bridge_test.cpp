// libane_bridge.so through its C ABI only: this file includes nothing of OpenANE but
// ane_bridge.h and links only the shared library. MIL is written as text in the original's
// style; expected values are computed here in float64.
#include "ane_bridge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

// conv: y[1, oc, 1, s] = W[oc, c] x[1, c, 1, s] with fp32 surfaces and an fp16 datapath, W
// from BLOBFILE `weight_path` (offset 64); with `bias_path`, plus b[1, oc, 1, 1] from a
// second file.
std::string conv_mil(int c, int oc, int s, const char* weight_path, const char* bias_path = nullptr) {
  char buf[4096];
  std::string out;
  std::snprintf(buf, sizeof buf, R"(program(1.3)
[buildInfo = dict<string, string>({{"coremlc-version", "3505.4.1"}})]
{
    func main<ios18>(tensor<fp32, [1, %d, 1, %d]> x) {
        string to16 = const()[name = string("to16"), val = string("fp16")];
        tensor<fp16, [1, %d, 1, %d]> xh = cast(dtype = to16, x = x)[name = string("cast_in")];
        string pt = const()[name = string("pt"), val = string("valid")];
        tensor<int32, [2]> st = const()[name = string("st"), val = tensor<int32, [2]>([1, 1])];
        tensor<int32, [4]> pd = const()[name = string("pd"), val = tensor<int32, [4]>([0, 0, 0, 0])];
        tensor<int32, [2]> dl = const()[name = string("dl"), val = tensor<int32, [2]>([1, 1])];
        int32 gr = const()[name = string("gr"), val = int32(1)];
        tensor<fp16, [%d, %d, 1, 1]> W = const()[name = string("W"), val = tensor<fp16, [%d, %d, 1, 1]>(BLOBFILE(path = string("%s"), offset = uint64(64)))];
        tensor<fp16, [1, %d, 1, %d]> yh = conv(dilations = dl, groups = gr, pad = pd, pad_type = pt, strides = st, weight = W, x = xh)[name = string("conv")];
)",
                c, s, c, s, oc, c, oc, c, weight_path, oc, s);
  out += buf;
  const char* last = "yh";
  if (bias_path != nullptr) {
    std::snprintf(buf, sizeof buf, R"(        tensor<fp16, [1, %d, 1, 1]> b = const()[name = string("b"), val = tensor<fp16, [1, %d, 1, 1]>(BLOBFILE(path = string("%s"), offset = uint64(64)))];
        tensor<fp16, [1, %d, 1, %d]> yb = add(x = yh, y = b)[name = string("bias")];
)",
                  oc, oc, bias_path, oc, s);
    out += buf;
    last = "yb";
  }
  std::snprintf(buf, sizeof buf, R"(        string to32 = const()[name = string("to32"), val = string("fp32")];
        tensor<fp32, [1, %d, 1, %d]> y = cast(dtype = to32, x = %s)[name = string("cast_out")];
    } -> (y);
}
)",
                oc, s, last);
  return out + buf;
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// y[o, s] = sum_c w[o, c] x[c, s] (+ b[o]) in float64.
std::vector<double> conv_ref(const std::vector<float>& w, const std::vector<float>& x, int c, int oc, int s,
                             const std::vector<float>* b = nullptr) {
  std::vector<double> y(static_cast<size_t>(oc * s));
  for (int o = 0; o < oc; ++o) {
    for (int j = 0; j < s; ++j) {
      double acc = b ? (*b)[o] : 0.0;
      for (int i = 0; i < c; ++i) acc += static_cast<double>(w[o * c + i]) * x[i * s + j];
      y[o * s + j] = acc;
    }
  }
  return y;
}

// fp16 storage and datapath: about 3 decimal digits on O(1) values.
void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol = 2e-2) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

struct Blob {
  uint8_t* data = nullptr;
  size_t len = 0;
  Blob() = default;
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;
  ~Blob() { ane_bridge_free_blob(data); }
};

struct Handle {
  ANEKernelHandle* k = nullptr;
  explicit Handle(ANEKernelHandle* h) : k(h) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { ane_bridge_free(k); }
};

bool contains(const char* haystack, const char* needle) { return std::strstr(haystack, needle) != nullptr; }

constexpr int C = 16, OC = 8, S = 4;
const size_t kInBytes = C * S * 4, kOutBytes = OC * S * 4;

// A compiled conv kernel with random weights.
struct ConvFixture {
  std::vector<float> w = random_floats(OC * C, 1);
  std::vector<float> x = random_floats(C * S, 2);
  Blob blob;
  std::unique_ptr<Handle> h;
  ConvFixture() {
    blob.data = ane_bridge_build_weight_blob(w.data(), OC, C, &blob.len);
    const std::string mil = conv_mil(C, OC, S, "@model_path/weights/weight.bin");
    const size_t in[] = {kInBytes}, out[] = {kOutBytes};
    h = std::make_unique<Handle>(ane_bridge_compile(mil.data(), mil.size(), blob.data, blob.len, 1, in, 1, out));
  }
  std::vector<float> run(const std::vector<float>& input) {
    ane_bridge_write_input(h->k, 0, input.data(), input.size() * 4);
    EXPECT_TRUE(ane_bridge_run(h->k)) << ane_bridge_last_error();
    std::vector<float> y(OC * S);
    ane_bridge_read_output(h->k, 0, y.data(), y.size() * 4);
    return y;
  }
};

TEST(Bridge, InitIsIdempotent) {
  EXPECT_EQ(ane_bridge_init(), 0);
  EXPECT_EQ(ane_bridge_init(), 0);
  EXPECT_STREQ(ane_bridge_last_error(), "");
}

TEST(Bridge, ConvKernelMatchesFloat64) {
  ConvFixture f;
  ASSERT_NE(f.blob.data, nullptr) << ane_bridge_last_error();
  ASSERT_NE(f.h->k, nullptr) << ane_bridge_last_error();
  expect_close(f.run(f.x), conv_ref(f.w, f.x, C, OC, S));
  // eval is run under the original's other name.
  EXPECT_TRUE(ane_bridge_eval(f.h->k));
  EXPECT_EQ(ane_bridge_input_size(f.h->k, 0), kInBytes);
  EXPECT_EQ(ane_bridge_output_size(f.h->k, 0), kOutBytes);
}

TEST(Bridge, MultiWeightsByName) {
  const std::vector<float> w = random_floats(OC * C, 3), x = random_floats(C * S, 4), b = random_floats(OC, 5);
  Blob wb, bb;
  wb.data = ane_bridge_build_weight_blob(w.data(), OC, C, &wb.len);
  bb.data = ane_bridge_build_weight_blob(b.data(), OC, 1, &bb.len);
  const std::string mil = conv_mil(C, OC, S, "@model_path/weights/w1.bin", "@model_path/weights/b1.bin");
  const char* names[] = {"@model_path/weights/b1.bin", "@model_path/weights/w1.bin"};
  const uint8_t* datas[] = {bb.data, wb.data};
  const size_t lens[] = {bb.len, wb.len};
  const size_t in[] = {kInBytes}, out[] = {kOutBytes};
  Handle h(ane_bridge_compile_multi_weights(mil.data(), mil.size(), names, datas, lens, 2, 1, in, 1, out));
  ASSERT_NE(h.k, nullptr) << ane_bridge_last_error();
  ane_bridge_write_input(h.k, 0, x.data(), kInBytes);
  ASSERT_TRUE(ane_bridge_run(h.k)) << ane_bridge_last_error();
  std::vector<float> y(OC * S);
  ane_bridge_read_output(h.k, 0, y.data(), kOutBytes);
  expect_close(y, conv_ref(w, x, C, OC, S, &b));

  // A missing weight file is a compile error that names it.
  Handle missing(ane_bridge_compile_multi_weights(mil.data(), mil.size(), names, datas, lens, 1, 1, in, 1, out));
  EXPECT_EQ(missing.k, nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "w1.bin")) << ane_bridge_last_error();
  // A duplicate name is rejected.
  const char* dup[] = {"@model_path/weights/w1.bin", "@model_path/weights/w1.bin"};
  EXPECT_EQ(ane_bridge_compile_multi_weights(mil.data(), mil.size(), dup, datas, lens, 2, 1, in, 1, out), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "given twice")) << ane_bridge_last_error();
}

TEST(Bridge, CallerMayFreeEverythingAfterCompile) {
  const std::vector<float> w = random_floats(OC * C, 6), x = random_floats(C * S, 7);
  const std::string text = conv_mil(C, OC, S, "@model_path/weights/wx.bin");
  char* mil = static_cast<char*>(std::malloc(text.size()));
  std::memcpy(mil, text.data(), text.size());
  char* name = static_cast<char*>(std::malloc(64));
  std::strcpy(name, "@model_path/weights/wx.bin");
  size_t len = 0;
  uint8_t* blob = ane_bridge_build_weight_blob(w.data(), OC, C, &len);
  auto* sizes = static_cast<size_t*>(std::malloc(2 * sizeof(size_t)));
  sizes[0] = kInBytes;
  sizes[1] = kOutBytes;
  const char* names[] = {name};
  const uint8_t* datas[] = {blob};
  const size_t lens[] = {len};
  Handle h(ane_bridge_compile_multi_weights(mil, text.size(), names, datas, lens, 1, 1, &sizes[0], 1, &sizes[1]));
  ASSERT_NE(h.k, nullptr) << ane_bridge_last_error();
  // Overwrite, then free, every buffer the caller passed.
  std::memset(mil, 'x', text.size());
  std::memset(name, 0, 64);
  std::memset(blob, 0xAB, len);
  sizes[0] = sizes[1] = 1;
  std::free(mil);
  std::free(name);
  ane_bridge_free_blob(blob);
  std::free(sizes);

  ane_bridge_write_input(h.k, 0, x.data(), kInBytes);
  ASSERT_TRUE(ane_bridge_run(h.k)) << ane_bridge_last_error();
  std::vector<float> y(OC * S);
  ane_bridge_read_output(h.k, 0, y.data(), kOutBytes);
  expect_close(y, conv_ref(w, x, C, OC, S));
}

TEST(Bridge, WriteCopiesAtCallTimeAndInputsPersistAcrossRuns) {
  ConvFixture f;
  ASSERT_NE(f.h->k, nullptr) << ane_bridge_last_error();
  std::vector<float> x = f.x;
  ane_bridge_write_input(f.h->k, 0, x.data(), kInBytes);
  std::fill(x.begin(), x.end(), 100.0f);  // the surface already holds its copy
  std::vector<float> y1(OC * S), y2(OC * S);
  ASSERT_TRUE(ane_bridge_run(f.h->k));
  ane_bridge_read_output(f.h->k, 0, y1.data(), kOutBytes);
  ASSERT_TRUE(ane_bridge_run(f.h->k));  // no new write: same input
  ane_bridge_read_output(f.h->k, 0, y2.data(), kOutBytes);
  EXPECT_EQ(y1, y2);
  expect_close(y1, conv_ref(f.w, f.x, C, OC, S));

  // A smaller write replaces a prefix only: channel 0 becomes zero, the rest stays.
  std::vector<float> zeros(S, 0.0f);
  ane_bridge_write_input(f.h->k, 0, zeros.data(), S * 4);
  EXPECT_STREQ(ane_bridge_last_error(), "");
  std::vector<float> x2 = f.x;
  std::fill(x2.begin(), x2.begin() + S, 0.0f);
  ASSERT_TRUE(ane_bridge_run(f.h->k));
  ane_bridge_read_output(f.h->k, 0, y1.data(), kOutBytes);
  expect_close(y1, conv_ref(f.w, x2, C, OC, S));
  // A smaller read reads a prefix.
  float first[2] = {-7, -7};
  ane_bridge_read_output(f.h->k, 0, first, sizeof first);
  EXPECT_EQ(first[0], y1[0]);
  EXPECT_EQ(first[1], y1[1]);
}

TEST(Bridge, ZeroCopyBases) {
  ConvFixture f;
  ASSERT_NE(f.h->k, nullptr) << ane_bridge_last_error();
  auto* in = static_cast<float*>(ane_bridge_get_input_base(f.h->k, 0));
  ASSERT_NE(in, nullptr);
  std::memcpy(in, f.x.data(), kInBytes);
  ASSERT_TRUE(ane_bridge_run(f.h->k));
  const auto* out = static_cast<const float*>(ane_bridge_get_output_base(f.h->k, 0));
  ASSERT_NE(out, nullptr);
  expect_close(std::vector<float>(out, out + OC * S), conv_ref(f.w, f.x, C, OC, S));
  EXPECT_EQ(ane_bridge_get_input_base(f.h->k, 1), nullptr);
  EXPECT_EQ(ane_bridge_get_output_base(f.h->k, -1), nullptr);
  EXPECT_EQ(ane_bridge_input_size(f.h->k, 1), 0u);
  EXPECT_EQ(ane_bridge_output_size(f.h->k, 5), 0u);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "output index 5 is out of range")) << ane_bridge_last_error();
}

TEST(Bridge, BoundsAreRejectedWithoutCopying) {
  ConvFixture f;
  ASSERT_NE(f.h->k, nullptr) << ane_bridge_last_error();
  ane_bridge_write_input(f.h->k, 0, f.x.data(), kInBytes);
  ASSERT_TRUE(ane_bridge_run(f.h->k));

  std::vector<float> big(C * S + 8, 5.0f);
  ane_bridge_write_input(f.h->k, 0, big.data(), big.size() * 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "ane_bridge_write_input")) << ane_bridge_last_error();
  EXPECT_TRUE(contains(ane_bridge_last_error(), std::to_string(big.size() * 4).c_str())) << ane_bridge_last_error();
  ane_bridge_write_input(f.h->k, 1, f.x.data(), 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "input index 1 is out of range (the kernel has 1 inputs)"))
      << ane_bridge_last_error();
  ane_bridge_write_input(f.h->k, -1, f.x.data(), 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "input index -1 is out of range")) << ane_bridge_last_error();
  ane_bridge_write_input(f.h->k, 0, nullptr, 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "data is NULL")) << ane_bridge_last_error();

  std::vector<float> out(OC * S + 4, -3.0f);
  ane_bridge_read_output(f.h->k, 0, out.data(), out.size() * 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "ane_bridge_read_output")) << ane_bridge_last_error();
  for (float v : out) EXPECT_EQ(v, -3.0f);  // nothing was copied
  ane_bridge_read_output(f.h->k, 1, out.data(), 4);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "output index 1 is out of range")) << ane_bridge_last_error();

  // The rejected writes left the input as it was.
  ASSERT_TRUE(ane_bridge_run(f.h->k));
  std::vector<float> y(OC * S);
  ane_bridge_read_output(f.h->k, 0, y.data(), kOutBytes);
  expect_close(y, conv_ref(f.w, f.x, C, OC, S));
}

TEST(Bridge, CompileErrorsReturnNullWithAReason) {
  std::vector<float> w = random_floats(OC * C, 9);
  Blob blob;
  blob.data = ane_bridge_build_weight_blob(w.data(), OC, C, &blob.len);
  const std::string mil = conv_mil(C, OC, S, "@model_path/weights/weight.bin");
  const size_t wrong[] = {kInBytes + 2}, out[] = {kOutBytes};
  EXPECT_EQ(ane_bridge_compile(mil.data(), mil.size(), blob.data, blob.len, 1, wrong, 1, out), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "declared")) << ane_bridge_last_error();

  const std::string bad = "program(1.3) { func main<ios18>(tensor<fp32, [1]> x) { } -> (nope); }";
  EXPECT_EQ(ane_bridge_compile(bad.data(), bad.size(), nullptr, 0, 1, wrong, 1, out), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "ane_bridge_compile: ")) << ane_bridge_last_error();

  // The blob is named weight.bin: a program that refers to another file fails.
  const std::string other = conv_mil(C, OC, S, "@model_path/weights/other.bin");
  const size_t in[] = {kInBytes};
  EXPECT_EQ(ane_bridge_compile(other.data(), other.size(), blob.data, blob.len, 1, in, 1, out), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "other.bin")) << ane_bridge_last_error();
}

TEST(Bridge, NullArgumentsAreSafe) {
  EXPECT_FALSE(ane_bridge_run(nullptr));
  EXPECT_TRUE(contains(ane_bridge_last_error(), "kernel handle is NULL")) << ane_bridge_last_error();
  EXPECT_FALSE(ane_bridge_eval(nullptr));
  float buf[4] = {};
  ane_bridge_write_input(nullptr, 0, buf, sizeof buf);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "kernel handle is NULL"));
  ane_bridge_read_output(nullptr, 0, buf, sizeof buf);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "kernel handle is NULL"));
  EXPECT_EQ(ane_bridge_get_input_base(nullptr, 0), nullptr);
  EXPECT_EQ(ane_bridge_get_output_base(nullptr, 0), nullptr);
  EXPECT_EQ(ane_bridge_input_size(nullptr, 0), 0u);
  EXPECT_EQ(ane_bridge_output_size(nullptr, 0), 0u);
  ane_bridge_free(nullptr);
  ane_bridge_free_blob(nullptr);

  const size_t sizes[] = {4};
  EXPECT_EQ(ane_bridge_compile(nullptr, 10, nullptr, 0, 1, sizes, 1, sizes), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "mil_text is NULL"));
  const char* mil = "program(1.3) {}";
  EXPECT_EQ(ane_bridge_compile(mil, std::strlen(mil), nullptr, 16, 1, sizes, 1, sizes), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "weight_data is NULL"));
  EXPECT_EQ(ane_bridge_compile(mil, std::strlen(mil), nullptr, 0, 1, nullptr, 1, sizes), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "input_sizes is NULL"));
  EXPECT_EQ(ane_bridge_compile(mil, std::strlen(mil), nullptr, 0, -1, sizes, 1, sizes), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "negative"));
  EXPECT_EQ(ane_bridge_compile_multi_weights(mil, std::strlen(mil), nullptr, nullptr, nullptr, 2, 1, sizes, 1, sizes),
            nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "n_weights is 2"));
  const char* names[] = {nullptr};
  const uint8_t* datas[] = {nullptr};
  const size_t lens[] = {0};
  EXPECT_EQ(ane_bridge_compile_multi_weights(mil, std::strlen(mil), names, datas, lens, 1, 1, sizes, 1, sizes), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "name is NULL"));

  size_t len = 99;
  float scale = 0;
  int8_t zp = 0;
  EXPECT_EQ(ane_bridge_build_weight_blob(nullptr, 2, 2, &len), nullptr);
  EXPECT_EQ(len, 0u);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "src is NULL"));
  EXPECT_EQ(ane_bridge_build_weight_blob(buf, 2, 2, nullptr), nullptr);
  EXPECT_EQ(ane_bridge_build_weight_blob_transposed(buf, 0, 2, &len), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "must be positive"));
  EXPECT_EQ(ane_bridge_build_weight_blob_int8(nullptr, 1, 1, &len), nullptr);
  EXPECT_EQ(ane_bridge_build_weight_blob_quantized(buf, 2, 2, nullptr, &len), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "out_scale is NULL"));
  EXPECT_EQ(ane_bridge_build_weight_blob_quantized_affine(buf, 2, 2, &scale, nullptr, &len), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "out_zero_point is NULL"));
  const float inf[2] = {1.0f, INFINITY};
  EXPECT_EQ(ane_bridge_build_weight_blob_quantized_affine(inf, 1, 2, &scale, &zp, &len), nullptr);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "src[1] is not finite"));
}

TEST(Bridge, SuccessClearsTheLastError) {
  EXPECT_FALSE(ane_bridge_run(nullptr));
  EXPECT_STRNE(ane_bridge_last_error(), "");
  EXPECT_EQ(ane_bridge_init(), 0);
  EXPECT_STREQ(ane_bridge_last_error(), "");
  // The last error is per thread.
  EXPECT_FALSE(ane_bridge_run(nullptr));
  std::string other;
  std::thread([&] { other = ane_bridge_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_STRNE(ane_bridge_last_error(), "");
}

TEST(Bridge, ConcurrentInitAndCompile) {
  constexpr int kThreads = 8;
  std::vector<int> rc(kThreads, -2);
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      rc[t] = ane_bridge_init();
      ConvFixture f;
      if (f.h->k == nullptr) return;
      std::vector<double> want = conv_ref(f.w, f.x, C, OC, S);
      std::vector<float> got = f.run(f.x);
      bool all = true;
      for (size_t i = 0; i < got.size(); ++i) all = all && std::fabs(got[i] - want[i]) < 2e-2;
      ok[t] = all ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(rc[t], 0) << "thread " << t;
    EXPECT_EQ(ok[t], 1) << "thread " << t;
  }
}

TEST(Bridge, CompileCountAndReset) {
  ane_bridge_reset_compile_count();
  EXPECT_EQ(ane_bridge_get_compile_count(), 0);
  {
    ConvFixture a, b;
    ASSERT_NE(a.h->k, nullptr);
    ASSERT_NE(b.h->k, nullptr);
  }
  EXPECT_EQ(ane_bridge_get_compile_count(), 2);  // freeing kernels does not give compiles back
  const char* bad = "not mil";
  const size_t sizes[] = {4};
  EXPECT_EQ(ane_bridge_compile(bad, std::strlen(bad), nullptr, 0, 1, sizes, 1, sizes), nullptr);
  EXPECT_EQ(ane_bridge_get_compile_count(), 2);  // failures do not count
  // No budget: many compiles succeed.
  for (int i = 0; i < 110; ++i) {
    ConvFixture f;
    ASSERT_NE(f.h->k, nullptr) << "compile " << i << ": " << ane_bridge_last_error();
  }
  EXPECT_EQ(ane_bridge_get_compile_count(), 112);
  ane_bridge_reset_compile_count();
  EXPECT_EQ(ane_bridge_get_compile_count(), 0);
}

TEST(Bridge, PrecisionAndThreadsSettings) {
  EXPECT_EQ(ane_bridge_set_precision(2), -1);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "unknown precision mode 2"));
  EXPECT_EQ(ane_bridge_set_threads(-1), -1);
  EXPECT_TRUE(contains(ane_bridge_last_error(), "threads must be >= 0"));
  EXPECT_EQ(ane_bridge_set_precision(1), 0);
  EXPECT_EQ(ane_bridge_set_threads(2), 0);
  {
    ConvFixture f;  // compiled with fp16 precision and 2 threads
    ASSERT_NE(f.h->k, nullptr) << ane_bridge_last_error();
    expect_close(f.run(f.x), conv_ref(f.w, f.x, C, OC, S));
  }
  EXPECT_EQ(ane_bridge_set_precision(0), 0);
  EXPECT_EQ(ane_bridge_set_threads(0), 0);
}

uint32_t u32_at(const uint8_t* p, size_t off) {
  uint32_t v;
  std::memcpy(&v, p + off, 4);
  return v;
}

TEST(Bridge, Fp16BlobLayoutAndTranspose) {
  const float w[6] = {1, 2, 3, 4, 5, 6};  // [2, 3]
  Blob a, t;
  a.data = ane_bridge_build_weight_blob(w, 2, 3, &a.len);
  t.data = ane_bridge_build_weight_blob_transposed(w, 2, 3, &t.len);
  ASSERT_NE(a.data, nullptr);
  ASSERT_NE(t.data, nullptr);
  EXPECT_EQ(a.len, 128u + 12u);
  EXPECT_EQ(a.data[0], 1);  // count
  EXPECT_EQ(a.data[4], 2);  // version
  EXPECT_EQ(u32_at(a.data, 64), 0xDEADBEEFu);
  EXPECT_EQ(u32_at(a.data, 72), 12u);   // data bytes
  EXPECT_EQ(u32_at(a.data, 80), 128u);  // data offset
  uint16_t h[6], ht[6];
  std::memcpy(h, a.data + 128, 12);
  std::memcpy(ht, t.data + 128, 12);
  EXPECT_EQ(h[1], 0x4000);   // 2.0 in fp16, at [0, 1]
  EXPECT_EQ(ht[1], 0x4400);  // 4.0: [0, 1] of the [3, 2] transpose is w[1, 0]
}

// conv with an int8 weight dequantized by constexpr_affine_dequantize (fp32 throughout).
std::string int8_conv_mil(float scale, int zero_point) {
  char buf[4096];
  std::snprintf(buf, sizeof buf, R"(program(1.3)
{
    func main<ios18>(tensor<fp32, [1, %d, 1, %d]> x) {
        tensor<int8, [%d, %d, 1, 1]> Wq = const()[name = string("Wq"), val = tensor<int8, [%d, %d, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
        tensor<fp32, [%d, %d, 1, 1]> W = constexpr_affine_dequantize(axis = int32(0), quantized_data = Wq, scale = fp32(%.9g), zero_point = int8(%d))[name = string("W")];
        tensor<fp32, [1, %d, 1, %d]> y = conv(dilations = tensor<int32, [2]>([1, 1]), groups = int32(1), pad = tensor<int32, [4]>([0, 0, 0, 0]), pad_type = string("valid"), strides = tensor<int32, [2]>([1, 1]), weight = W, x = x)[name = string("conv")];
    } -> (y);
}
)",
                C, S, OC, C, OC, C, OC, C, static_cast<double>(scale), zero_point, OC, S);
  return buf;
}

// Runs int8_conv_mil on a quantized blob and checks it against float64 on the blob's own
// int8 values (dequantized here).
void check_int8_kernel(const Blob& blob, float scale, int zp) {
  std::vector<float> deq(OC * C);
  for (size_t i = 0; i < deq.size(); ++i) deq[i] = static_cast<float>((static_cast<int8_t>(blob.data[128 + i]) - zp) * static_cast<double>(scale));
  const std::vector<float> x = random_floats(C * S, 11);
  const std::string mil = int8_conv_mil(scale, zp);
  const size_t in[] = {kInBytes}, out[] = {kOutBytes};
  Handle h(ane_bridge_compile(mil.data(), mil.size(), blob.data, blob.len, 1, in, 1, out));
  ASSERT_NE(h.k, nullptr) << ane_bridge_last_error();
  ane_bridge_write_input(h.k, 0, x.data(), kInBytes);
  ASSERT_TRUE(ane_bridge_run(h.k)) << ane_bridge_last_error();
  std::vector<float> y(OC * S);
  ane_bridge_read_output(h.k, 0, y.data(), kOutBytes);
  expect_close(y, conv_ref(deq, x, C, OC, S), 1e-4);
}

TEST(Bridge, Int8BlobsRawSymmetricAndAffine) {
  const std::vector<float> w = random_floats(OC * C, 10);
  float max_abs = 0, mn = 0, mx = 0;
  for (float v : w) {
    max_abs = std::max(max_abs, std::fabs(v));
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }

  Blob sym;
  float scale = 0;
  sym.data = ane_bridge_build_weight_blob_quantized(w.data(), OC, C, &scale, &sym.len);
  ASSERT_NE(sym.data, nullptr) << ane_bridge_last_error();
  EXPECT_FLOAT_EQ(scale, max_abs / 127.0f);
  EXPECT_EQ(u32_at(sym.data, 68), 4u);  // dtype int8
  EXPECT_EQ(u32_at(sym.data, 72), static_cast<uint32_t>(OC * C));
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_NEAR((static_cast<int8_t>(sym.data[128 + i])) * scale, w[i], scale * 0.5001) << i;
  }
  check_int8_kernel(sym, scale, 0);

  Blob aff;
  int8_t zp = 0;
  aff.data = ane_bridge_build_weight_blob_quantized_affine(w.data(), OC, C, &scale, &zp, &aff.len);
  ASSERT_NE(aff.data, nullptr) << ane_bridge_last_error();
  EXPECT_FLOAT_EQ(scale, (mx - mn) / 255.0f);
  EXPECT_EQ(zp, static_cast<int8_t>(std::nearbyint(-128.0 - mn / static_cast<double>(scale))));
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_NEAR((static_cast<int8_t>(aff.data[128 + i]) - zp) * scale, w[i], scale * 0.5001) << i;
  }
  check_int8_kernel(aff, scale, zp);

  std::vector<int8_t> raw(OC * C);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<int8_t>(static_cast<int>(i % 256) - 128);
  Blob r;
  r.data = ane_bridge_build_weight_blob_int8(raw.data(), OC, C, &r.len);
  ASSERT_NE(r.data, nullptr);
  EXPECT_EQ(std::memcmp(r.data + 128, raw.data(), raw.size()), 0);
  check_int8_kernel(r, 0.01f, 3);

  // All-zero input: scale 1, zero point 0.
  const std::vector<float> zeros(6, 0.0f);
  Blob z;
  z.data = ane_bridge_build_weight_blob_quantized_affine(zeros.data(), 2, 3, &scale, &zp, &z.len);
  ASSERT_NE(z.data, nullptr);
  EXPECT_EQ(scale, 1.0f);
  EXPECT_EQ(zp, 0);
}

}  // namespace
