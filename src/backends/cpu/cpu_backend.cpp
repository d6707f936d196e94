// The CPU backend's compiler and executable.
//
// compile(): graph analysis (DCE, CSE) -> pattern passes (causal attention, plan.h; splits
// whose pieces only concats read), whose absorbed ops get no storage and no step -> storage
// pass (each value gets a root buffer and
// an offset: constants and folded values in constant buffers, views, slices read in place
// and concat taps inside other roots, everything else a fresh arena root with a live
// interval; elementwise ops join fused groups, whose results read only inside the group get
// no memory) -> memory plan (arena offsets) -> lowering pass (each op's
// family builds a step over bound pointers; folded ops run at once). run(): decode inputs
// into the arena, run the steps, encode outputs.
#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "backends/cpu/plan.h"
#include "backends/ref/convert.h"
#include "backends/ref/lowering.h"
#include "compiler/memory_plan.h"
#include "core/aligned_buffer.h"
#include "core/fp16.h"

namespace ane::cpu {

bool fallback_supports(std::string_view type);

namespace {

struct Root {
  bool is_const = false;
  bool is_input = false;
  int input = -1;           // is_input: its index among the function's inputs
  int64_t elems = 0;
  int first = 0, last = 0;  // step times: inputs 0, op i at i + 1, outputs read at N + 1
  int parent = -1;          // a concat tap lives inside its concat's root
  int64_t offset_in_parent = 0;
  AlignedBuffer constant;   // is_const: elems floats, or elems halves when `halves` points here
  // An fp16 constant kept as fp16 (only readers of fp16 read it): in `constant`, or in the
  // IR's bytes when the function outlives the executable.
  const half_bits* halves = nullptr;
  size_t arena_offset = 0;  // bytes
};

struct Loc {
  int root = -1;
  int64_t offset = 0;  // elements
};

struct Rounding {
  float* data;
  int64_t n;
  mil::DType dtype;
};

struct CompiledStep {
  std::string name, op_type;
  compiler::OpCost cost;
  StepFn run;
  std::vector<Rounding> post;  // output dtype rounding after the step
};

struct IoBinding {
  float* data;
  int64_t n;
  mil::DType dtype;
  std::vector<double> staging;  // dtypes other than fp16/fp32 go through ref's converters
  // Inputs: the element runs (offset, length) that some op reads as fp32, when that is less
  // than the whole (e.g. a surface whose weight blocks only GEMMs read, straight from its fp16
  // bytes, with padding between them); nullopt: convert it whole.
  std::optional<std::vector<std::pair<int64_t, int64_t>>> runs;
};

// Appends the contiguous runs (offset, length) a region covers.
void append_runs(const SliceRegion& r, std::vector<std::pair<int64_t, int64_t>>& runs) {
  const bool inner_contiguous = !r.axes.empty() && r.axes[0].second == 1;
  const size_t outer_begin = inner_contiguous ? 1 : 0;
  const int64_t length = inner_contiguous ? r.axes[0].first : 1;
  std::vector<int64_t> index(r.axes.size(), 0);
  for (;;) {
    int64_t offset = r.base;
    for (size_t a = outer_begin; a < r.axes.size(); ++a) offset += index[a] * r.axes[a].second;
    runs.push_back({offset, length});
    size_t a = outer_begin;
    for (; a < r.axes.size(); ++a) {
      if (++index[a] < r.axes[a].first) break;
      index[a] = 0;
    }
    if (a == r.axes.size()) return;
  }
}

bool is_view_op(std::string_view t) {
  return t == "reshape" || t == "expand_dims" || t == "squeeze" || t == "identity";
}

const FamilyEntry* find_family(std::string_view type) {
  for (auto family : {gemm_ops(), reduce_ops(), shape_ops(), cast_ops()}) {
    for (const FamilyEntry& e : family) {
      if (e.type == type) return &e;
    }
  }
  return nullptr;
}

void apply_post(const std::vector<Rounding>& post, bool round_floats) {
  for (const Rounding& r : post) round_to_dtype(r.data, r.n, r.dtype, round_floats);
}

class CpuExecutable final : public Executable {
 public:
  explicit CpuExecutable(std::shared_ptr<ThreadPool> pool) : runtime(std::move(pool)) {}

  Status run(const IoBuffers& io) override {
    const std::unique_lock<std::mutex> turn = take_turn();
    ANE_RETURN_IF_ERROR(read_inputs(io));
    for (const CompiledStep& s : steps) ANE_RETURN_IF_ERROR(run_step(s));
    return write_outputs(io);
  }

  Status profile(const IoBuffers& io, std::vector<StepProfile>& out) override {
    const std::unique_lock<std::mutex> turn = take_turn();
    out.clear();
    Timer t;
    ANE_RETURN_IF_ERROR(read_inputs(io));
    out.push_back({"inputs", "input", t.ms(), 0, 0});
    for (const CompiledStep& s : steps) {
      t.reset();
      ANE_RETURN_IF_ERROR(run_step(s));
      out.push_back({s.name, s.op_type, t.ms(), s.cost.flops, s.cost.bytes});
    }
    t.reset();
    ANE_RETURN_IF_ERROR(write_outputs(io));
    out.push_back({"outputs", "output", t.ms(), 0, 0});
    return {};
  }

  ExecutableStats stats() const override {
    ExecutableStats s = info;
    s.triangle_products = runtime.triangle_products.load(std::memory_order_relaxed);
    return s;
  }

  Runtime runtime;
  AlignedBuffer own_arena;                    // the intermediates, unless they are in shared_arena
  std::shared_ptr<SharedArena> shared_arena;  // null: own_arena
  uint8_t* arena = nullptr;                   // where the memory plan's offsets start
  std::vector<Root> roots;
  std::vector<CompiledStep> steps;
  std::vector<IoBinding> inputs, outputs;
  // Per input: its fp16 bytes during a run (null otherwise), for the GEMMs and elementwise
  // groups that read them directly.
  std::vector<const half_bits*> input_halves;
  bool round_fp16 = false;
  ExecutableStats info;

 private:
  // A run of a function sharing its arena waits for the run before it.
  std::unique_lock<std::mutex> take_turn() const {
    return shared_arena ? shared_arena->lock() : std::unique_lock<std::mutex>();
  }

  Status run_step(const CompiledStep& s) const {
    if (s.run) {
      Status st = s.run();
      if (!st.ok()) return Error(st.error().code(), s.name + ": " + st.error().message());
    }
    apply_post(s.post, round_fp16);
    return {};
  }

  // fn over [0, n) in chunks on the runtime's threads (surfaces can be tens of MB).
  template <typename Fn>
  void parallel_chunks(size_t n, Fn&& fn) {
    constexpr size_t kGrain = size_t{1} << 16;
    runtime.pool->parallel_for(n, kGrain, fn);
  }

  // `floats` fp32 values, copied by the pool's threads; byte copies, as the caller's buffer
  // need not be float-aligned.
  void parallel_copy(void* dst, const void* src, int64_t floats) {
    auto* d = static_cast<uint8_t*>(dst);
    const auto* s = static_cast<const uint8_t*>(src);
    parallel_chunks(static_cast<size_t>(floats), [&](size_t lo, size_t hi) {
      std::memcpy(d + lo * sizeof(float), s + lo * sizeof(float), (hi - lo) * sizeof(float));
    });
  }

  Status read_inputs(const IoBuffers& io) {
    if (io.inputs.size() != inputs.size() || io.outputs.size() != outputs.size()) {
      return invalid_argument("cpu executable: expected " + std::to_string(inputs.size()) + " inputs and " +
                              std::to_string(outputs.size()) + " outputs");
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      IoBinding& b = inputs[i];
      const std::span<const uint8_t> bytes = io.inputs[i];
      if (bytes.size() != static_cast<size_t>(b.n) * mil::dtype_size(b.dtype)) {
        return invalid_argument("cpu executable: input " + std::to_string(i) + " has the wrong byte size");
      }
      input_halves[i] = b.dtype == mil::DType::kFp16 ? reinterpret_cast<const half_bits*>(bytes.data()) : nullptr;
      if (b.dtype == mil::DType::kFp16 && b.runs) {
        const auto* src = reinterpret_cast<const half_bits*>(bytes.data());
        const auto& runs = *b.runs;
        runtime.pool->parallel_for(runs.size(), 1, [&](size_t lo, size_t hi) {
          for (size_t r = lo; r < hi; ++r) {
            const auto [offset, length] = runs[r];
            halves_to_floats(b.data + offset, src + offset, static_cast<size_t>(length));
          }
        });
      } else if (b.dtype == mil::DType::kFp16) {
        const auto* src = reinterpret_cast<const half_bits*>(bytes.data());
        float* dst = b.data;
        parallel_chunks(static_cast<size_t>(b.n), [&](size_t lo, size_t hi) { halves_to_floats(dst + lo, src + lo, hi - lo); });
      } else if (b.dtype == mil::DType::kFp32) {
        parallel_copy(b.data, bytes.data(), b.n);
      } else {
        ANE_RETURN_IF_ERROR(ref::decode(bytes, b.dtype, b.staging));
        for (int64_t k = 0; k < b.n; ++k) b.data[k] = static_cast<float>(b.staging[static_cast<size_t>(k)]);
      }
    }
    return {};
  }

  Status write_outputs(const IoBuffers& io) {
    for (size_t j = 0; j < outputs.size(); ++j) {
      IoBinding& b = outputs[j];
      const std::span<uint8_t> bytes = io.outputs[j];
      if (bytes.size() != static_cast<size_t>(b.n) * mil::dtype_size(b.dtype)) {
        return invalid_argument("cpu executable: output " + std::to_string(j) + " has the wrong byte size");
      }
      if (b.dtype == mil::DType::kFp16) {
        auto* dst = reinterpret_cast<half_bits*>(bytes.data());
        const float* src = b.data;
        parallel_chunks(static_cast<size_t>(b.n), [&](size_t lo, size_t hi) { floats_to_halves(dst + lo, src + lo, hi - lo); });
      } else if (b.dtype == mil::DType::kFp32) {
        parallel_copy(bytes.data(), b.data, b.n);
      } else {
        for (int64_t k = 0; k < b.n; ++k) b.staging[static_cast<size_t>(k)] = b.data[k];
        ANE_RETURN_IF_ERROR(ref::encode(b.staging, b.dtype, bytes));
      }
    }
    return {};
  }
};

class PlanCompiler final : public LowerCtx {
 public:
  PlanCompiler(const mil::Function& fn, const CompileOptions& co, const CpuBackendOptions& bo, CpuExecutable& exe)
      : fn_(fn), co_(co), bo_(bo), exe_(exe) {}

  Status compile() {
    graph_ = compiler::analyze_graph(fn_, {bo_.eliminate_dead_code, bo_.eliminate_common_subexpressions});
    exe_.info.dead_ops = graph_.dead_ops;
    exe_.info.merged_ops = graph_.merged_ops;
    exe_.round_fp16 = co_.precision == Precision::kFp16;
    count_uses();
    if (bo_.skip_zero_triangles) causal_ = plan_causal_attention(graph_, readers_, uses_);
    for (const auto& [op, role] : causal_) {
      exe_.info.causal_softmaxes += role.kind == CausalRole::Kind::kSoftmax;
      absorbed_.insert(role.absorbed.begin(), role.absorbed.end());
    }
    if (bo_.views_and_taps) find_splits_read_by_concats();
    ANE_RETURN_IF_ERROR(assign_storage());
    settle_groups();
    plan_arena();
    ANE_RETURN_IF_ERROR(lower_ops());
    return bind_io();
  }

  // --- LowerCtx ---------------------------------------------------------------------
  const mil::Value* arg(const mil::Op& op, std::string_view name) const override {
    const mil::Value* v = op.arg_value(name);
    return v ? graph_.canonical(v) : nullptr;
  }
  const mil::Value* canonical(const mil::Value* v) const override { return graph_.canonical(v); }
  const float* data(const mil::Value* v) const override { return pointer(graph_.canonical(v)); }
  int64_t row_stride(const mil::Value* v, int64_t row_length) const override {
    auto it = row_strides_.find(graph_.canonical(v));
    return it != row_strides_.end() ? it->second : row_length;
  }
  float* mutable_data(const mil::Value* v) override { return pointer(graph_.canonical(v)); }
  bool is_constant(const mil::Value* v) const override {
    const mil::Value* c = graph_.canonical(v);
    if (c->is_constant()) return true;
    auto it = loc_.find(c);
    return it != loc_.end() && top(it->second).first->is_const;
  }
  bool is_tap(const mil::Value* v) const override { return taps_.count(graph_.canonical(v)) > 0; }
  HalfOperand half_operand(const mil::Value* v) const override {
    auto it = loc_.find(graph_.canonical(v));
    if (it == loc_.end()) return {};
    const auto [r, off] = top(it->second);
    if (r->halves != nullptr) return {&r->halves, off};
    if (r->input < 0 || fn_.inputs[static_cast<size_t>(r->input)]->type.dtype != mil::DType::kFp16) return {};
    return {&exe_.input_halves[static_cast<size_t>(r->input)], off};
  }
  Runtime& runtime() override { return exe_.runtime; }
  Precision precision() const override { return co_.precision; }
  bool skip_zero_triangles() const override { return bo_.skip_zero_triangles; }
  std::optional<SplitPiece> split_piece(const mil::Value* v) const override {
    auto it = split_pieces_.find(graph_.canonical(v));
    return it == split_pieces_.end() ? std::nullopt : std::optional<SplitPiece>(it->second);
  }
  const CausalRole* causal_role(const mil::Op& op) const override {
    auto it = causal_.find(&op);
    return it == causal_.end() ? nullptr : &it->second;
  }

 private:
  struct Group {
    std::vector<const mil::Op*> ops;  // in program order
    std::vector<bool> stored;         // per member: its result is read outside the group
    bool open = true;
  };

  // Splits whose pieces only (non-interleaved) concats read, e.g. rotate-half in RoPE: the
  // concats copy straight from the split's input and the split never runs.
  void find_splits_read_by_concats() {
    for (const mil::Op* op : graph_.ops) {
      if (op->type != "split" || op->outputs.empty()) continue;
      const mil::Value* x = arg(*op, "x");
      auto raw = ref::int_arg(*op, "axis");
      if (x == nullptr || !raw.ok() || *raw < -x->type.rank() || *raw >= x->type.rank() || x->type.rank() > kMaxRank) {
        continue;
      }
      const bool only_concats = std::all_of(op->outputs.begin(), op->outputs.end(), [&](const mil::Value* raw_out) {
        const mil::Value* o = graph_.canonical(raw_out);
        auto r = readers_.find(o);
        if (r == readers_.end() || static_cast<int>(r->second.size()) != uses_[o]) return false;
        return std::all_of(r->second.begin(), r->second.end(), [](const auto& reader) {
          auto interleave = ref::bool_arg(*reader.first, "interleave", false);
          return reader.first->type == "concat" && reader.second == "values" && interleave.ok() && !*interleave;
        });
      });
      if (!only_concats) continue;
      const int axis = ref::normalize_axis(*raw, x->type.rank());
      int64_t start = 0;
      for (const mil::Value* o : op->outputs) {
        split_pieces_[graph_.canonical(o)] = {x, axis, start};
        start += o->type.shape[static_cast<size_t>(axis)];
      }
      absorbed_.insert(op);
    }
  }

  // --- storage pass -----------------------------------------------------------------
  void count_uses() {
    for (const mil::Op* op : graph_.ops) {
      for (const auto& [name, a] : op->args) {
        for (const mil::Value* v : a.values) {
          ++uses_[graph_.canonical(v)];
          readers_[graph_.canonical(v)].push_back({op, name});
        }
      }
    }
    for (const mil::Value* v : fn_.outputs) ++uses_[graph_.canonical(v)];
  }

  int new_root(int64_t elems, int time) {
    Root r;
    r.elems = elems;
    r.first = r.last = time;
    exe_.roots.push_back(std::move(r));
    return static_cast<int>(exe_.roots.size()) - 1;
  }

  // A constant root holding the IR constant's values as fp32 (rounded in fp16 mode), or its
  // fp16 bytes as they are when only readers of fp16 read it (a baked weight a GEMM reads).
  Status materialize(const mil::Value* v) {
    const mil::Constant& c = *v->constant;
    if (c.type.dtype == mil::DType::kString) return {};
    if (!c.has_data()) return ref::op_error(*v->producer, "", "constant '" + v->name + "' has no data (unresolved BLOBFILE weight?)");
    const int r = new_root(c.type.num_elements(), 0);
    Root& root = exe_.roots[static_cast<size_t>(r)];
    root.is_const = true;
    // Through views only where they alias (place_outputs); a folded view reads fp32.
    if (c.type.dtype == mil::DType::kFp16 && every_reader(graph_.canonical(v), bo_.views_and_taps, reads_halves)) {
      if (co_.function_outlives_executable) {  // read where it lies (a baked weight: no copy)
        root.halves = reinterpret_cast<const half_bits*>(c.data.data());
      } else {
        root.constant = AlignedBuffer(c.data.size());
        std::memcpy(root.constant.data(), c.data.data(), c.data.size());
        root.halves = root.constant.as<half_bits>();
      }
      exe_.info.constant_bytes += c.data.size();
      loc_[v] = {r, 0};
      return {};
    }
    root.constant = AlignedBuffer(static_cast<size_t>(root.elems) * sizeof(float));
    float* dst = root.constant.as<float>();
    if (c.type.dtype == mil::DType::kFp16) {
      halves_to_floats(dst, reinterpret_cast<const half_bits*>(c.data.data()), static_cast<size_t>(root.elems));
    } else if (c.type.dtype == mil::DType::kFp32) {
      std::memcpy(dst, c.data.data(), static_cast<size_t>(root.elems) * sizeof(float));
    } else {
      for (int64_t i = 0; i < root.elems; ++i) dst[i] = static_cast<float>(c.element_as_double(i));
    }
    if (mil::is_float(c.type.dtype)) round_to_dtype(dst, root.elems, c.type.dtype, exe_.round_fp16);
    exe_.info.constant_bytes += static_cast<size_t>(root.elems) * sizeof(float);
    loc_[v] = {r, 0};
    return {};
  }

  // Marks v (canonical) read at `time`, creating constant roots on first sight.
  Status touch(const mil::Value* v, int time) {
    if (!loc_.count(v)) {
      if (!v->is_constant()) return Error(ErrorCode::kInternal, "value '" + v->name + "' used before it is defined", v->loc);
      ANE_RETURN_IF_ERROR(materialize(v));
      if (!loc_.count(v)) return {};  // strings
    }
    Root& r = *top(loc_.at(v)).first;
    r.last = std::max(r.last, time);
    return {};
  }

  bool all_args_constant(const mil::Op& op) const {
    for (const auto& [name, a] : op.args) {
      for (const mil::Value* v : a.values) {
        if (!is_constant(v)) return false;
      }
    }
    return !op.args.empty();
  }

  Status assign_storage() {
    exe_.input_halves.assign(fn_.inputs.size(), nullptr);
    for (size_t i = 0; i < fn_.inputs.size(); ++i) {
      const int r = new_root(fn_.inputs[i]->type.num_elements(), 0);
      exe_.roots[static_cast<size_t>(r)].is_input = true;
      exe_.roots[static_cast<size_t>(r)].input = static_cast<int>(i);
      loc_[fn_.inputs[i]] = {r, 0};
    }
    const int n = static_cast<int>(graph_.ops.size());
    for (int i = 0; i < n; ++i) {
      const mil::Op& op = *graph_.ops[static_cast<size_t>(i)];
      const int time = i + 1;
      for (const auto& [name, a] : op.args) {
        for (const mil::Value* v : a.values) ANE_RETURN_IF_ERROR(touch(graph_.canonical(v), time));
      }
      // A causal softmax reads the scores its absorbed ops would have read, a concat the input
      // of the absorbed split whose pieces it joins.
      if (const CausalRole* role = causal_role(op); role && role->scores) ANE_RETURN_IF_ERROR(touch(role->scores, time));
      if (op.type == "concat") {
        for (const mil::Value* v : op.arg("values")->values) {
          if (const auto piece = split_piece(v)) ANE_RETURN_IF_ERROR(touch(piece->x, time));
        }
      }
      ANE_RETURN_IF_ERROR(place_outputs(op, time));
    }
    for (const mil::Value* v : fn_.outputs) ANE_RETURN_IF_ERROR(touch(graph_.canonical(v), n + 1));
    return {};
  }

  Status place_outputs(const mil::Op& op, int time) {
    if (op.type == "const") {
      for (const mil::Value* v : op.outputs) {
        if (v->is_constant()) ANE_RETURN_IF_ERROR(materialize(v));
      }
      return {};
    }
    // A view of a constant aliases it rather than being folded into a copy: a weight reshaped
    // for its GEMM is held once, in fp16 where only fp16 readers read it.
    const bool view = bo_.views_and_taps && is_view_op(op.type);
    if (bo_.fold_constants && all_args_constant(op) && !view) {
      folded_.insert(&op);
      for (const mil::Value* v : op.outputs) {
        const int r = new_root(v->type.num_elements(), time);
        Root& root = exe_.roots[static_cast<size_t>(r)];
        root.is_const = true;
        root.constant = AlignedBuffer(static_cast<size_t>(root.elems) * sizeof(float));
        exe_.info.constant_bytes += static_cast<size_t>(root.elems) * sizeof(float);
        loc_[v] = {r, 0};
      }
      return {};
    }
    if (absorbed_.count(&op)) {  // computed by its reader (causal softmax, concat): no memory, no step
      close_groups_read_by(op, -1);
      for (const mil::Value* v : op.outputs) loc_[v] = {new_root(0, time), 0};
      return {};
    }
    ANE_ASSIGN_OR_RETURN(std::optional<EwOpInfo> ew, elementwise_info(op));
    const int joined = ew && bo_.fuse_elementwise ? group_to_join(op, time) : -1;
    close_groups_read_by(op, joined);
    if (view) {
      const mil::Value* x = arg(op, "x");
      loc_[op.outputs[0]] = loc_.at(x);
      if (auto it = row_strides_.find(x); it != row_strides_.end()) row_strides_[op.outputs[0]] = it->second;
      ++exe_.info.view_ops;
      return {};
    }
    if (bo_.views_and_taps && op.type == "slice_by_size" && slice_in_place(op)) {
      in_place_.insert(&op);
      ++exe_.info.view_ops;
      return {};
    }
    for (const mil::Value* v : op.outputs) loc_[v] = {new_root(v->type.num_elements(), time), 0};
    op_time_[&op] = time;
    if (ew) {
      if (joined >= 0) {
        join_group(joined, op, time);
      } else {
        groups_.push_back({{&op}, {}, bo_.fuse_elementwise});
        group_of_op_[&op] = static_cast<int>(groups_.size()) - 1;
        group_of_value_[graph_.canonical(op.outputs[0])] = static_cast<int>(groups_.size()) - 1;
      }
    }
    if (op.type == "concat" && bo_.views_and_taps) try_taps(op);
    return {};
  }

  // --- elementwise groups -------------------------------------------------------------
  // An elementwise op joins an open group when one of its operands is a member's result
  // and its output has the group's shape; when it reads members of several such groups,
  // they merge first (no member of one reads the other, so their ops interleave freely). A
  // group closes once anything else reads one of its members' results: the group runs as
  // one step at its last member, so a reader outside it must come after that.
  int group_to_join(const mil::Op& op, int time) {
    const Shape& shape = op.outputs[0]->type.shape;
    int target = -1;
    for (const auto& [name, a] : op.args) {
      for (const mil::Value* raw : a.values) {
        auto it = group_of_value_.find(graph_.canonical(raw));
        if (it == group_of_value_.end() || it->second == target) continue;
        const Group& g = groups_[static_cast<size_t>(it->second)];
        if (!g.open || g.ops.front()->outputs[0]->type.shape != shape) continue;
        if (target < 0) {
          if (g.ops.size() < static_cast<size_t>(kMaxGroupOps) && outside_operands({&g}, &op) <= kMaxOperands) {
            target = it->second;
          }
        } else {
          const Group& t = groups_[static_cast<size_t>(target)];
          if (t.ops.size() + g.ops.size() < static_cast<size_t>(kMaxGroupOps) &&
              outside_operands({&t, &g}, &op) <= kMaxOperands) {
            merge_groups(target, it->second, time);
          }
        }
      }
    }
    return target;
  }

  void merge_groups(int into, int from, int time) {
    Group& a = groups_[static_cast<size_t>(into)];
    Group& b = groups_[static_cast<size_t>(from)];
    for (const mil::Op* m : b.ops) {
      group_of_op_[m] = into;
      group_of_value_[graph_.canonical(m->outputs[0])] = into;
    }
    a.ops.insert(a.ops.end(), b.ops.begin(), b.ops.end());
    std::sort(a.ops.begin(), a.ops.end(), [&](const mil::Op* x, const mil::Op* y) { return op_time_.at(x) < op_time_.at(y); });
    b.ops.clear();
    b.open = false;
    keep_alive(a, time);
  }

  // The distinct values g's members (and `extra`) read that no member produces.
  int outside_operands(std::initializer_list<const Group*> groups, const mil::Op* extra) const {
    std::unordered_set<const mil::Value*> results, outside;
    for (const Group* g : groups) {
      for (const mil::Op* m : g->ops) results.insert(graph_.canonical(m->outputs[0]));
    }
    auto add = [&](const mil::Op& m) {
      for (const auto& [name, a] : m.args) {
        for (const mil::Value* v : a.values) {
          if (!results.count(graph_.canonical(v))) outside.insert(graph_.canonical(v));
        }
      }
    };
    for (const Group* g : groups) {
      for (const mil::Op* m : g->ops) add(*m);
    }
    if (extra != nullptr) add(*extra);
    return static_cast<int>(outside.size());
  }

  void close_groups_read_by(const mil::Op& op, int joined) {
    for (const auto& [name, a] : op.args) {
      for (const mil::Value* v : a.values) {
        auto it = group_of_value_.find(graph_.canonical(v));
        if (it != group_of_value_.end() && it->second != joined) groups_[static_cast<size_t>(it->second)].open = false;
      }
    }
  }

  void join_group(int g, const mil::Op& op, int time) {
    Group& group = groups_[static_cast<size_t>(g)];
    group.ops.push_back(&op);
    group_of_op_[&op] = g;
    group_of_value_[graph_.canonical(op.outputs[0])] = g;
    keep_alive(group, time);
    ++exe_.info.fused_ops;
  }

  // Everything the members read, and their results, must live until the group runs.
  void keep_alive(const Group& group, int time) {
    for (const mil::Op* member : group.ops) {
      for (const auto& [name, a] : member->args) {
        for (const mil::Value* v : a.values) (void)touch(graph_.canonical(v), time);
      }
      (void)touch(graph_.canonical(member->outputs[0]), time);
    }
  }

  // Which members' results are read outside their group; the others need no memory.
  void settle_groups() {
    for (Group& g : groups_) {
      if (g.ops.empty()) continue;  // merged into another
      std::unordered_map<const mil::Value*, int> inner_reads;
      for (const mil::Op* m : g.ops) {
        for (const auto& [name, a] : m->args) {
          for (const mil::Value* v : a.values) ++inner_reads[graph_.canonical(v)];
        }
      }
      g.stored.assign(g.ops.size(), true);
      for (size_t i = 0; i < g.ops.size(); ++i) {
        const mil::Value* r = graph_.canonical(g.ops[i]->outputs[0]);
        if (uses_[r] > inner_reads[r]) continue;
        g.stored[i] = false;
        Root& root = exe_.roots[static_cast<size_t>(loc_.at(r).root)];
        if (root.parent < 0 && !taps_.count(r)) root.elems = 0;
      }
    }
  }

  // A slice whose elements are contiguous in x is a view of x. One whose elements are rows
  // of equal length, evenly apart in x (a block of channels x columns of a [1, C, 1, W]
  // surface), is read in place when every reader takes a row stride: a GEMM operand or an
  // elementwise operand.
  // Either way no step runs; other slices are copied.
  bool slice_in_place(const mil::Op& op) {
    const mil::Value* x = arg(op, "x");
    const mil::Value* out = op.outputs[0];
    const Expected<SliceRegion> region = slice_region(op, x->type.shape);
    if (row_strides_.count(x) || !region.ok() || out->type.num_elements() == 0) return false;  // the lowering reports a bad slice
    const auto& axes = region->axes;
    const int64_t base = region->base;
    const bool contiguous = axes.empty() || (axes.size() == 1 && axes[0].second == 1);
    const int64_t cols = axes.empty() ? 0 : axes[0].first;
    const bool rows = axes.size() == 2 && axes[0].second == 1 && every_reader(out, true, [cols](const mil::Op& r, std::string_view arg) {
      return gemm_reads_strided(r, arg, cols) || elementwise_reads_strided(r, arg, cols);
    });
    if (!contiguous && !rows) return false;
    const Loc l = loc_.at(x);
    loc_[out] = {l.root, l.offset + base};
    if (rows) row_strides_[out] = axes[1].second;
    return true;
  }

  // True when every use of v is a read `reads(op, arg)` accepts, looking through view ops when
  // through_views (false when v is also a function output).
  template <typename Reads>
  bool every_reader(const mil::Value* v, bool through_views, const Reads& reads) const {
    auto it = readers_.find(v);
    if (it == readers_.end() || static_cast<int>(it->second.size()) != uses_.at(v)) return false;
    for (const auto& [op, name] : it->second) {
      const bool ok = through_views && is_view_op(op->type) && name == "x"
                          ? every_reader(graph_.canonical(op->outputs[0]), true, reads)
                          : reads(*op, name);
      if (!ok) return false;
    }
    return true;
  }

  // concat along an axis with nothing before it: each input can be written in place by
  // its producer when it owns a whole arena root of its own.
  void try_taps(const mil::Op& op) {
    auto interleave = ref::bool_arg(op, "interleave", false);
    auto raw = ref::int_arg(op, "axis");
    const mil::Value* out = op.outputs[0];
    if (!interleave.ok() || *interleave || !raw.ok()) return;
    const int rank = out->type.rank();
    if (*raw < -rank || *raw >= rank) return;
    const int axis = ref::normalize_axis(*raw, rank);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < rank; ++d) {
      if (d < axis) outer *= out->type.shape[static_cast<size_t>(d)];
      if (d > axis) inner *= out->type.shape[static_cast<size_t>(d)];
    }
    if (outer != 1) return;
    const int out_root = loc_.at(out).root;
    int64_t at = 0;
    for (const mil::Value* raw_v : op.arg("values")->values) {
      const mil::Value* v = graph_.canonical(raw_v);
      const int64_t len = v->type.shape[static_cast<size_t>(axis)];
      const Loc l = loc_.at(v);
      Root& r = exe_.roots[static_cast<size_t>(l.root)];
      if (l.offset == 0 && r.parent < 0 && !r.is_const && !r.is_input && l.root != out_root &&
          r.elems == v->type.num_elements() && !taps_.count(v)) {
        r.parent = out_root;
        r.offset_in_parent = at * inner;
        taps_.insert(v);
        ++exe_.info.taps;
      }
      at += len;
    }
  }

  std::pair<Root*, int64_t> top(Loc l) const {
    int64_t off = l.offset;
    Root* r = &exe_.roots[static_cast<size_t>(l.root)];
    while (r->parent >= 0) {
      off += r->offset_in_parent;
      r = &exe_.roots[static_cast<size_t>(r->parent)];
    }
    return {r, off};
  }

  float* pointer(const mil::Value* v) const {
    auto it = loc_.find(v);
    if (it == loc_.end()) return nullptr;
    auto [r, off] = top(it->second);
    if (r->halves != nullptr) return nullptr;  // read only through half_operand
    if (r->is_const) return r->constant.as<float>() + off;
    return reinterpret_cast<float*>(exe_.arena + r->arena_offset) + off;
  }

  // --- memory plan ------------------------------------------------------------------
  void plan_arena() {
    // A tap's interval joins its concat root's.
    for (Root& r : exe_.roots) {
      if (r.parent < 0 || r.is_const) continue;
      Root* t = &r;
      while (t->parent >= 0) t = &exe_.roots[static_cast<size_t>(t->parent)];
      t->first = std::min(t->first, r.first);
      t->last = std::max(t->last, r.last);
    }
    std::vector<compiler::BufferLife> lives;
    std::vector<size_t> which;
    for (size_t i = 0; i < exe_.roots.size(); ++i) {
      const Root& r = exe_.roots[i];
      if (r.is_const || r.parent >= 0) continue;
      lives.push_back({static_cast<size_t>(r.elems) * sizeof(float), r.first, r.last});
      which.push_back(i);
    }
    const compiler::MemoryPlan plan = compiler::plan_memory(lives);
    for (size_t k = 0; k < which.size(); ++k) exe_.roots[which[k]].arena_offset = plan.offsets[k];
    if (co_.shared_arena && plan.peak_bytes <= co_.shared_arena->capacity()) {
      exe_.shared_arena = co_.shared_arena;
      exe_.arena = exe_.shared_arena->data();
    } else {
      exe_.own_arena = AlignedBuffer(plan.peak_bytes);
      exe_.arena = exe_.own_arena.data();
    }
    exe_.info.arena_bytes = plan.peak_bytes;
    exe_.info.in_shared_arena = exe_.shared_arena != nullptr;
    exe_.info.unshared_bytes = plan.total_bytes;
  }

  // --- lowering pass ----------------------------------------------------------------
  Status lower_ops() {
    for (const mil::Op* op : graph_.ops) {
      if (op->type == "const" || (bo_.views_and_taps && is_view_op(op->type) && !folded_.count(op)) ||
          in_place_.count(op) || absorbed_.count(op)) {
        continue;
      }
      auto group = group_of_op_.find(op);
      if (group != group_of_op_.end()) {
        const Group& g = groups_[static_cast<size_t>(group->second)];
        if (g.ops.back() == op) ANE_RETURN_IF_ERROR(add_group_step(g));
        continue;
      }
      ANE_RETURN_IF_ERROR(lower_one(*op));
    }
    exe_.info.steps = exe_.steps.size();
    return {};
  }

  Status add_group_step(const Group& g) {
    const std::vector<const mil::Op*>& members = g.ops;
    CompiledStep s;
    ANE_ASSIGN_OR_RETURN(s.run, lower_group(members, g.stored, *this));
    s.op_type = members.size() == 1 ? members[0]->type : "fused_elementwise";
    s.name = members.size() == 1 ? members[0]->type + " '" + members[0]->display_name() + "'" : "fused";
    for (const mil::Op* m : members) {
      if (members.size() > 1) s.name += (m == members[0] ? " " : "+") + m->type;
      const compiler::OpCost c = compiler::op_cost(*m);
      s.cost.flops += c.flops;
    }
    const compiler::OpCost first = compiler::op_cost(*members.front());
    const compiler::OpCost last = compiler::op_cost(*members.back());
    s.cost.bytes = first.bytes + last.bytes;
    exe_.steps.push_back(std::move(s));
    return {};
  }

  Status lower_one(const mil::Op& op) {
    CompiledStep s;
    s.name = op.type + " '" + op.display_name() + "'";
    s.op_type = op.type;
    s.cost = compiler::op_cost(op);
    const FamilyEntry* family = find_family(op.type);
    Expected<StepFn> fn = family ? family->lower(op, *this) : Expected<StepFn>(Error(ErrorCode::kUnsupported, ""));
    if (!fn.ok() && fn.error().code() == ErrorCode::kUnsupported) {
      fn = lower_fallback(op, *this);
      ++exe_.info.fallback_ops;
    }
    if (!fn.ok()) return fn.error();
    s.run = std::move(*fn);
    for (const mil::Value* v : op.outputs) {
      const mil::Value* c = graph_.canonical(v);
      s.post.push_back({pointer(c), c->type.num_elements(), c->type.dtype});
    }
    if (folded_.count(&op)) {
      if (s.run) {
        Status st = s.run();
        if (!st.ok()) return Error(st.error().code(), s.name + ": " + st.error().message(), op.loc);
      }
      apply_post(s.post, exe_.round_fp16);
      ++exe_.info.folded_ops;
      return {};
    }
    if (s.run) exe_.steps.push_back(std::move(s));
    return {};
  }

  Status bind_io() {
    for (const mil::Value* v : fn_.inputs) {
      if (v->type.dtype == mil::DType::kString) {
        return Error(ErrorCode::kUnsupported, "input '" + v->name + "' is a string tensor", v->loc);
      }
      exe_.inputs.push_back(binding(v));
      exe_.inputs.back().runs = read_runs(v);
      if (const auto& runs = exe_.inputs.back().runs) {
        int64_t converted = 0;
        for (const auto& run : *runs) converted += run.second;
        exe_.info.unconverted_input_elements += v->type.num_elements() - converted;
      }
    }
    for (const mil::Value* v : fn_.outputs) {
      const mil::Value* c = graph_.canonical(v);
      if (pointer(c) == nullptr) return Error(ErrorCode::kInternal, "output '" + v->name + "' is never defined", v->loc);
      IoBinding b = binding(c);
      b.dtype = v->type.dtype;
      exe_.outputs.push_back(std::move(b));
    }
    return {};
  }

  // The merged runs of fp16 input v that its readers read as fp32, when every reader reads
  // the fp16 bytes itself (a GEMM or elementwise op) or is a slice (through views) and
  // together they read at most 90% of it; otherwise nullopt (convert it whole).
  std::optional<std::vector<std::pair<int64_t, int64_t>>> read_runs(const mil::Value* v) const {
    std::vector<std::pair<int64_t, int64_t>> runs;
    if (v->type.dtype != mil::DType::kFp16 || !fp32_runs(graph_.canonical(v), runs)) return std::nullopt;
    std::sort(runs.begin(), runs.end());
    std::vector<std::pair<int64_t, int64_t>> merged;
    int64_t covered = 0;
    for (const auto& [offset, length] : runs) {
      if (!merged.empty() && offset <= merged.back().first + merged.back().second) {
        const int64_t end = std::max(merged.back().first + merged.back().second, offset + length);
        covered += end - (merged.back().first + merged.back().second);
        merged.back().second = end - merged.back().first;
      } else {
        merged.push_back({offset, length});
        covered += length;
      }
    }
    if (covered * 10 > v->type.num_elements() * 9) return std::nullopt;
    return merged;
  }

  // Appends the runs of v's source that v's readers read as fp32; false when some reader
  // neither reads fp16 itself nor is a view or a slice (then the whole source is converted).
  bool fp32_runs(const mil::Value* v, std::vector<std::pair<int64_t, int64_t>>& runs) const {
    auto it = readers_.find(v);
    auto uses = uses_.find(v);
    if (it == readers_.end() || uses == uses_.end() || static_cast<int>(it->second.size()) != uses->second) return false;
    for (const auto& [op, name] : it->second) {
      if (is_view_op(op->type) && name == "x") {
        if (!fp32_runs(graph_.canonical(op->outputs[0]), runs)) return false;
        continue;
      }
      if (reads_halves(*op, name)) continue;
      if (op->type != "slice_by_size" || name != "x") return false;
      if (in_place_.count(op) && every_reader(graph_.canonical(op->outputs[0]), true, reads_halves)) continue;
      const Expected<SliceRegion> region = slice_region(*op, op->arg_value("x")->type.shape);
      if (!region.ok() || runs.size() > (size_t{1} << 20)) return false;
      if (op->outputs[0]->type.num_elements() > 0) append_runs(*region, runs);
    }
    return true;
  }

  // True when op's lowering reads its operand `arg` through half_operand where it can.
  static bool reads_halves(const mil::Op& op, std::string_view arg) {
    return gemm_reads_halves(op, arg) || elementwise_reads_halves(op, arg);
  }

  IoBinding binding(const mil::Value* v) const {
    IoBinding b{pointer(v), v->type.num_elements(), v->type.dtype, {}, {}};
    if (b.dtype != mil::DType::kFp16 && b.dtype != mil::DType::kFp32) b.staging.resize(static_cast<size_t>(b.n));
    return b;
  }

  const mil::Function& fn_;
  const CompileOptions& co_;
  const CpuBackendOptions& bo_;
  CpuExecutable& exe_;
  compiler::GraphAnalysis graph_;
  std::unordered_map<const mil::Value*, int> uses_;
  ValueReaders readers_;
  std::unordered_map<const mil::Op*, CausalRole> causal_;
  std::unordered_set<const mil::Op*> absorbed_;  // ops others compute: causal softmaxes, concats
  std::unordered_map<const mil::Value*, SplitPiece> split_pieces_;
  std::unordered_map<const mil::Value*, int64_t> row_strides_;  // slices read in place by GEMMs
  std::unordered_map<const mil::Value*, Loc> loc_;
  std::unordered_set<const mil::Op*> folded_;
  std::unordered_set<const mil::Op*> in_place_;  // slices that are views
  std::unordered_set<const mil::Value*> taps_;
  std::vector<Group> groups_;
  std::unordered_map<const mil::Op*, int> group_of_op_;
  std::unordered_map<const mil::Value*, int> group_of_value_;  // members' results
  std::unordered_map<const mil::Op*, int> op_time_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(CpuBackendOptions options) : options_(options) {}

  std::string_view name() const override { return "cpu"; }
  bool supports_op(const mil::Op& op) const override {
    return find_family(op.type) != nullptr || fallback_supports(op.type);
  }

  Expected<std::unique_ptr<Executable>> compile(const mil::Function& fn, const CompileOptions& options) override {
    auto exe = std::make_unique<CpuExecutable>(options.pool ? options.pool : std::make_shared<ThreadPool>(options.threads));
    PlanCompiler pc(fn, options, options_, *exe);
    ANE_RETURN_IF_ERROR(pc.compile());
    return std::unique_ptr<Executable>(std::move(exe));
  }

 private:
  CpuBackendOptions options_;
};

}  // namespace
}  // namespace ane::cpu

namespace ane {
std::unique_ptr<Backend> make_cpu_backend(CpuBackendOptions options) {
  return std::make_unique<cpu::CpuBackend>(options);
}
}  // namespace ane
