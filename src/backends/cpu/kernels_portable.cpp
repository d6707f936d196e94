// The portable (baseline x86-64 / any ISA) build of the kernels.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "core/fp16.h"

#define ANE_KERNEL_NS portable
#define ANE_KERNEL_NAME "portable"
#include "backends/cpu/kernels_impl.inc"
