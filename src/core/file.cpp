#include "core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ane {
namespace {

Error os_error(const std::string& what, const std::string& path) {
  return io_error(what + ": " + std::strerror(errno), Location{path});
}

// Closes a descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The temp name a file is prepared under before it is renamed onto `path`.
std::string temp_name(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

// Makes a rename into path's directory durable.
void sync_parent_dir(const std::string& path) {
  const int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

Expected<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open", path);
  FdCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return os_error("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return io_error("not a regular file", Location{path});
  MappedFile m;
  m.path_ = path;
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ == 0) return m;  // mmap of length 0 is invalid; an empty view is fine
  void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return os_error("cannot map", path);
  m.data_ = static_cast<const uint8_t*>(p);
  return m;
}

MappedFile::~MappedFile() { reset(); }

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    path_ = std::move(o.path_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void MappedFile::reset() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

void MappedFile::release(std::span<const uint8_t> part) const {
  if (part.empty() || data_ == nullptr) return;
  // Whole pages inside the range only: a page shared with a neighbouring range stays.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(part.data()) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(part.data()) + part.size()) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Expected<std::vector<uint8_t>> read_file(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile m, MappedFile::open(path));
  return std::vector<uint8_t>(m.bytes().begin(), m.bytes().end());
}

Expected<std::string> read_text_file(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile m, MappedFile::open(path));
  return std::string(reinterpret_cast<const char*>(m.bytes().data()), m.size());
}

Expected<AtomicFileWriter> AtomicFileWriter::create(const std::string& path) {
  std::string tmp = temp_name(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot create", tmp);
  return AtomicFileWriter(path, std::move(tmp), fd);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), fd_(std::exchange(o.fd_, -1)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Status AtomicFileWriter::write(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return invalid_argument("write to a closed file '" + tmp_ + "'");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", tmp_);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status AtomicFileWriter::write_zeros(size_t n) {
  static constexpr uint8_t kZeros[256] = {};
  while (n > 0) {
    const size_t k = std::min(n, sizeof kZeros);
    ANE_RETURN_IF_ERROR(write({kZeros, k}));
    n -= k;
  }
  return {};
}

Status AtomicFileWriter::commit() {
  if (fd_ < 0) return invalid_argument("commit of a closed file '" + tmp_ + "'");
  if (::fsync(fd_) != 0) return os_error("cannot fsync", tmp_);
  const int fd = std::exchange(fd_, -1);
  auto fail = [&](Error e) {
    ::unlink(tmp_.c_str());
    return e;
  };
  if (::close(fd) != 0) return fail(os_error("cannot close", tmp_));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return fail(os_error("cannot rename temp file onto", path_));
  sync_parent_dir(path_);
  return {};
}

Status link_atomic(const std::string& existing, const std::string& path) {
  const std::string tmp = temp_name(path);
  ::unlink(tmp.c_str());  // a leftover of a run that died here
  if (::link(existing.c_str(), tmp.c_str()) != 0) return os_error("cannot link " + existing + " as", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = os_error("cannot rename a link onto", path);
    ::unlink(tmp.c_str());
    return e;
  }
  sync_parent_dir(path);
  return {};
}

Status write_file_atomic(const std::string& path, std::span<const uint8_t> bytes) {
  ANE_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
  ANE_RETURN_IF_ERROR(w.write(bytes));
  return w.commit();
}

}  // namespace ane
