#include "runtime/kernel.h"

#include <algorithm>
#include <utility>

namespace ane {
namespace {

// Holds the locks of a set of surfaces for a run: each surface once (exclusive if it is
// written), taken in address order so that kernels sharing surfaces cannot deadlock.
// Holds the locks of a precomputed lock order for the length of a run (no allocation).
class HeldLocks {
 public:
  explicit HeldLocks(const std::vector<Kernel::LockEntry>& order) : order_(order) {
    for (const auto& e : order_) e.exclusive ? e.surface->lock() : e.surface->lock_shared();
  }
  ~HeldLocks() {
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) it->exclusive ? it->surface->unlock() : it->surface->unlock_shared();
  }
  HeldLocks(const HeldLocks&) = delete;
  HeldLocks& operator=(const HeldLocks&) = delete;

 private:
  const std::vector<Kernel::LockEntry>& order_;
};

std::vector<std::shared_ptr<Surface>> make_surfaces(const std::vector<mil::TensorType>& types) {
  std::vector<std::shared_ptr<Surface>> out;
  for (const auto& t : types) out.push_back(Surface::create(t));
  return out;
}

}  // namespace

Kernel::Kernel(std::string name, std::unique_ptr<Executable> exe, const std::vector<mil::TensorType>& input_types,
               const std::vector<mil::TensorType>& output_types, CompileOptions options,
               std::unique_ptr<const mil::Program> program)
    : name_(std::move(name)),
      program_(std::move(program)),
      exe_(std::move(exe)),
      options_(options),
      inputs_(make_surfaces(input_types)),
      outputs_(make_surfaces(output_types)) {
  rebind();
}

void Kernel::rebind() {
  input_views_.clear();
  output_views_.clear();
  lock_order_.clear();
  for (const auto& s : inputs_) {
    input_views_.push_back(std::as_const(*s).bytes());
    lock_order_.push_back({s.get(), false});
  }
  for (const auto& s : outputs_) {
    output_views_.push_back(s->bytes());
    lock_order_.push_back({s.get(), true});
  }
  // One global order (by address, writers first) so kernels sharing surfaces cannot deadlock;
  // a surface appears once, exclusively if anyone writes it.
  std::sort(lock_order_.begin(), lock_order_.end(), [](const LockEntry& a, const LockEntry& b) {
    return a.surface != b.surface ? std::less<>()(a.surface, b.surface) : a.exclusive > b.exclusive;
  });
  lock_order_.erase(std::unique(lock_order_.begin(), lock_order_.end(),
                                [](const LockEntry& a, const LockEntry& b) { return a.surface == b.surface; }),
                    lock_order_.end());
}

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

Status Kernel::bind(bool output, size_t idx, std::shared_ptr<Surface> surface) {
  std::lock_guard guard(mu_);
  std::vector<std::shared_ptr<Surface>>& slots = output ? outputs_ : inputs_;
  const std::vector<std::shared_ptr<Surface>>& other_side = output ? inputs_ : outputs_;
  const char* what = output ? "output" : "input";
  ANE_RETURN_IF_ERROR(check_index(idx, slots.size(), what));
  const std::string where = "kernel '" + name_ + "': " + what + " " + std::to_string(idx) + ": ";
  if (!surface) return invalid_argument(where + "cannot bind a null surface");
  const mil::TensorType& want = slots[idx]->type();
  if (surface->type().dtype != want.dtype || surface->size() != slots[idx]->size()) {
    return invalid_argument(where + "surface " + surface->type().to_string() + " (" + std::to_string(surface->size()) +
                            " bytes) does not match " + want.to_string() + " (" + std::to_string(slots[idx]->size()) +
                            " bytes)");
  }
  if (std::find(other_side.begin(), other_side.end(), surface) != other_side.end()) {
    return invalid_argument(where + "the surface is already one of this kernel's " + (output ? "inputs" : "outputs"));
  }
  if (output) {  // two outputs in one surface would overwrite each other
    for (size_t j = 0; j < slots.size(); ++j) {
      if (j != idx && slots[j] == surface) return invalid_argument(where + "the surface is already output " + std::to_string(j));
    }
  }
  slots[idx] = std::move(surface);
  rebind();
  return {};
}

Status Kernel::bind_input(size_t idx, std::shared_ptr<Surface> surface) { return bind(false, idx, std::move(surface)); }

Status Kernel::bind_output(size_t idx, std::shared_ptr<Surface> surface) { return bind(true, idx, std::move(surface)); }

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

template <typename Body>
Status Kernel::execute(Body&& body) {
  if (running_.exchange(true)) {
    return invalid_argument("kernel '" + name_ + "' is already running on another thread (a kernel is not re-entrant)");
  }
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done{running_};
  std::lock_guard guard(mu_);
  HeldLocks locks(lock_order_);
  Status st = body(IoBuffers{input_views_, output_views_});
  if (!st.ok()) return st.error().with_context("kernel '" + name_ + "'");
  return {};
}

Status Kernel::run() {
  return execute([this](const IoBuffers& io) { return exe_->run(io); });
}

Status Kernel::profile(std::vector<StepProfile>& steps) {
  return execute([&](const IoBuffers& io) { return exe_->profile(io, steps); });
}

ExecutableStats Kernel::stats() const { return exe_->stats(); }

}  // namespace ane
