// The typed Builder: inferred types, const emission, naming, and first-error recording.
#include "mil/builder.h"

#include <gtest/gtest.h>

#include "mil/verifier.h"

namespace ane::mil {
namespace {

using Shape = std::vector<int64_t>;

// The op that produced `v`.
const Op& producer(const Value* v) { return *v->producer; }

// The constant argument `name` of the op producing `v`.
const Constant& const_arg(const Value* v, std::string_view name) {
  const Value* a = producer(v).arg_value(name);
  EXPECT_NE(a, nullptr) << name;
  EXPECT_TRUE(a->is_constant()) << name;
  return *a->constant;
}

TEST(Builder, RmsNormThenOneByOneConv) {
  constexpr int64_t C = 768, S = 256, Cout = 2048;
  Builder b("main", "ios18");
  Value* x = b.input("x", {DType::kFp16, {1, C, 1, S}});  // [1, C, 1, S]
  Value* rms_w = b.const_tensor("rms_w", Constant::float_tensor(DType::kFp16, {1, C, 1, 1}, std::vector<float>(C, 1.0f)));
  Value* w1 = b.const_blob("w1", {DType::kFp16, {Cout, C, 1, 1}}, "@model_path/weights/w1.bin", 64);

  Value* sq = b.mul(x, x);                                    // [1, C, 1, S]
  Value* ss = b.reduce_sum(sq, {1}, /*keep_dims=*/true);      // [1, 1, 1, S]
  Value* ms = b.mul(ss, 1.0 / C);                             // mean square
  Value* ms_eps = b.add(ms, 1e-5);
  Value* rrms = b.pow(ms_eps, -0.5);                          // [1, 1, 1, S]
  Value* xr = b.mul(x, rrms);                                 // [1, C, 1, S]
  Value* xn = b.named("xnorm").mul(xr, rms_w);                // [1, C, 1, S]
  Value* h = b.named("h1").conv(xn, w1);                      // [1, Cout, 1, S]
  b.output(h);
  b.output(xn);
  ASSERT_TRUE(b.ok()) << b.status().to_string();

  EXPECT_EQ(sq->type, (TensorType{DType::kFp16, {1, C, 1, S}}));
  EXPECT_EQ(ss->type.shape, (Shape{1, 1, 1, S}));
  EXPECT_EQ(ms->type.shape, (Shape{1, 1, 1, S}));
  EXPECT_EQ(ms_eps->type.shape, (Shape{1, 1, 1, S}));
  EXPECT_EQ(rrms->type.shape, (Shape{1, 1, 1, S}));
  EXPECT_EQ(xr->type.shape, (Shape{1, C, 1, S}));
  EXPECT_EQ(xn->type.shape, (Shape{1, C, 1, S}));
  EXPECT_EQ(h->type, (TensorType{DType::kFp16, {1, Cout, 1, S}}));
  EXPECT_EQ(xn->name, "xnorm");
  EXPECT_EQ(h->name, "h1");
  EXPECT_EQ(producer(h).display_name(), "h1");

  // Scalars take x's dtype; conv parameters are emitted as consts the way the original does.
  EXPECT_EQ(const_arg(rrms, "y").type, (TensorType{DType::kFp16, {}}));
  EXPECT_FLOAT_EQ(const_arg(rrms, "y").to_floats()[0], -0.5f);
  EXPECT_EQ(const_arg(h, "pad_type").strings, std::vector<std::string>{"valid"});
  EXPECT_EQ(const_arg(h, "strides").to_ints(), (Shape{1, 1}));
  EXPECT_EQ(const_arg(h, "pad").to_ints(), (Shape{0, 0, 0, 0}));
  EXPECT_EQ(const_arg(h, "dilations").to_ints(), (Shape{1, 1}));
  EXPECT_EQ(const_arg(h, "groups").to_ints(), (Shape{1}));
  EXPECT_EQ(const_arg(ss, "axes").to_ints(), (Shape{1}));
  EXPECT_EQ(producer(producer(h).arg_value("pad_type")).type, "const");

  auto p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  const Function& fn = *(*p)->functions.front();
  EXPECT_EQ(fn.name, "main");
  EXPECT_EQ(fn.opset, "ios18");
  ASSERT_EQ(fn.outputs.size(), 2u);
  EXPECT_EQ(fn.outputs[0], h);
  EXPECT_TRUE(verify(**p).ok());
}

TEST(Builder, AttentionShapes) {
  Builder b;
  Value* q = b.input("q", {DType::kFp16, {1, 768, 1, 256}});
  Value* q4 = b.reshape(q, {1, 12, 64, 256});
  Value* qt = b.transpose(q4, {0, 1, 3, 2});                 // [1, 12, 256, 64]
  Value* scores = b.matmul(qt, q4);                          // [1, 12, 256, 256]
  Value* probs = b.softmax(b.mul(scores, 0.125), -1);
  Value* out = b.matmul(probs, qt);                          // [1, 12, 256, 64]
  Value* flat = b.reshape(b.transpose(out, {0, 1, 3, 2}), {1, 768, 1, 256});
  Value* packed = b.concat(1, {flat, q, flat});              // taps
  Value* back = b.slice_by_size(packed, {0, 768, 0, 0}, {1, 768, 1, 256});
  b.output(packed);
  b.output(back);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(scores->type.shape, (Shape{1, 12, 256, 256}));
  EXPECT_EQ(probs->type.shape, (Shape{1, 12, 256, 256}));
  EXPECT_EQ(out->type.shape, (Shape{1, 12, 256, 64}));
  EXPECT_EQ(packed->type.shape, (Shape{1, 2304, 1, 256}));
  EXPECT_EQ(back->type.shape, (Shape{1, 768, 1, 256}));
  EXPECT_TRUE(b.finish().ok());
}

TEST(Builder, OtherOpsAndGenericOp) {
  Builder b;
  Value* x = b.input("x", {DType::kFp32, {2, 6, 8}});
  auto parts = b.split(x, 1, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2]->type.shape, (Shape{2, 2, 8}));
  auto uneven = b.named("u").split_sizes(x, -1, {5, 3});
  ASSERT_EQ(uneven.size(), 2u);
  EXPECT_EQ(uneven[0]->name, "u_0");
  EXPECT_EQ(uneven[1]->type.shape, (Shape{2, 6, 3}));
  Value* h = b.cast(b.gelu(b.layer_norm(x, {-1}), "TANH_APPROXIMATION"), DType::kFp16);
  EXPECT_EQ(h->type, (TensorType{DType::kFp16, {2, 6, 8}}));
  Value* e = b.op("exp", {{"x", x}});
  EXPECT_EQ(e->type.shape, (Shape{2, 6, 8}));
  Value* m = b.reduce_mean(b.squeeze(b.expand_dims(x, {0}), {0}), {});
  EXPECT_EQ(m->type.shape, (Shape{}));
  Value* s = b.slice_by_index(x, {.begin = {0, 1, 0}, .end = {2, 5, 8}, .stride = {1, 2, 1}});
  EXPECT_EQ(s->type.shape, (Shape{2, 2, 8}));
  b.output(h);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_TRUE(b.finish().ok());
}

TEST(Builder, EqualParameterConstsAreShared) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, 4, 1, 8}});
  Value* w = b.const_blob("w", {DType::kFp16, {4, 4, 1, 1}}, "@model_path/weights/w.bin", 64);
  Value* a = b.conv(x, w);
  Value* c = b.conv(a, w);
  EXPECT_EQ(producer(a).arg_value("strides"), producer(c).arg_value("strides"));
  EXPECT_EQ(producer(a).arg_value("pad_type"), producer(c).arg_value("pad_type"));
  EXPECT_NE(a->name, c->name);
}

TEST(Builder, FirstErrorIsKeptAndReturnedByFinish) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {1, 512, 1, 256}});
  Value* w = b.const_blob("w", {DType::kFp16, {768, 768, 1, 1}}, "@model_path/weights/w.bin", 64);
  Value* bad = b.named("q_proj").conv(x, w);
  ASSERT_NE(bad, nullptr);  // a placeholder that later calls accept
  EXPECT_FALSE(b.ok());
  Value* later = b.transpose(b.add(bad, x), {0, 0});
  ASSERT_NE(later, nullptr);
  b.output(later);
  auto p = b.finish();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kVerify);
  EXPECT_NE(p.error().message().find("conv 'q_proj': argument 'weight': weight has 768 input channels per group but x has 512"),
            std::string::npos)
      << p.error().to_string();
}

TEST(Builder, DuplicateNamesAndNullsAreErrors) {
  Builder b;
  Value* x = b.input("x", {DType::kFp16, {4}});
  b.named("x").relu(x);
  EXPECT_NE(b.status().to_string().find("name 'x' is already defined"), std::string::npos) << b.status().to_string();

  Builder c;
  c.relu(nullptr);
  EXPECT_NE(c.status().to_string().find("null Value*"), std::string::npos);
}

TEST(Builder, FinishNeedsOutputsAndRunsOnce) {
  Builder b;
  b.input("x", {DType::kFp16, {4}});
  auto none = b.finish();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("has no outputs"), std::string::npos);

  Builder c;
  c.output(c.relu(c.input("x", {DType::kFp16, {4}})));
  EXPECT_TRUE(c.finish().ok());
  auto again = c.finish();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("called twice"), std::string::npos);
}

}  // namespace
}  // namespace ane::mil
