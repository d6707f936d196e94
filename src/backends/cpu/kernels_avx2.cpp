// The AVX2/FMA/F16C build of the kernels, chosen at run time on CPUs that have them.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "core/fp16.h"
#include "core/transpose8x8.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define ANE_KERNEL_NS avx2
#define ANE_KERNEL_NAME "avx2"
#define ANE_KERNELS_F16C 1
#include "backends/cpu/kernels_impl.inc"
#pragma GCC pop_options
