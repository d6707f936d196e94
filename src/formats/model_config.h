// The shape of a decoder-only transformer (llama2 / Qwen3 family), known at run time: loaded
// from a preset name, a JSON file, a llama2.c header or a checkpoint, never compiled in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ane {

// Model hyper-parameters. Plain data: build one, then call validate() (every loader in
// this file does) before trusting the size methods, which assume a valid config.
struct ModelConfig {
  std::string name;            // preset or model name; informational
  int dim = 0;                 // residual stream width D
  int hidden_dim = 0;          // FFN inner width H (SwiGLU: w1, w3 are [H, D], w2 is [D, H])
  int n_layers = 0;            // transformer blocks L
  int n_heads = 0;             // query heads
  int n_kv_heads = 0;          // key/value heads (GQA when < n_heads); divides n_heads
  int head_dim = 0;            // per-head width; need not equal dim / n_heads (Qwen3: 128 vs 64)
  int vocab_size = 0;          // V
  int seq_len = 0;             // training / maximum context length T
  double rope_theta = 10000.0; // RoPE base
  double norm_eps = 1e-5;      // RMSNorm epsilon
  bool qk_norm = false;        // per-head RMSNorm on q and k (Qwen3): weights [head_dim] each
  bool shared_classifier = true;  // classifier tied to the token embedding

  // Derived sizes, in elements. Matrices are [out, in] row-major.
  size_t q_dim() const { return sz(n_heads) * sz(head_dim); }      // query width
  size_t kv_dim() const { return sz(n_kv_heads) * sz(head_dim); }  // key / value width
  int gqa_ratio() const { return n_heads / n_kv_heads; }           // query heads per kv head
  size_t score_channels() const { return sz(n_heads) * sz(seq_len); }  // the seed's SCORE_CH
  size_t wq_size() const { return q_dim() * sz(dim); }       // [q_dim, D]
  size_t wk_size() const { return kv_dim() * sz(dim); }      // [kv_dim, D]
  size_t wv_size() const { return kv_dim() * sz(dim); }      // [kv_dim, D]
  size_t wo_size() const { return sz(dim) * q_dim(); }       // [D, q_dim]
  size_t w1_size() const { return sz(hidden_dim) * sz(dim); }  // [H, D]
  size_t w2_size() const { return sz(dim) * sz(hidden_dim); }  // [D, H]
  size_t w3_size() const { return sz(hidden_dim) * sz(dim); }  // [H, D]
  size_t qk_norm_size() const { return qk_norm ? sz(head_dim) : 0; }  // q_norm and k_norm, each
  size_t embedding_size() const { return sz(vocab_size) * sz(dim); }  // [V, D]
  size_t classifier_size() const { return shared_classifier ? 0 : embedding_size(); }  // [V, D]
  // One block: 7 matrices, rms_att and rms_ffn [D], q_norm and k_norm when qk_norm.
  size_t layer_params() const;
  // Every block, the final norm [D], the embedding and (when unshared) the classifier.
  size_t total_params() const;

  // Checks every rule; the error names the field and the rule, e.g.
  // "n_kv_heads (3) must divide n_heads (8)".
  Status validate() const;

  // The config as a JSON object whose keys are the field names above.
  nlohmann::json to_json() const;
  // Reads a JSON object: every key must be a field name (unknown keys are errors), all
  // fields are required except rope_theta, norm_eps, qk_norm, shared_classifier and name,
  // which keep their defaults. The result is validated. `source` names the input in errors.
  static Expected<ModelConfig> from_json(const nlohmann::json& j, const std::string& source = "");

  bool operator==(const ModelConfig&) const = default;

 private:
  static size_t sz(int v) { return static_cast<size_t>(v); }
};

// Names of the built-in presets: stories15M, stories42M, stories110M, qwen3-0.6b, tiny.
std::vector<std::string> model_preset_names();
// A preset by name (exact, case-sensitive); the error lists the known names.
Expected<ModelConfig> model_preset(const std::string& name);

// JSON text <-> config. Parse errors carry the byte offset in `source`.
Expected<ModelConfig> parse_model_config(const std::string& json_text, const std::string& source);
Expected<ModelConfig> load_model_config(const std::string& path);
Status save_model_config(const std::string& path, const ModelConfig& config);  // atomic
// A preset name, else a path to a JSON config file.
Expected<ModelConfig> config_from_name_or_file(const std::string& name_or_path);

// The 7-int llama2.c header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len, where a negative vocab_size means an unshared classifier. head_dim is
// dim / n_heads (dim must be a multiple of n_heads); RoPE and norm settings are llama2's.
Expected<ModelConfig> model_config_from_llama2(const std::array<int32_t, 7>& header,
                                               const std::string& name = "");

}  // namespace ane
