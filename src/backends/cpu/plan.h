// What the CPU backend's compiler hands its families and what an executable runs.
//
// Every value lives in fp32 (integer and bool values too, kept integral) at a pointer fixed
// at compile time: in the arena (intermediates, inputs; shared by the memory planner), in a
// constant buffer (consts, pre-converted to fp32, and folded ops), or inside another value's
// buffer (views: reshape/squeeze/expand_dims/identity, contiguous slices; concat taps; slices
// read in place as row-strided GEMM operands). A family's lower
// function reads its op's operands through LowerCtx and returns a StepFn that captures only
// those pointers and plain parameters; running it allocates nothing.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/kernels.h"
#include "compiler/graph.h"
#include "compiler/op_cost.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "mil/ir.h"

namespace ane::cpu {

using Shape = std::vector<int64_t>;
using StepFn = std::function<Status()>;

inline constexpr int kMaxRank = 8;

// Run-time services shared by an executable's steps (the pool, the GEMM thread count).
struct Runtime {
  explicit Runtime(std::shared_ptr<ThreadPool> threads_to_run_on) : pool(std::move(threads_to_run_on)) {}
  std::shared_ptr<ThreadPool> pool;  // the compile's pool (CompileOptions::pool) or one of its own
  std::atomic<int64_t> triangle_products{0};  // ExecutableStats::triangle_products
  int threads() { return pool->size(); }
};

// Where an operand's elements are when it lies in an fp16 input or is an fp16 constant kept
// as fp16: *base (the input's bytes, set at the start of each run, or the constant's) plus
// offset elements. base is null otherwise.
struct HalfOperand {
  const uint16_t* const* base = nullptr;
  int64_t offset = 0;
};

// Causal attention (causal.cpp): P = softmax(scale * matmul(..) + mask) over the last axis,
// where the constant mask pushes one triangle of every [S, S] block far below the other. Then
// that triangle of P is exactly 0 whenever the scores are bounded (checked each run from the
// operands' norms), so the product skips the masked tiles, the softmax the masked entries,
// and matmuls reading P the zero half of their k range. The softmax also applies the scale
// and the mask itself, row by row, so their elementwise ops never run over the whole block.
// Results are bitwise those of the full computation; a run whose bound fails (or with inf/NaN
// operands) computes everything.
struct CausalState {
  std::vector<uint8_t> skipped;  // per [S, S] block of P: this run skipped its masked triangle
};
struct CausalRole {
  enum class Kind : uint8_t { kScores, kSoftmax, kProbs } kind = Kind::kScores;
  std::shared_ptr<CausalState> state;
  int64_t seq = 0;          // S
  bool keep_lower = true;   // P's nonzeros: column <= row (else column >= row)
  // kScores: the masked triangle is skipped when max |a row| * max |b column| <= this.
  double product_limit = 0;
  std::string_view operand;  // kProbs: "x" or "y", the argument that is P
  // kSoftmax: its input is computed from these, as the elementwise ops it absorbs would.
  const mil::Value* scores = nullptr;
  std::optional<float> scale;                      // absent: no mul
  std::shared_ptr<const std::vector<float>> mask;  // S x S
  std::vector<const mil::Op*> absorbed;            // the mul and the add: not run as steps
};
// Roles of the ops in each such pattern of `ops`; `readers` lists every op reading a
// (canonical) value, `uses` counts its reads including function outputs.
using ValueReaders = std::unordered_map<const mil::Value*, std::vector<std::pair<const mil::Op*, std::string>>>;
std::unordered_map<const mil::Op*, CausalRole> plan_causal_attention(
    const compiler::GraphAnalysis& graph, const ValueReaders& readers,
    const std::unordered_map<const mil::Value*, int>& uses);

class LowerCtx {
 public:
  virtual ~LowerCtx() = default;
  // The canonical value of a single-valued argument (nullptr when absent).
  virtual const mil::Value* arg(const mil::Op& op, std::string_view name) const = 0;
  virtual const mil::Value* canonical(const mil::Value* v) const = 0;
  virtual const float* data(const mil::Value* v) const = 0;  // where v's elements are
  // The distance between v's rows when v is read as a matrix with `row_length` columns:
  // row_length, unless v is a slice read in place (only GEMM operands can be, see
  // gemm_reads_strided).
  virtual int64_t row_stride(const mil::Value* v, int64_t row_length) const = 0;
  virtual float* mutable_data(const mil::Value* v) = 0;      // an op's output
  virtual bool is_constant(const mil::Value* v) const = 0;
  // True when v was written in place by its producer (a concat tap): no copy needed.
  virtual bool is_tap(const mil::Value* v) const = 0;
  // When v is a piece of a split that only concats read (the split never runs: a concat of
  // its pieces copies straight from its input), that input and v's first index on the axis.
  struct SplitPiece {
    const mil::Value* x;
    int axis;
    int64_t start;
  };
  virtual std::optional<SplitPiece> split_piece(const mil::Value* v) const = 0;
  // Set when v's elements are (a view of) an fp16 input's: GEMMs and elementwise groups read
  // them from there, and the input conversion skips what only they read.
  virtual HalfOperand half_operand(const mil::Value* v) const = 0;
  virtual Runtime& runtime() = 0;
  virtual Precision precision() const = 0;
  // op's part in a causal attention pattern, or nullptr.
  virtual const CausalRole* causal_role(const mil::Op& op) const = 0;
  // Whether products look for operands that are zero on one side of the diagonal.
  virtual bool skip_zero_triangles() const = 0;
  const Kernels& k() const { return kernels(); }
};

// A family's lowering of one op; an empty StepFn means "nothing to do at run time".
using LowerFn = Expected<StepFn> (*)(const mil::Op& op, LowerCtx& ctx);
struct FamilyEntry {
  std::string_view type;
  LowerFn lower;
};

// The fast families (one file each); ops not listed run through fallback.cpp.
std::span<const FamilyEntry> gemm_ops();
// True when the gemm family's lowering of `op` reads its operand `arg` through
// LowerCtx::row_stride as a matrix of rows `cols` long: that operand may then be a slice
// whose rows are apart in its source.
bool gemm_reads_strided(const mil::Op& op, std::string_view arg, int64_t cols);
// True when the gemm family's lowering of `op` reads its operand `arg` through
// LowerCtx::half_operand where it can (so that operand need not be converted from fp16).
bool gemm_reads_halves(const mil::Op& op, std::string_view arg);
std::span<const FamilyEntry> reduce_ops();
std::span<const FamilyEntry> shape_ops();

// The elements a slice_by_size reads from its x (of `x_shape`): a base offset and the
// region's axes, innermost first, as (count, stride in x), with axes of one element dropped
// and axes x walks contiguously merged (they are contiguous in the packed result too).
// Meaningless for an empty slice: check the result's element count. Errors name bad
// begin/size arguments.
struct SliceRegion {
  int64_t base = 0;
  std::vector<std::pair<int64_t, int64_t>> axes;
};
Expected<SliceRegion> slice_region(const mil::Op& op, const Shape& x_shape);
std::span<const FamilyEntry> cast_ops();

// Elementwise groups (elementwise.cpp): which ops can join one, and the fused step.
inline constexpr int kMaxGroupOps = 16;  // ops in one group
inline constexpr int kMaxOperands = 8;   // outside operands of one group
struct EwOpInfo {
  EwKind kind;
  float p0 = 0, p1 = 0;
};
// The elementwise kind of `op`, or nullopt when it is not a fusable float elementwise op.
Expected<std::optional<EwOpInfo>> elementwise_info(const mil::Op& op);
// True when `op` is an elementwise op whose operand `arg` has rows `cols` long: groups read
// every outside operand through LowerCtx::row_stride.
bool elementwise_reads_strided(const mil::Op& op, std::string_view arg, int64_t cols);
// True when `op` is an elementwise op and `arg` one of its operands: groups read outside
// operands in fp16 inputs through LowerCtx::half_operand.
bool elementwise_reads_halves(const mil::Op& op, std::string_view arg);
// One step running `ops` (a DAG in order, all of the last op's shape; an op's operands are
// earlier members' results or outside values) over tiles; members with stored[i] write
// their results to memory, the others live only in the tiles.
Expected<StepFn> lower_group(const std::vector<const mil::Op*>& ops, const std::vector<bool>& stored, LowerCtx& ctx);

// Any op of the reference backend, through its float64 kernel (fallback.cpp).
Expected<StepFn> lower_fallback(const mil::Op& op, LowerCtx& ctx);

// Rounds n values in place to what `dtype` can hold (fp16 only when rounding_fp16).
void round_to_dtype(float* x, int64_t n, mil::DType dtype, bool round_fp16);

}  // namespace ane::cpu
