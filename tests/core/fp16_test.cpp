// fp16 conversion: the reference against an independent float64 model of IEEE rounding,
// and the fast paths against the reference, on every half and on millions of floats.
#include "core/fp16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace ane {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Value of a half from its fields, in double: an independent definition.
double half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  if (exp == 0x1F) return mant ? std::nan("") : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}

// Nearest half to a finite double by exhaustive search over the 63,488 finite positive halves
// ordered by value, ties to the even bit pattern; overflow per IEEE (>= 65520 -> inf).
uint16_t nearest_half(double x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  double a = std::fabs(x);
  if (a >= 65520.0) return sign | 0x7C00;
  uint16_t lo = 0, hi = 0x7BFF;  // binary search for the largest half <= a
  while (lo < hi) {
    uint16_t mid = static_cast<uint16_t>((lo + hi + 1) / 2);
    if (half_value(mid) <= a) lo = mid; else hi = static_cast<uint16_t>(mid - 1);
  }
  if (lo == 0x7BFF) return sign | lo;
  double below = half_value(lo), above = half_value(static_cast<uint16_t>(lo + 1));
  double d_lo = a - below, d_hi = above - a;
  uint16_t pick = (d_lo < d_hi) ? lo : (d_hi < d_lo) ? static_cast<uint16_t>(lo + 1) : ((lo & 1) ? static_cast<uint16_t>(lo + 1) : lo);
  return sign | pick;
}

TEST(Fp16, EveryHalfConvertsToItsExactValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float_ref(static_cast<uint16_t>(h));
    const double want = half_value(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), want) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
    }
  }
}

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = float_to_half_ref(half_to_float_ref(static_cast<uint16_t>(h)));
    const bool is_nan = ((h >> 10) & 0x1F) == 0x1F && (h & 0x3FF);
    if (is_nan) {
      ASSERT_EQ(back & 0x7E00, 0x7E00) << std::hex << h;  // still a (quiet) NaN
    } else {
      ASSERT_EQ(back, h) << std::hex << h;
    }
  }
}

TEST(Fp16, FastScalarAndBulkMatchReferenceOnEveryHalf) {
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
  std::vector<float> bulk(65536);
  halves_to_floats(bulk.data(), all.data(), all.size());
  for (uint32_t h = 0; h < 65536; ++h) {
    const float ref = half_to_float_ref(static_cast<uint16_t>(h));
    ASSERT_EQ(bits(half_to_float(static_cast<uint16_t>(h))), bits(ref)) << std::hex << h;
    ASSERT_EQ(bits(bulk[h]), bits(ref)) << std::hex << h;
  }
}

TEST(Fp16, EdgeCases) {
  EXPECT_EQ(float_to_half_ref(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_half_ref(65519.99f), 0x7BFF);      // just below the overflow tie
  EXPECT_EQ(float_to_half_ref(65520.0f), 0x7C00);       // the tie rounds to even: infinity
  EXPECT_EQ(float_to_half_ref(-65520.0f), 0xFC00);
  EXPECT_EQ(float_to_half_ref(1e10f), 0x7C00);
  EXPECT_EQ(float_to_half_ref(INFINITY), 0x7C00);
  EXPECT_EQ(float_to_half_ref(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half_ref(std::ldexp(1.0f, -24)), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_half_ref(std::ldexp(1.0f, -25)), 0x0000);   // tie to even: zero
  EXPECT_EQ(float_to_half_ref(std::ldexp(1.5f, -25)), 0x0001);   // above the tie
  EXPECT_EQ(float_to_half_ref(std::ldexp(3.0f, -25)), 0x0002);   // 1.5 ulp tie -> even (2)
  EXPECT_EQ(float_to_half_ref(std::ldexp(1.0f, -14)), 0x0400);   // smallest normal
  EXPECT_EQ(float_to_half_ref(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie -> even
  EXPECT_EQ(float_to_half_ref(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie -> even (up)
  EXPECT_TRUE(std::isnan(half_to_float_ref(float_to_half_ref(NAN))));
}

// Floats drawn to cover every exponent a half can reach, including exact ties.
std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t sign = (rng() & 1u) << 31;
    const uint32_t exp = 127 - 30 + rng() % 50;  // 2^-30 .. 2^19: underflow through overflow
    uint32_t mant = rng() & 0x7FFFFFu;
    switch (rng() % 4) {
      case 0: mant = (mant & ~0x1FFFu) | 0x1000u; break;  // exact tie for normal halves
      case 1: mant &= ~0x1FFFu; break;                    // exactly representable
      default: break;
    }
    out.push_back(from_bits(sign | (exp << 23) | mant));
  }
  return out;
}

TEST(Fp16, ReferenceRoundsLikeExhaustiveNearestSearch) {
  for (float f : random_floats(200000, 1)) {
    ASSERT_EQ(float_to_half_ref(f), nearest_half(f)) << f;
  }
}

TEST(Fp16, FastPathsMatchReferenceOnMillionsOfFloats) {
  std::vector<float> xs = random_floats(4000000, 2);
  std::vector<uint16_t> bulk(xs.size());
  floats_to_halves(bulk.data(), xs.data(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const uint16_t ref = float_to_half_ref(xs[i]);
    ASSERT_EQ(bulk[i], ref) << xs[i];
    if (i % 16 == 0) ASSERT_EQ(float_to_half(xs[i]), ref) << xs[i];
  }
}

TEST(Fp16, BulkHandlesLengthsThatAreNotMultiplesOfTheVectorWidth) {
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 17u}) {
    std::vector<float> xs = random_floats(n, static_cast<uint32_t>(n + 10));
    std::vector<uint16_t> h(n);
    std::vector<float> back(n);
    floats_to_halves(h.data(), xs.data(), n);
    halves_to_floats(back.data(), h.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(h[i], float_to_half_ref(xs[i]));
      ASSERT_EQ(bits(back[i]), bits(half_to_float_ref(h[i])));
    }
  }
}

// The transposing converter against the reference, element by element, on sizes that
// leave partial 8 x 8 blocks and with strides wider than the matrices; cells outside the
// block are left alone.
TEST(Fp16, TransposedBulkMatchesReferenceAndStaysInItsBlock) {
  std::mt19937 rng(11);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {8, 8}, {16, 24}, {13, 21}, {7, 9}, {33, 5}}) {
    const int64_t src_stride = rows + 3, dst_stride = cols + 5;
    std::vector<float> src = random_floats(static_cast<size_t>(cols * src_stride), static_cast<uint32_t>(rng()));
    std::vector<uint16_t> dst(static_cast<size_t>(rows * dst_stride), 0xABCD);
    floats_to_halves_transposed(dst.data(), dst_stride, src.data(), src_stride, rows, cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < dst_stride; ++c) {
        const uint16_t got = dst[static_cast<size_t>(r * dst_stride + c)];
        if (c < cols) {
          ASSERT_EQ(got, float_to_half_ref(src[static_cast<size_t>(c * src_stride + r)])) << rows << "x" << cols;
        } else {
          ASSERT_EQ(got, 0xABCD) << "wrote outside the block at " << r << "," << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ane

namespace ane {
namespace {

// bf16 against a float64 model: the nearest value with 8 significant bits, ties to even.
TEST(Bf16, RoundsToNearestEvenAndWidensExactly) {
  std::mt19937 rng(5);
  for (int i = 0; i < 200000; ++i) {
    const float f = from_bits(rng() & 0xBFFFFFFFu);  // finite, any exponent below 2^64
    const uint16_t b = float_to_bf16(f);
    const double lo = bf16_to_float(b);
    ASSERT_EQ(static_cast<uint32_t>(bits(static_cast<float>(lo))) & 0xFFFFu, 0u);
    const double ulp = std::ldexp(1.0, std::max(std::ilogb(lo == 0 ? f : lo), -126) - 7);  // subnormals: fixed ulp
    ASSERT_LE(std::fabs(lo - f), ulp / 2) << f;
    if (std::fabs(lo - f) == ulp / 2) ASSERT_EQ(b & 1, 0) << "tie goes to even: " << f;
  }
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f)), 1.0f);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
  EXPECT_EQ(float_to_bf16(INFINITY), 0x7F80);
}

}  // namespace
}  // namespace ane
