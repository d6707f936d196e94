#include "runtime/kernel.h"

#include <algorithm>
#include <utility>

namespace ane {
namespace {

// Holds the locks of a set of surfaces for a run: each surface once (exclusive if it is
// written), taken in address order so that kernels sharing surfaces cannot deadlock.
class SurfaceLocks {
 public:
  SurfaceLocks(const std::vector<std::shared_ptr<Surface>>& readers, const std::vector<std::shared_ptr<Surface>>& writers) {
    for (const auto& s : readers) held_.push_back({s.get(), false});
    for (const auto& s : writers) held_.push_back({s.get(), true});
    std::sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) {
      return a.surface != b.surface ? std::less<>()(a.surface, b.surface) : a.exclusive > b.exclusive;
    });
    held_.erase(std::unique(held_.begin(), held_.end(), [](const Held& a, const Held& b) { return a.surface == b.surface; }),
                held_.end());
    for (const Held& h : held_) h.exclusive ? h.surface->lock() : h.surface->lock_shared();
  }
  ~SurfaceLocks() {
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) it->exclusive ? it->surface->unlock() : it->surface->unlock_shared();
  }
  SurfaceLocks(const SurfaceLocks&) = delete;
  SurfaceLocks& operator=(const SurfaceLocks&) = delete;

 private:
  struct Held {
    const Surface* surface;
    bool exclusive;
  };
  std::vector<Held> held_;
};

std::vector<std::shared_ptr<Surface>> make_surfaces(const std::vector<mil::TensorType>& types) {
  std::vector<std::shared_ptr<Surface>> out;
  for (const auto& t : types) out.push_back(Surface::create(t));
  return out;
}

}  // namespace

Kernel::Kernel(std::string name, std::unique_ptr<Executable> exe, const std::vector<mil::TensorType>& input_types,
               const std::vector<mil::TensorType>& output_types, CompileOptions options)
    : name_(std::move(name)), exe_(std::move(exe)), options_(options), inputs_(make_surfaces(input_types)), outputs_(make_surfaces(output_types)) {}

Status Kernel::check_index(size_t idx, size_t count, const char* what) const {
  if (idx >= count) {
    return Error(ErrorCode::kOutOfRange, "kernel '" + name_ + "': " + what + " index " + std::to_string(idx) +
                                             " out of range (it has " + std::to_string(count) + ")");
  }
  return {};
}

std::shared_ptr<Surface> Kernel::input(size_t idx) const {
  std::lock_guard guard(mu_);
  return idx < inputs_.size() ? inputs_[idx] : nullptr;
}

std::shared_ptr<Surface> Kernel::output(size_t idx) const {
  std::lock_guard guard(mu_);
  return idx < outputs_.size() ? outputs_[idx] : nullptr;
}

Status Kernel::bind_input(size_t idx, std::shared_ptr<Surface> surface) {
  std::lock_guard guard(mu_);
  ANE_RETURN_IF_ERROR(check_index(idx, inputs_.size(), "input"));
  const std::string where = "kernel '" + name_ + "': input " + std::to_string(idx) + ": ";
  if (!surface) return invalid_argument(where + "cannot bind a null surface");
  const mil::TensorType& want = inputs_[idx]->type();
  if (surface->type().dtype != want.dtype || surface->size() != inputs_[idx]->size()) {
    return invalid_argument(where + "surface " + surface->type().to_string() + " (" + std::to_string(surface->size()) +
                            " bytes) does not match " + want.to_string() + " (" +
                            std::to_string(inputs_[idx]->size()) + " bytes)");
  }
  if (std::find(outputs_.begin(), outputs_.end(), surface) != outputs_.end()) {
    return invalid_argument(where + "cannot bind one of this kernel's own outputs");
  }
  inputs_[idx] = std::move(surface);
  return {};
}

Status Kernel::write_input(size_t idx, std::span<const uint8_t> bytes) {
  std::lock_guard guard(mu_);
  ANE_RETURN_IF_ERROR(check_index(idx, inputs_.size(), "input"));
  Status st = inputs_[idx]->write(bytes);
  if (!st.ok()) return st.error().with_context("kernel '" + name_ + "': input " + std::to_string(idx));
  return {};
}

Status Kernel::read_output(size_t idx, std::span<uint8_t> bytes) const {
  std::lock_guard guard(mu_);
  ANE_RETURN_IF_ERROR(check_index(idx, outputs_.size(), "output"));
  Status st = outputs_[idx]->read(bytes);
  if (!st.ok()) return st.error().with_context("kernel '" + name_ + "': output " + std::to_string(idx));
  return {};
}

Status Kernel::run() {
  if (running_.exchange(true)) {
    return invalid_argument("kernel '" + name_ + "' is already running on another thread (a kernel is not re-entrant)");
  }
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done{running_};
  std::lock_guard guard(mu_);
  SurfaceLocks locks(inputs_, outputs_);
  std::vector<std::span<const uint8_t>> in;
  std::vector<std::span<uint8_t>> out;
  for (const auto& s : inputs_) in.push_back(std::as_const(*s).bytes());
  for (const auto& s : outputs_) out.push_back(s->bytes());
  Status st = exe_->run(IoBuffers{in, out});
  if (!st.ok()) return st.error().with_context("kernel '" + name_ + "'");
  return {};
}

}  // namespace ane
