// Surface conversions: fp16 rounding from double in one step (including cases that double
// rounding through fp32 would get wrong), overflow, integer truncation and saturation.
#include "backends/ref/convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/fp16.h"

namespace ane::ref {
namespace {

using mil::DType;

double half_value(uint16_t h) { return half_to_float_ref(h); }

TEST(Convert, Fp16TiesAndNearTiesRoundCorrectlyFromDouble) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> bits(1, 0x7BFE);  // positive finite halves below the max
  for (int trial = 0; trial < 20000; ++trial) {
    const auto h = static_cast<uint16_t>(bits(rng));
    const double lo = half_value(h), hi = half_value(static_cast<uint16_t>(h + 1));
    const double mid = (lo + hi) / 2;  // exact in double
    const double tiny = (hi - lo) * std::ldexp(1.0, -30);  // lost by a float intermediate
    const double even = (h & 1) ? hi : lo;
    ASSERT_EQ(round_to_dtype(mid, DType::kFp16), even) << "h=" << h;
    ASSERT_EQ(round_to_dtype(mid + tiny, DType::kFp16), hi) << "h=" << h;
    ASSERT_EQ(round_to_dtype(mid - tiny, DType::kFp16), lo) << "h=" << h;
    ASSERT_EQ(round_to_dtype(-(mid + tiny), DType::kFp16), -hi) << "h=" << h;
  }
}

TEST(Convert, Fp16OverflowSubnormalsAndSpecials) {
  EXPECT_EQ(round_to_dtype(65504.0, DType::kFp16), 65504.0);
  EXPECT_EQ(round_to_dtype(65519.999, DType::kFp16), 65504.0);
  EXPECT_TRUE(std::isinf(round_to_dtype(65520.0, DType::kFp16)));
  EXPECT_EQ(round_to_dtype(-1e6, DType::kFp16), -INFINITY);
  EXPECT_EQ(round_to_dtype(std::ldexp(1.0, -24), DType::kFp16), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(round_to_dtype(std::ldexp(1.0, -25), DType::kFp16), 0.0);                    // tie to even (zero)
  EXPECT_EQ(round_to_dtype(std::ldexp(1.5, -25), DType::kFp16), std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isnan(round_to_dtype(std::nan(""), DType::kFp16)));
  EXPECT_EQ(round_to_dtype(INFINITY, DType::kFp16), INFINITY);
}

TEST(Convert, Fp16EncodeMatchesCoreConverterOnFloats) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  for (int i = 0; i < 10000; ++i) {
    const float f = dist(rng) * (i % 2 ? 1.0f : 1e-4f);
    std::vector<uint8_t> bytes(2);
    const double v = f;
    ASSERT_TRUE(encode({&v, 1}, DType::kFp16, bytes).ok());
    uint16_t h;
    std::memcpy(&h, bytes.data(), 2);
    ASSERT_EQ(h, float_to_half_ref(f)) << f;
  }
}

TEST(Convert, IntegersTruncateTowardZeroAndSaturate) {
  EXPECT_EQ(round_to_dtype(2.7, DType::kInt32), 2.0);
  EXPECT_EQ(round_to_dtype(-2.7, DType::kInt32), -2.0);
  EXPECT_EQ(round_to_dtype(300.0, DType::kInt8), 127.0);
  EXPECT_EQ(round_to_dtype(-300.0, DType::kInt8), -128.0);
  EXPECT_EQ(round_to_dtype(-5.0, DType::kUint8), 0.0);
  EXPECT_EQ(round_to_dtype(std::nan(""), DType::kInt32), 0.0);
  EXPECT_EQ(round_to_dtype(0.5, DType::kBool), 1.0);
  EXPECT_EQ(round_to_dtype(0.0, DType::kBool), 0.0);
  // 2^63 does not fit int64: saturates instead of being undefined.
  std::vector<uint8_t> bytes(8);
  const double big = std::ldexp(1.0, 70);
  ASSERT_TRUE(encode({&big, 1}, DType::kInt64, bytes).ok());
  int64_t v;
  std::memcpy(&v, bytes.data(), 8);
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
}

TEST(Convert, RoundTripsEveryNumericDtype) {
  const std::vector<double> values{0.0, 1.0, 2.0, 7.0, 100.0};
  for (DType t : {DType::kFp16, DType::kFp32, DType::kBf16, DType::kInt8, DType::kUint8, DType::kInt16, DType::kUint16,
                  DType::kInt32, DType::kUint32, DType::kInt64, DType::kUint64}) {
    std::vector<uint8_t> bytes(values.size() * mil::dtype_size(t));
    ASSERT_TRUE(encode(values, t, bytes).ok());
    std::vector<double> back(values.size());
    ASSERT_TRUE(decode(bytes, t, back).ok());
    EXPECT_EQ(back, values) << mil::dtype_name(t);
  }
}

TEST(Convert, RejectsWrongByteCounts) {
  std::vector<double> out(3);
  std::vector<uint8_t> bytes(5);
  EXPECT_FALSE(decode(bytes, DType::kFp16, out).ok());
}

}  // namespace
}  // namespace ane::ref
