// `ane plot LOG.jsonl... -o OUT.png`: training curves from the trainer's metrics logs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "formats/metrics_log.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/metrics_chart.h"

namespace ane::cli {
namespace {

constexpr const char* kPlotHelp =
    "usage: ane plot METRICS.jsonl [MORE.jsonl...] -o OUT.png [--lr] [--throughput]\n"
    "                [--title T] [--width W] [--height H]\n"
    "\n"
    "Draws the training loss (raw and smoothed) and the validation loss against step, as a\n"
    "PNG. Each log is one run, in its own colour.\n"
    "\n"
    "  -o, --output FILE      the PNG to write\n"
    "  --lr                   add a panel with the learning rate\n"
    "  --throughput           add a panel with tokens per second\n"
    "  --title T              chart title (default: the log file names)\n"
    "  --width W, --height H  size in pixels (default 1200 x 800)\n";

// File names label the runs; full paths when two logs share a name.
std::vector<std::string> run_names(const std::vector<std::string>& paths) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& p : paths) {
    names.push_back(std::filesystem::path(p).filename().string());
    seen.insert(names.back());
  }
  return seen.size() == names.size() ? names : paths;
}

std::string default_title(const std::vector<std::string>& names) {
  std::string t;
  for (const auto& n : names) t += (t.empty() ? "" : ", ") + n;
  return t;
}

Expected<std::vector<RunMetrics>> load_runs(const std::vector<std::string>& paths) {
  const std::vector<std::string> names = run_names(paths);
  std::vector<RunMetrics> runs;
  for (size_t i = 0; i < paths.size(); ++i) {
    ANE_ASSIGN_OR_RETURN(TrainingMetrics m, read_metrics_log(paths[i]));
    runs.push_back({names[i], std::move(m)});
  }
  return runs;
}

// A requested panel with nothing to show is an error rather than an empty frame.
Status check_panel_data(const std::vector<RunMetrics>& runs, const ChartOptions& o) {
  bool any_lr = false, any_tok_s = false;
  for (const auto& r : runs) {
    any_lr |= !r.metrics.lr.empty();
    any_tok_s |= !r.metrics.tok_s.empty();
  }
  if (o.lr_panel && !any_lr) return invalid_argument("--lr: no step record has an \"lr\"");
  if (o.throughput_panel && !any_tok_s) return invalid_argument("--throughput: no step record has a \"tok_s\"");
  return {};
}

Expected<ChartOptions> chart_options(const Args& a, const std::vector<std::string>& names) {
  ChartOptions o;
  ANE_ASSIGN_OR_RETURN(long long width, a.get_int("width", o.width));
  ANE_ASSIGN_OR_RETURN(long long height, a.get_int("height", o.height));
  // Clamped into int only; write_metrics_chart checks the real limits.
  o.width = static_cast<int>(std::clamp(width, 0LL, 1LL << 20));
  o.height = static_cast<int>(std::clamp(height, 0LL, 1LL << 20));
  o.title = a.get("title", default_title(names));
  o.lr_panel = a.has("lr");
  o.throughput_panel = a.has("throughput");
  return o;
}

}  // namespace

int cmd_plot(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {"output", "title", "width", "height"}, {"lr", "throughput", "help"},
                            {{"-o", "output"}});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help")) {
    std::printf("%s", kPlotHelp);
    return 0;
  }
  const std::vector<std::string>& paths = parsed->positional();
  if (paths.empty() || !parsed->has("output")) {
    std::fprintf(stderr, "%s", kPlotHelp);
    return 2;
  }
  auto options = chart_options(*parsed, run_names(paths));
  if (!options) return report(options.error());
  auto runs = load_runs(paths);
  if (!runs) return report(runs.error());
  if (Status s = check_panel_data(*runs, *options); !s) return report(s.error());
  const std::string out = parsed->get("output");
  if (Status s = write_metrics_chart(*runs, *options, out); !s) return report(s.error());
  std::printf("wrote %s (%dx%d, %zu run%s)\n", out.c_str(), options->width, options->height, runs->size(),
              runs->size() == 1 ? "" : "s");
  return 0;
}

}  // namespace ane::cli
