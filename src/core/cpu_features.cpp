#include "core/cpu_features.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>
#include <utility>

namespace ane {
namespace {

// Counts distinct (physical id, core id) pairs in /proc/cpuinfo; falls back to the
// logical count where the file lacks them (VMs often do).
int count_physical_cores(int logical) {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<int, int>> cores;
  int phys = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = line.substr(colon + 1);
    if (key == "physical id") phys = std::atoi(value.c_str());
    if (key == "core id") cores.insert({phys, std::atoi(value.c_str())});
  }
  if (cores.empty()) return logical;
  return static_cast<int>(cores.size());
}

std::string read_brand() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  __builtin_cpu_init();
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  // F16C has no __builtin_cpu_supports name in older compilers: read CPUID leaf 1, ECX bit 29.
  unsigned eax = 1, ebx = 0, ecx = 0, edx = 0;
  __asm__("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  f.f16c = (ecx >> 29) & 1u;
#endif
  f.brand = read_brand();
  f.logical_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  f.physical_cores = std::min(f.logical_cpus, count_physical_cores(f.logical_cpus));
  return f;
}

}  // namespace

std::string CpuFeatures::summary() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx, "avx");
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  return s.empty() ? "none" : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();  // immutable after first use
  return features;
}

}  // namespace ane
