// Reader for the trainer's metrics log: JSON lines, one record per line.
//   {"type":"start", "config":{...}, ...}                       once per run (ignored here)
//   {"type":"step", "step":N, "loss":F, "lr":F, "ms":F, "tok_s":F, ...}
//   {"type":"eval", "step":N, "val_loss":F, ...}
// Unknown record types and keys are ignored, so the trainer can add to the log freely. A
// resumed run appends to the same file, so a step may appear twice: the later record of
// a type replaces the earlier one for that step. A null value (how JSON writers emit NaN
// and infinity) means "not recorded" and leaves that point out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Parses the text of a log; `source` names it in errors, which carry source:line:col.
Expected<TrainingMetrics> parse_metrics_log(std::string_view text, const std::string& source);
Expected<TrainingMetrics> read_metrics_log(const std::string& path);

}  // namespace ane
