#include "formats/model_config.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/byte_reader.h"
#include "core/file.h"
#include "formats/binary_io.h"
#include "formats/json_util.h"

namespace ane {
namespace {

using nlohmann::json;

// One table of fields drives to_json, from_json and the positivity checks.
struct IntField {
  const char* name;
  int ModelConfig::*ptr;
};
constexpr IntField kIntFields[] = {
    {"dim", &ModelConfig::dim},           {"hidden_dim", &ModelConfig::hidden_dim},
    {"n_layers", &ModelConfig::n_layers}, {"n_heads", &ModelConfig::n_heads},
    {"n_kv_heads", &ModelConfig::n_kv_heads}, {"head_dim", &ModelConfig::head_dim},
    {"vocab_size", &ModelConfig::vocab_size}, {"seq_len", &ModelConfig::seq_len},
};
struct RealField {
  const char* name;
  double ModelConfig::*ptr;
};
constexpr RealField kRealFields[] = {
    {"rope_theta", &ModelConfig::rope_theta},
    {"norm_eps", &ModelConfig::norm_eps},
};
struct BoolField {
  const char* name;
  bool ModelConfig::*ptr;
};
constexpr BoolField kBoolFields[] = {
    {"qk_norm", &ModelConfig::qk_norm},
    {"shared_classifier", &ModelConfig::shared_classifier},
};
constexpr const char* kNameField = "name";

Error config_error(const std::string& msg, const std::string& source) {
  return invalid_argument("model config: " + msg, Location{source});
}

// a + b, a * b on sizes, failing instead of wrapping.

// The parameter count with every product and sum checked; false on overflow.
bool checked_total_params(const ModelConfig& c, uint64_t* total) {
  auto u = [](int v) { return static_cast<uint64_t>(v); };
  uint64_t q_dim, kv_dim, wq, wkv, w13, layer = 0;
  bool ok = checked_mul(u(c.n_heads), u(c.head_dim), &q_dim) &&
            checked_mul(u(c.n_kv_heads), u(c.head_dim), &kv_dim) &&
            checked_mul(q_dim, u(c.dim), &wq) && checked_mul(kv_dim, u(c.dim), &wkv) &&
            checked_mul(u(c.hidden_dim), u(c.dim), &w13);
  // wq + wo = 2 wq; wk + wv = 2 wkv; w1 + w2 + w3 = 3 w13; two norms; optional qk norms.
  const uint64_t parts[][2] = {{wq, 2}, {wkv, 2}, {w13, 3}, {u(c.dim), 2},
                               {c.qk_norm ? u(c.head_dim) : 0, 2}};
  for (const auto& p : parts) {
    uint64_t v = 0;
    ok = ok && checked_mul(p[0], p[1], &v) && checked_add(layer, v, &layer);
  }
  uint64_t embed = 0, all = 0;
  ok = ok && checked_mul(layer, u(c.n_layers), &all) && checked_add(all, u(c.dim), &all) &&
       checked_mul(u(c.vocab_size), u(c.dim), &embed) && checked_add(all, embed, &all) &&
       checked_add(all, c.shared_classifier ? 0 : embed, &all);
  *total = all;
  return ok;
}

std::vector<ModelConfig> presets() {
  auto make = [](const char* name, int dim, int hidden, int layers, int heads, int kv_heads,
                 int head_dim, int vocab, int seq) {
    ModelConfig c;
    c.name = name;
    c.dim = dim;
    c.hidden_dim = hidden;
    c.n_layers = layers;
    c.n_heads = heads;
    c.n_kv_heads = kv_heads;
    c.head_dim = head_dim;
    c.vocab_size = vocab;
    c.seq_len = seq;
    return c;
  };
  std::vector<ModelConfig> out = {
      make("stories15M", 288, 768, 6, 6, 6, 48, 32000, 256),
      make("stories42M", 512, 1376, 8, 8, 8, 64, 32000, 1024),
      // llama2.c ships it with seq 1024; the original trains it at 256.
      make("stories110M", 768, 2048, 12, 12, 12, 64, 32000, 256),
      make("qwen3-0.6b", 1024, 3072, 28, 16, 8, 128, 151936, 256),
      make("tiny", 64, 176, 2, 4, 2, 16, 256, 32),
  };
  ModelConfig& qwen = out[3];
  qwen.rope_theta = 1e6;
  qwen.norm_eps = 1e-6;
  qwen.qk_norm = true;
  return out;
}

// "stories15M, stories42M, ..." for error messages.
std::string preset_list() {
  std::string s;
  for (const ModelConfig& c : presets()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

}  // namespace

size_t ModelConfig::layer_params() const {
  return wq_size() + wk_size() + wv_size() + wo_size() + w1_size() + w2_size() + w3_size() +
         2 * sz(dim) + 2 * qk_norm_size();
}

size_t ModelConfig::total_params() const {
  return sz(n_layers) * layer_params() + sz(dim) + embedding_size() + classifier_size();
}

Status ModelConfig::validate() const {
  for (const IntField& f : kIntFields) {
    const int v = this->*f.ptr;
    if (v <= 0) return config_error(std::string(f.name) + " must be positive (got " + std::to_string(v) + ")", name);
  }
  if (n_heads % n_kv_heads != 0) {
    return config_error("n_kv_heads (" + std::to_string(n_kv_heads) + ") must divide n_heads (" +
                            std::to_string(n_heads) + ")",
                        name);
  }
  if (head_dim % 2 != 0) {
    return config_error("head_dim (" + std::to_string(head_dim) + ") must be even: RoPE rotates pairs", name);
  }
  for (const RealField& f : kRealFields) {
    const double v = this->*f.ptr;
    if (!(std::isfinite(v) && v > 0)) {
      return config_error(std::string(f.name) + " must be positive and finite (got " + std::to_string(v) + ")", name);
    }
  }
  uint64_t total = 0;
  if (!checked_total_params(*this, &total)) return config_error("the parameter count overflows 64 bits", name);
  return {};
}

json ModelConfig::to_json() const {
  json j = json::object();
  j[kNameField] = name;
  for (const IntField& f : kIntFields) j[f.name] = this->*f.ptr;
  for (const RealField& f : kRealFields) j[f.name] = this->*f.ptr;
  for (const BoolField& f : kBoolFields) j[f.name] = this->*f.ptr;
  return j;
}

Expected<ModelConfig> ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) return config_error("expected a JSON object, got " + std::string(j.type_name()), source);
  ModelConfig c;
  for (const auto& item : j.items()) {
    // Named references, not a structured binding: clang before 16 cannot capture one.
    const std::string& key = item.key();
    const json& value = item.value();
    auto wrong_type = [&](const char* want) {
      return config_error("key '" + key + "' must be " + want + ", got " + value.type_name(), source);
    };
    bool known = false;
    for (const IntField& f : kIntFields) {
      if (key != f.name) continue;
      known = true;
      if (!value.is_number_integer()) return wrong_type("an integer");
      const bool fits = value.is_number_unsigned()
                            ? value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max())
                            : value.get<int64_t>() >= std::numeric_limits<int>::min() &&
                                  value.get<int64_t>() <= std::numeric_limits<int>::max();
      if (!fits) return config_error("key '" + key + "' = " + value.dump() + " does not fit in a 32-bit int", source);
      c.*f.ptr = static_cast<int>(value.get<int64_t>());
    }
    for (const RealField& f : kRealFields) {
      if (key != f.name) continue;
      known = true;
      if (!value.is_number()) return wrong_type("a number");
      c.*f.ptr = value.get<double>();
    }
    for (const BoolField& f : kBoolFields) {
      if (key != f.name) continue;
      known = true;
      if (!value.is_boolean()) return wrong_type("true or false");
      c.*f.ptr = value.get<bool>();
    }
    if (key == kNameField) {
      known = true;
      if (!value.is_string()) return wrong_type("a string");
      c.name = value.get<std::string>();
    }
    if (!known) return config_error("unknown key '" + key + "'", source);
  }
  for (const IntField& f : kIntFields) {
    if (!j.contains(f.name)) return config_error("missing key '" + std::string(f.name) + "'", source);
  }
  Status st = c.validate();
  if (!st.ok()) return Error(st.error().code(), st.error().message(), Location{source});
  return c;
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const ModelConfig& c : presets()) names.push_back(c.name);
  return names;
}

Expected<ModelConfig> model_preset(const std::string& name) {
  for (const ModelConfig& c : presets()) {
    if (c.name == name) return c;
  }
  return invalid_argument("unknown model preset '" + name + "' (known: " + preset_list() + ")");
}

Expected<ModelConfig> parse_model_config(const std::string& json_text, const std::string& source) {
  ANE_ASSIGN_OR_RETURN(json j, parse_json_text(json_text, source, 0, "model config"));
  return ModelConfig::from_json(j, source);
}

Expected<ModelConfig> load_model_config(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_model_config(text, path);
}

Status save_model_config(const std::string& path, const ModelConfig& config) {
  ANE_RETURN_IF_ERROR(config.validate());
  return write_file_atomic(path, config.to_json().dump(2) + "\n");
}

Expected<ModelConfig> config_from_name_or_file(const std::string& name_or_path) {
  Expected<ModelConfig> preset = model_preset(name_or_path);
  if (preset.ok()) return preset;
  Expected<ModelConfig> file = load_model_config(name_or_path);
  if (file.ok() || file.error().code() != ErrorCode::kIo) return file;
  return invalid_argument("'" + name_or_path + "' is neither a model preset (" + preset_list() +
                          ") nor a readable config file: " + file.error().to_string());
}

Expected<ModelConfig> model_config_from_llama2(const std::array<int32_t, 7>& h, const std::string& name) {
  ModelConfig c;
  c.name = name;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  c.shared_classifier = h[5] > 0;
  c.vocab_size = h[5] == std::numeric_limits<int32_t>::min() ? 0 : (h[5] < 0 ? -h[5] : h[5]);
  c.seq_len = h[6];
  if (c.n_heads <= 0 || c.dim <= 0 || c.dim % c.n_heads != 0) {
    return config_error("llama2 header: dim (" + std::to_string(c.dim) + ") must be a positive multiple of n_heads (" +
                            std::to_string(c.n_heads) + ")",
                        name);
  }
  c.head_dim = c.dim / c.n_heads;
  ANE_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace ane
