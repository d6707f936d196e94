// The trainer's metrics log, written and read: JSON lines, one record per line.
//   {"type":"start", "config":{...}, ...}                       once per run (ignored here)
//   {"type":"step", "step":N, "loss":F, "lr":F, "ms":F, "tok_s":F, ...}
//   {"type":"eval", "step":N, "val_loss":F, ...}
// Unknown record types and keys are ignored, so the trainer can add to the log freely. A
// resumed run appends to the same file, so a step may appear twice: the later record of
// a type replaces the earlier one for that step. A null value (how JSON writers emit NaN
// and infinity) means "not recorded" and leaves that point out.
#pragma once

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ane {

// One quantity against the training step: strictly increasing steps, values.size() == steps.size().
struct MetricSeries {
  std::vector<double> steps;
  std::vector<double> values;

  bool empty() const { return steps.empty(); }
};

struct TrainingMetrics {
  MetricSeries loss;      // "step" records: "loss"
  MetricSeries lr;        // "step" records: "lr"
  MetricSeries tok_s;     // "step" records: "tok_s"
  MetricSeries val_loss;  // "eval" records: "val_loss"
};

// Appends records to a log, each flushed as it is written so other tools can follow a run.
// A writer opened on an empty path writes nothing.
class MetricsLogWriter {
 public:
  // append: keep what the file holds (a resumed run); else start it afresh.
  static Expected<MetricsLogWriter> open(const std::string& path, bool append);
  // One record; text that is not valid UTF-8 (e.g. a generated sample) is replaced, not refused.
  Status write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
};

// Parses the text of a log; `source` names it in errors, which carry source:line:col.
Expected<TrainingMetrics> parse_metrics_log(std::string_view text, const std::string& source);
Expected<TrainingMetrics> read_metrics_log(const std::string& path);

}  // namespace ane
