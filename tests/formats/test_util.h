// Helpers for the format tests: hand-placing little-endian values in golden byte arrays,
// checking an error's message and byte offset, and a scratch directory removed at the end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/status.h"

namespace ane::test {

using Bytes = std::vector<uint8_t>;

// Writes v little-endian at `at`, growing the buffer with zeros as needed.
template <typename T>
void put(Bytes& b, size_t at, T v) {
  if (b.size() < at + sizeof(T)) b.resize(at + sizeof(T), 0);
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// Appends v little-endian.
template <typename T>
void append(Bytes& b, T v) {
  put(b, b.size(), v);
}

template <typename T>
void append_all(Bytes& b, const std::vector<T>& vs) {
  for (const T& v : vs) append(b, v);
}

inline Bytes truncated(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + static_cast<long>(n)); }

// Asserts that `r` failed with `code`, at byte `offset`, with `text` in its message.
template <typename R>
::testing::AssertionResult fails_at(const R& r, int64_t offset, const std::string& text,
                                    ErrorCode code = ErrorCode::kParse) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected an error containing \"" << text << "\", got ok";
  const Error& e = r.error();
  if (e.code() != code) {
    return ::testing::AssertionFailure() << "error code " << error_code_name(e.code()) << ", expected "
                                         << error_code_name(code) << ": " << e.to_string();
  }
  if (e.where().byte_offset != offset) {
    return ::testing::AssertionFailure() << "byte offset " << e.where().byte_offset << ", expected " << offset << ": "
                                         << e.to_string();
  }
  if (e.message().find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << "message lacks \"" << text << "\": " << e.to_string();
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ane_formats_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ane::test
