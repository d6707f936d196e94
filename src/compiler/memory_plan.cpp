#include "compiler/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace ane::compiler {
namespace {

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

bool overlap_in_time(const BufferLife& a, const BufferLife& b) { return a.first <= b.last && b.first <= a.last; }

struct Placed {
  size_t begin, end;  // bytes
};

// The lowest offset where `size` bytes fit between the (sorted) ranges taken.
size_t first_fit(std::vector<Placed>& taken, size_t size) {
  std::sort(taken.begin(), taken.end(), [](const Placed& a, const Placed& b) { return a.begin < b.begin; });
  size_t at = 0;
  for (const Placed& p : taken) {
    if (p.begin >= at + size) break;
    at = std::max(at, p.end);
  }
  return at;
}

}  // namespace

MemoryPlan plan_memory(std::span<const BufferLife> buffers, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> done;
  std::vector<Placed> taken;
  for (size_t i : order) {
    const size_t size = round_up(std::max<size_t>(buffers[i].bytes, 1), alignment);
    taken.clear();
    for (size_t j : done) {
      if (overlap_in_time(buffers[i], buffers[j])) {
        taken.push_back({plan.offsets[j], plan.offsets[j] + round_up(std::max<size_t>(buffers[j].bytes, 1), alignment)});
      }
    }
    plan.offsets[i] = first_fit(taken, size);
    plan.peak_bytes = std::max(plan.peak_bytes, plan.offsets[i] + size);
    plan.total_bytes += size;
    done.push_back(i);
  }
  return plan;
}

}  // namespace ane::compiler
