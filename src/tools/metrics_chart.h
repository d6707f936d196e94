// PNG charts of training metrics (loss, and optionally learning rate and throughput
// against step), drawn with PLplot's cairo driver.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "formats/metrics_log.h"

namespace ane::cli {

struct RunMetrics {
  std::string name;  // legend label when several runs share a chart
  TrainingMetrics metrics;
};

struct ChartOptions {
  std::string title;
  int width = 1200;  // pixels
  int height = 800;
  bool lr_panel = false;
  bool throughput_panel = false;
};

// Writes the chart to `png_path` atomically (a temp file beside it, then rename).
Status write_metrics_chart(const std::vector<RunMetrics>& runs, const ChartOptions& options,
                           const std::string& png_path);

}  // namespace ane::cli
