// Every op, single-op programs from the Builder with random shapes (broadcasting, negative
// axes, odd sizes), CPU backend against the reference in both precision modes.
#include <gtest/gtest.h>

#include <functional>
#include <numeric>

#include "differential.h"

namespace ane::testing {
namespace {

using mil::Builder;
using mil::DType;
using mil::TensorType;
using mil::Value;
using Shape = std::vector<int64_t>;

constexpr Precision kBoth[] = {Precision::kFp32, Precision::kFp16};

int64_t pick(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

Shape random_shape(std::mt19937& rng, int min_rank = 1, int max_rank = 4) {
  Shape s(static_cast<size_t>(pick(rng, min_rank, max_rank)));
  for (auto& d : s) d = pick(rng, 1, 11);
  return s;
}

// A shape that broadcasts to `out`: some axes set to 1, some leading axes dropped.
Shape broadcastable(const Shape& out, std::mt19937& rng) {
  Shape s(out.begin() + pick(rng, 0, static_cast<int64_t>(out.size()) - 1) * pick(rng, 0, 1), out.end());
  for (auto& d : s) {
    if (pick(rng, 0, 2) == 0) d = 1;
  }
  return s;
}

using Build = std::function<void(Builder&, std::mt19937&)>;

// Builds a program per seed and precision and compares the backends on random inputs.
void check(const std::string& name, const Build& build, double lo = -2.0, double hi = 2.0, int seeds = 6) {
  for (int seed = 0; seed < seeds; ++seed) {
    for (Precision p : kBoth) {
      std::mt19937 rng(static_cast<unsigned>(seed * 7919 + 17));
      Builder b;
      build(b, rng);
      auto program = finish(b);
      ASSERT_NE(program, nullptr) << name;
      const mil::Function& fn = *program->functions.front();
      std::mt19937 data_rng(static_cast<unsigned>(seed + 1));
      expect_matches_reference(fn, random_inputs(fn, data_rng, lo, hi), p, name + " seed " + std::to_string(seed));
    }
  }
}

TEST(CpuOps, BinaryWithBroadcasting) {
  using BinaryFn = Value* (Builder::*)(Value*, Value*);
  const std::pair<const char*, BinaryFn> ops[] = {{"add", &Builder::add},         {"sub", &Builder::sub},
                                                  {"mul", &Builder::mul},         {"maximum", &Builder::maximum},
                                                  {"minimum", &Builder::minimum}};
  for (auto [name, fn] : ops) {
    check(name, [fn](Builder& b, std::mt19937& rng) {
      const Shape out = random_shape(rng);
      Value* x = b.input("x", {DType::kFp32, pick(rng, 0, 1) ? out : broadcastable(out, rng)});
      Value* y = b.input("y", {DType::kFp32, broadcastable(out, rng)});
      b.output((b.*fn)(x, y));
    });
  }
}

TEST(CpuOps, DivAndPowOnSafeRanges) {
  check("real_div", [](Builder& b, std::mt19937& rng) {
    const Shape out = random_shape(rng);
    Value* x = b.input("x", {DType::kFp32, out});
    Value* y = b.input("y", {DType::kFp32, broadcastable(out, rng)});
    b.output(b.real_div(x, b.add(y, 3.0)));  // y + 3 in [2.5, 4]
  }, -1.0, 1.0);
  check("pow", [](Builder& b, std::mt19937& rng) {
    const Shape out = random_shape(rng);
    Value* x = b.input("x", {DType::kFp32, out});
    Value* y = b.input("y", {DType::kFp32, broadcastable(out, rng)});
    b.output(b.pow(x, y));
  }, 0.5, 2.0);
}

TEST(CpuOps, ScalarOperands) {
  check("scalar", [](Builder& b, std::mt19937& rng) {
    Value* x = b.input("x", {DType::kFp32, random_shape(rng)});
    b.output(b.sub(b.mul(x, 1.5), 0.25));
  });
}

TEST(CpuOps, Activations) {
  using UnaryFn = Value* (Builder::*)(Value*);
  const std::pair<const char*, UnaryFn> ops[] = {{"sigmoid", &Builder::sigmoid}, {"tanh", &Builder::tanh},
                                                 {"relu", &Builder::relu},       {"silu", &Builder::silu},
                                                 {"exp", &Builder::exp}};
  for (auto [name, fn] : ops) {
    check(name, [fn](Builder& b, std::mt19937& rng) {
      b.output((b.*fn)(b.input("x", {DType::kFp32, random_shape(rng)})));
    }, -6.0, 6.0);
  }
  for (const char* mode : {"EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"}) {
    check(std::string("gelu ") + mode, [mode](Builder& b, std::mt19937& rng) {
      b.output(b.gelu(b.input("x", {DType::kFp32, random_shape(rng)}), mode));
    }, -4.0, 4.0);
  }
  check("clip", [](Builder& b, std::mt19937& rng) {
    b.output(b.clip(b.input("x", {DType::kFp32, random_shape(rng)}), -0.5, 1.25));
  });
}

TEST(CpuOps, PositiveDomainMath) {
  check("sqrt/log/rsqrt/inverse", [](Builder& b, std::mt19937& rng) {
    Value* x = b.input("x", {DType::kFp32, random_shape(rng)});
    b.output(b.sqrt(x));
    b.output(b.log(x));
    b.output(b.rsqrt(x, 1e-5));
    b.output(b.inverse(x));
  }, 0.25, 4.0);
}

TEST(CpuOps, SoftmaxAnyAxis) {
  check("softmax", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng);
    const auto rank = static_cast<int64_t>(s.size());
    b.output(b.softmax(b.input("x", {DType::kFp32, s}), pick(rng, -rank, rank - 1)));
  }, -8.0, 8.0);
  // Over the channels of one [1, C, 1, S] block: row ranges (merged statistics from C = 1024
  // on) and column tiles are shared out between threads (S leaves a partial tile).
  check("channel softmax", [](Builder& b, std::mt19937& rng) {
    const int64_t c = pick(rng, 200, 2600), seq = pick(rng, 70, 300);
    b.output(b.softmax(b.input("x", {DType::kFp32, {1, c, 1, seq}}), 1));
  }, -8.0, 8.0, 2);
  // One long vector: a single block with a single column.
  check("vector softmax", [](Builder& b, std::mt19937& rng) {
    b.output(b.softmax(b.input("x", {DType::kFp32, {pick(rng, 1000, 3000)}}), 0));
  }, -8.0, 8.0, 2);
}

TEST(CpuOps, Reductions) {
  using ReduceFn = Value* (Builder::*)(Value*, const std::vector<int64_t>&, bool);
  const std::pair<const char*, ReduceFn> ops[] = {{"reduce_sum", &Builder::reduce_sum},
                                                  {"reduce_mean", &Builder::reduce_mean},
                                                  {"reduce_max", &Builder::reduce_max},
                                                  {"reduce_min", &Builder::reduce_min}};
  for (auto [name, fn] : ops) {
    check(name, [fn](Builder& b, std::mt19937& rng) {
      const Shape s = random_shape(rng, 2, 4);
      const auto rank = static_cast<int64_t>(s.size());
      const int64_t first = pick(rng, 0, rank - 1), last = pick(rng, first, rank - 1);
      std::vector<int64_t> axes;
      for (int64_t a = first; a <= last; ++a) axes.push_back(pick(rng, 0, 1) ? a - rank : a);
      if (pick(rng, 0, 3) == 0 && rank >= 3) axes = {0, rank - 1};  // non-adjacent: reference path
      b.output((b.*fn)(b.input("x", {DType::kFp32, s}), axes, pick(rng, 0, 1) == 1));
    });
  }
}

TEST(CpuOps, LayerNorm) {
  check("layer_norm", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng, 2, 4);
    const auto rank = static_cast<int64_t>(s.size());
    const int64_t first = pick(rng, 1, rank - 1);
    std::vector<int64_t> axes;
    Shape norm;
    for (int64_t a = first; a < rank; ++a) axes.push_back(a), norm.push_back(s[static_cast<size_t>(a)]);
    Value* gamma = b.input("gamma", {DType::kFp32, norm});
    Value* beta = b.input("beta", {DType::kFp32, norm});
    b.output(b.layer_norm(b.input("x", {DType::kFp32, s}), axes, gamma, beta, 1e-5));
  });
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale = 0.3f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& e : v) e = d(rng);
  return v;
}

TEST(CpuOps, Conv) {
  check("conv 1x1 / general", [](Builder& b, std::mt19937& rng) {
    const int64_t n = pick(rng, 1, 2), cin = pick(rng, 1, 19), cout = pick(rng, 1, 23), w = pick(rng, 1, 13);
    const int64_t k = pick(rng, 0, 2) == 0 ? 3 : 1;
    const DType wd = pick(rng, 0, 1) ? DType::kFp16 : DType::kFp32;
    Value* x = b.input("x", {wd, {n, cin, 1, w + 2}});
    Value* weight = b.const_tensor("w", mil::Constant::float_tensor(wd, {cout, cin, 1, k},
                                                                    random_floats(static_cast<size_t>(cout * cin * k), rng)));
    mil::ConvOptions o;
    if (pick(rng, 0, 1)) {
      o.bias = b.const_tensor("bias", mil::Constant::float_tensor(wd, {cout}, random_floats(static_cast<size_t>(cout), rng)));
    }
    b.output(b.conv(x, weight, o));
  });
}

TEST(CpuOps, MatmulWithTransposesAndBatchBroadcast) {
  check("matmul", [](Builder& b, std::mt19937& rng) {
    const int64_t m = pick(rng, 1, 13), k = pick(rng, 1, 17), n = pick(rng, 1, 11);
    const bool tx = pick(rng, 0, 1), ty = pick(rng, 0, 1);
    const int64_t batch = pick(rng, 1, 3);
    Shape xs = tx ? Shape{batch, 1, k, m} : Shape{batch, 1, m, k};
    Shape ys = ty ? Shape{2, n, k} : Shape{2, k, n};
    if (pick(rng, 0, 1)) xs.erase(xs.begin());
    Value* x = b.input("x", {DType::kFp32, xs});
    Value* y = b.input("y", {DType::kFp32, ys});
    b.output(b.matmul(x, y, tx, ty));
  });
}

TEST(CpuOps, Linear) {
  check("linear", [](Builder& b, std::mt19937& rng) {
    const int64_t din = pick(rng, 1, 20), dout = pick(rng, 1, 20);
    Value* x = b.input("x", {DType::kFp32, {pick(rng, 1, 3), pick(rng, 1, 7), din}});
    Value* w = b.const_tensor("w", mil::Constant::float_tensor(DType::kFp32, {dout, din},
                                                               random_floats(static_cast<size_t>(dout * din), rng)));
    Value* bias = b.const_tensor("b", mil::Constant::float_tensor(DType::kFp32, {dout}, random_floats(static_cast<size_t>(dout), rng)));
    b.output(b.linear(x, w, bias));
  });
}

TEST(CpuOps, ShapeOps) {
  check("transpose/reshape", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng, 2, 4);
    std::vector<int64_t> perm(s.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    Value* x = b.input("x", {DType::kFp32, s});
    Value* t = b.transpose(x, perm);
    b.output(b.reshape(t, {-1}));
    b.output(b.expand_dims(t, {0}));
    b.output(b.squeeze(b.expand_dims(x, {-1}), {-1}));
  });
  check("concat/split", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng, 1, 4);
    const auto rank = static_cast<int64_t>(s.size());
    const int64_t axis = pick(rng, -rank, rank - 1);
    Shape s2 = s;
    s2[static_cast<size_t>(axis < 0 ? axis + rank : axis)] += 2;
    Value* x = b.input("x", {DType::kFp32, s});
    Value* y = b.input("y", {DType::kFp32, s2});
    Value* c = b.concat(axis, {b.mul(x, 2.0), y, x});
    b.output(c);
    for (Value* part : b.split(b.add(c, 1.0), axis, 1)) b.output(part);
    // Strided splits: two halves along the axis, and every position of another axis alone.
    for (Value* part : b.split(b.add(b.concat(axis, {c, y}), 1.0), axis, 2)) b.output(part);
    const int64_t other = pick(rng, 0, rank - 1);
    for (Value* part : b.split(b.mul(x, 3.0), other, s[static_cast<size_t>(other)])) b.output(part);
  });
  check("slices/tile/gather", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng, 1, 4);
    std::vector<int64_t> begin, size, end, stride;
    for (int64_t d : s) {
      const int64_t lo = pick(rng, 0, d - 1);
      begin.push_back(lo);
      size.push_back(pick(rng, 0, 1) ? -1 : pick(rng, 1, d - lo));
      end.push_back(d);
      stride.push_back(pick(rng, 1, 2));
    }
    Value* x = b.input("x", {DType::kFp32, s});
    b.output(b.slice_by_size(x, begin, size));
    b.output(b.slice_by_index(x, {begin, end, stride}));
    b.output(b.tile(x, std::vector<int64_t>(s.size(), 2)));
    Value* idx = b.const_tensor("idx", mil::Constant::int_tensor(DType::kInt32, {0, s[0] - 1, 0}));
    b.output(b.gather(x, idx, 0));
  });
}

TEST(CpuOps, CastAndFp16Surfaces) {
  check("cast", [](Builder& b, std::mt19937& rng) {
    const Shape s = random_shape(rng);
    Value* x = b.input("x", {DType::kFp16, s});
    Value* f = b.cast(x, DType::kFp32);
    b.output(b.cast(b.mul(f, 1000.0), DType::kFp16));  // overflows to inf beyond 65504
    b.output(b.cast(b.mul(f, 10.0), DType::kInt32));
  }, -80.0, 80.0);
}

TEST(CpuOps, QuantizeDequantize) {
  check("quantize", [](Builder& b, std::mt19937& rng) {
    Value* x = b.input("x", {DType::kFp32, random_shape(rng)});
    Value* scale = b.const_scalar(DType::kFp32, 0.05);
    Value* zp = b.const_tensor("zp", mil::Constant::scalar_int(DType::kInt8, 3));
    Value* q = b.quantize(x, scale, zp, DType::kInt8);
    b.output(b.dequantize(q, scale, zp));
  });
}

}  // namespace
}  // namespace ane::testing
