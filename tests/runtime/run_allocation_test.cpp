// Kernel::run allocates nothing: the plan binds every buffer at compile time and the kernel
// precomputes its surface views and lock order.
#include <gtest/gtest.h>

#include <string>

#include "runtime/engine.h"

#include "../support/count_allocations.h"  // replaces operator new for this binary

namespace ane {
namespace {

constexpr const char* kProgram = R"(program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 16, 1, 8]> x, tensor<fp16, [1, 16, 1, 8]> y) {
        tensor<fp16, [1, 16, 1, 8]> s = add(x = x, y = y)[name = string("s")];
        tensor<fp16, [1, 16, 1, 8]> g = sigmoid(x = s)[name = string("g")];
        tensor<fp16, [1, 16, 1, 8]> m = mul(x = s, y = g)[name = string("m")];
        tensor<int32, [1]> ax = const()[name = string("ax"), val = tensor<int32, [1]>([1])];
        tensor<fp16, [1, 1, 1, 8]> r = reduce_sum(x = m, axes = ax, keep_dims = bool(true))[name = string("r")];
        int32 cax = const()[name = string("cax"), val = int32(1)];
        tensor<fp16, [1, 17, 1, 8]> out = concat(axis = cax, interleave = bool(false), values = (m, r))[name = string("out")];
    } -> (out);
}
)";

TEST(KernelRun, AllocatesNothing) {
  auto engine = Engine::create();
  ASSERT_TRUE(engine.ok());
  const size_t in[] = {256, 256}, out[] = {272};
  auto kernel = (*engine)->compile(kProgram, {}, in, out);
  ASSERT_TRUE(kernel.ok()) << kernel.error().to_string();
  ASSERT_TRUE((*kernel)->run().ok());  // warm up (thread start-up)
  g_allocations = 0;
  g_counting = true;
  Status st;
  for (int i = 0; i < 5; ++i) st = (*kernel)->run();
  g_counting = false;
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(g_allocations.load(), 0);
  // The counter itself works.
  g_counting = true;
  std::string* s = new std::string(100, 'x');
  g_counting = false;
  delete s;
  EXPECT_GE(g_allocations.load(), 1);
}

}  // namespace
}  // namespace ane
