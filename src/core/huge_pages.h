// Transparent huge pages for large buffers.
//
// A training step streams gigabytes (weights, gradients, Adam moments, fp16 weight surfaces,
// logits) and its GEMMs read weights row by row; with 4 KiB pages nearly every new row or
// stream position is a TLB miss, which in a virtual machine costs a two-dimensional page walk.
// Debian's kernels back memory with 2 MiB pages only where a program asks (THP "madvise"
// mode), so the large buffers ask. Advice only: where the kernel has no THP nothing changes.
#pragma once

#include <cstddef>
#include <vector>

namespace ane {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Advises the kernel to back the whole 2 MiB pages inside [p, p + bytes) with huge pages
// when they are first touched. False when there is no such page or the kernel declined.
bool advise_huge_pages(void* p, size_t bytes);

// n value-initialised elements whose storage was advised before its first write, so that a
// large vector is faulted in as huge pages.
template <typename T>
std::vector<T> vector_on_huge_pages(size_t n) {
  std::vector<T> v;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
  v.resize(n);
  return v;
}

}  // namespace ane
