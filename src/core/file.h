// Files: read-only memory maps with bounds-checked views, whole-file reads, and atomic
// writes (temp file, fsync, rename) so that a crash never leaves a half-written file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/status.h"

namespace ane {

// A read-only memory map of a whole file. Move-only; unmapped on destruction.
class MappedFile {
 public:
  static Expected<MappedFile> open(const std::string& path);

  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  // Hands the pages under `part` (a range of bytes()) back to the page cache: they stop
  // counting towards this process's resident memory and are read again if touched.
  void release(std::span<const uint8_t> part) const;
  size_t size() const { return size_; }
  ByteReader reader() const { return ByteReader(bytes(), path_); }

 private:
  void reset();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

Expected<std::vector<uint8_t>> read_file(const std::string& path);
Expected<std::string> read_text_file(const std::string& path);

// A file written in pieces and published atomically: the bytes go to a temp file beside
// `path`; commit() fsyncs and renames it over `path` (then fsyncs the directory). Destroyed
// without commit() (or after a failed write), the temp file is removed and `path` untouched.
class AtomicFileWriter {
 public:
  static Expected<AtomicFileWriter> create(const std::string& path);
  AtomicFileWriter(AtomicFileWriter&& o) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status write(std::span<const uint8_t> bytes);
  Status write_zeros(size_t n);
  Status commit();

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd) : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  std::string path_, tmp_;
  int fd_ = -1;
};

// Makes `path` a second name (a hard link) for the file at `existing`, atomically replacing
// what `path` was: a link under a temp name, renamed onto `path`. Later atomic writes to either
// name replace that name only. Fails, `path` untouched, where the filesystem has no hard links
// (callers write a copy instead).
Status link_atomic(const std::string& existing, const std::string& path);

// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename, fsync of the
// directory. On failure the previous file (if any) is untouched and the temp file removed.
Status write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);
inline Status write_file_atomic(const std::string& path, const std::string& text) {
  return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

}  // namespace ane
