#include "formats/metrics_log.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "formats/json_util.h"

namespace ane {
namespace {

struct StepRecord {
  std::optional<double> loss, lr, tok_s;
};

struct EvalRecord {
  std::optional<double> val_loss;
};

// Records by step; a later record for a step replaces the earlier one (a resumed run).
struct RecordsByStep {
  std::map<int64_t, StepRecord> steps;
  std::map<int64_t, EvalRecord> evals;
};

class LineParser {
 public:
  LineParser(const std::string& source, int line) : source_(source), line_(line) {}

  Error error(const std::string& message, int col = 0) const {
    return parse_error(message, Location::text(source_, line_, col));
  }

  Expected<int64_t> step(const nlohmann::json& record) const {
    auto it = record.find("step");
    if (it == record.end()) return error("record has no \"step\"");
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX) ||
        it->get<int64_t>() < 0) {
      return error("\"step\" must be a non-negative integer, got " + it->dump());
    }
    return it->get<int64_t>();
  }

  // A missing key or null is "not recorded", and so is a number too large for a double;
  // anything but a number is an error.
  Expected<std::optional<double>> number(const nlohmann::json& record, const char* key) const {
    auto it = record.find(key);
    if (it == record.end() || it->is_null()) return std::optional<double>();
    if (!it->is_number()) return error(std::string("\"") + key + "\" must be a number, got " + it->dump());
    const double v = it->get<double>();
    return std::isfinite(v) ? std::optional<double>(v) : std::optional<double>();
  }

  Status add(const nlohmann::json& record, RecordsByStep& out) const {
    if (!record.is_object()) return error("a metrics record must be a JSON object, got " + record.dump());
    auto type = record.find("type");
    if (type == record.end() || !type->is_string()) return {};
    if (*type == "step") {
      ANE_ASSIGN_OR_RETURN(int64_t s, step(record));
      StepRecord r;
      ANE_ASSIGN_OR_RETURN(r.loss, number(record, "loss"));
      ANE_ASSIGN_OR_RETURN(r.lr, number(record, "lr"));
      ANE_ASSIGN_OR_RETURN(r.tok_s, number(record, "tok_s"));
      out.steps[s] = r;
    } else if (*type == "eval") {
      ANE_ASSIGN_OR_RETURN(int64_t s, step(record));
      EvalRecord r;
      ANE_ASSIGN_OR_RETURN(r.val_loss, number(record, "val_loss"));
      out.evals[s] = r;
    }
    return {};
  }

 private:
  const std::string& source_;
  int line_;
};

template <typename Record>
MetricSeries series_of(const std::map<int64_t, Record>& records, std::optional<double> Record::*field) {
  MetricSeries s;
  for (const auto& [step, r] : records) {
    if (!(r.*field)) continue;
    s.steps.push_back(static_cast<double>(step));
    s.values.push_back(*(r.*field));
  }
  return s;
}

// nlohmann's messages say "at line 1, column C" (each record is parsed alone); the error's
// location already gives the file's line and column, so that part is dropped.
std::string without_json_position(const std::string& message) {
  const size_t at = message.find(" at line 1, column ");
  const size_t rest = at == std::string::npos ? at : message.find(": ", at);
  return rest == std::string::npos ? message : message.substr(0, at) + message.substr(rest);
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

Expected<TrainingMetrics> parse_metrics_log(std::string_view text, const std::string& source) {
  RecordsByStep records;
  int line_no = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_no;
    if (is_blank(line)) continue;
    const LineParser parser(source, line_no);
    auto json = parse_json_text(line, source, 0, "metrics record");
    if (!json) {
      return parser.error(without_json_position(json.error().message()),
                          static_cast<int>(json.error().where().byte_offset) + 1);
    }
    ANE_RETURN_IF_ERROR(parser.add(*json, records));
  }
  TrainingMetrics m;
  m.loss = series_of(records.steps, &StepRecord::loss);
  m.lr = series_of(records.steps, &StepRecord::lr);
  m.tok_s = series_of(records.steps, &StepRecord::tok_s);
  m.val_loss = series_of(records.evals, &EvalRecord::val_loss);
  return m;
}

Expected<TrainingMetrics> read_metrics_log(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_metrics_log(text, path);
}

Expected<MetricsLogWriter> MetricsLogWriter::open(const std::string& path, bool append) {
  MetricsLogWriter w;
  w.path_ = path;
  if (path.empty()) return w;
  w.out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!w.out_) return io_error("cannot open the metrics file '" + path + "' for writing");
  return w;
}

Status MetricsLogWriter::write(const nlohmann::json& record) {
  if (!out_.is_open()) return {};
  out_ << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out_.flush();
  if (!out_) return io_error("cannot write to the metrics file '" + path_ + "'");
  return {};
}

}  // namespace ane
