#include "tools/metrics_chart.h"

#include <plplot.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>

#include "core/file.h"

namespace ane::cli {
namespace {

struct Rgb {
  int r, g, b;
};

// Run colours, in order; well apart in hue and lightness.
constexpr Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                            {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {23, 190, 207}};
constexpr size_t kPaletteSize = std::size(kPalette);

// cmap0 entries. Each run then has three, from kFirstRunColour: raw values (translucent),
// smoothed values, evaluations.
enum : PLINT { kBackground, kAxis, kGrid, kText, kLegendBorder, kFirstRunColour };
enum class Shade : PLINT { kRaw = 0, kMain = 1, kEval = 2 };

PLINT run_colour(size_t run, Shade shade) {
  return kFirstRunColour + static_cast<PLINT>(3 * run) + static_cast<PLINT>(shade);
}

void set_colours(size_t runs) {
  plscmap0n(kFirstRunColour + static_cast<PLINT>(3 * runs));
  plscol0a(kBackground, 255, 255, 255, 1.0);
  plscol0a(kAxis, 90, 90, 90, 1.0);
  plscol0a(kGrid, 225, 225, 225, 1.0);
  plscol0a(kText, 30, 30, 30, 1.0);
  plscol0a(kLegendBorder, 200, 200, 200, 1.0);
  for (size_t i = 0; i < runs; ++i) {
    const Rgb c = kPalette[i % kPaletteSize];
    // One run: evaluations in the second hue. Several: each run keeps its hue, darker.
    const Rgb eval = runs == 1 ? kPalette[1] : Rgb{c.r * 2 / 3, c.g * 2 / 3, c.b * 2 / 3};
    plscol0a(run_colour(i, Shade::kRaw), c.r, c.g, c.b, 0.4);
    plscol0a(run_colour(i, Shade::kMain), c.r, c.g, c.b, 1.0);
    plscol0a(run_colour(i, Shade::kEval), eval.r, eval.g, eval.b, 1.0);
  }
}

// Exponential moving average with its start-up bias divided out, so the first points are
// not pulled toward zero. `span` is in points: alpha = 2 / (span + 1).
std::vector<double> smoothed(const std::vector<double>& values, double span) {
  const double alpha = 2.0 / (span + 1.0);
  std::vector<double> out;
  out.reserve(values.size());
  double mean = 0, weight = 0;
  for (double v : values) {
    mean = (1 - alpha) * mean + alpha * v;
    weight = (1 - alpha) * weight + alpha;
    out.push_back(mean / weight);
  }
  return out;
}

// A window of 1% of the run: enough to see through step-to-step noise, short enough that
// the smoothed line does not lag the raw one visibly where the loss falls fast.
double smoothing_span(size_t points) { return std::max(1.0, static_cast<double>(points) / 100.0); }

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();

  void add(std::span<const double> values) {
    for (double v : values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  // Widened by `fraction` of its length on each side; a single value by a tenth of itself.
  Range padded(double fraction) const {
    const double pad = hi > lo ? (hi - lo) * fraction : std::max(std::abs(lo) * 0.1, 1e-9);
    return {lo - pad, hi + pad};
  }
};

// Tick labels: short forms for large and small numbers ("12.5k", "3e-4"), one suffix per
// axis (so "5k, 10k", not "5000, 10k"); values within rounding error of zero print as "0".
struct TickFormat {
  double x_span, y_span;
};

void format_tick(PLINT axis, PLFLT value, char* label, PLINT length, PLPointer data) {
  const auto* f = static_cast<const TickFormat*>(data);
  const double span = axis == PL_X_AXIS ? f->x_span : f->y_span;
  const double a = std::abs(value);
  const auto size = static_cast<size_t>(length);
  if (a < span * 1e-9) {
    std::snprintf(label, size, "0");
  } else if (span >= 1e7) {
    std::snprintf(label, size, "%gM", value / 1e6);
  } else if (span >= 1e4) {
    std::snprintf(label, size, "%gk", value / 1e3);
  } else if (a < 1e-3) {
    const int exponent = static_cast<int>(std::floor(std::log10(a)));
    std::snprintf(label, size, "%.3ge%d", value / std::pow(10.0, exponent), exponent);
  } else {
    std::snprintf(label, size, "%.4g", value);
  }
}

// PLplot reads '#' as the start of an escape sequence.
std::string plplot_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Normalised page coordinates of one panel's plotting area.
struct Viewport {
  double x0, x1, y0, y1;
};

enum class Panel { kLoss, kLr, kThroughput };

struct PanelStyle {
  const char* y_title;
  double weight;  // share of the height
};

PanelStyle style_of(Panel p) {
  switch (p) {
    case Panel::kLoss: return {"loss", 3.0};
    case Panel::kLr: return {"lr", 1.2};
    case Panel::kThroughput: return {"tokens/s", 1.2};
  }
  return {"", 1.0};
}

// Stacks the panels top to bottom, leaving margins (in character heights) for the title,
// tick labels and axis titles. Only the bottom panel has x tick labels.
std::vector<Viewport> layout(const std::vector<Panel>& panels) {
  PLFLT page_x0, page_x1, page_y0, page_y1, default_mm, char_mm;
  plgspa(&page_x0, &page_x1, &page_y0, &page_y1);
  plgchr(&default_mm, &char_mm);
  const double cw = char_mm / (page_x1 - page_x0);  // one character height, as a page fraction
  const double ch = char_mm / (page_y1 - page_y0);
  const double left = 7.5 * cw, right = 1 - 2.5 * cw, top = 1 - 4.0 * ch, bottom = 4.6 * ch, gap = 1.5 * ch;
  double total_weight = 0;
  for (Panel p : panels) total_weight += style_of(p).weight;
  const double usable = top - bottom - gap * static_cast<double>(panels.size() - 1);
  std::vector<Viewport> out;
  double y = top;
  for (Panel p : panels) {
    const double h = usable * style_of(p).weight / total_weight;
    out.push_back({left, right, y - h, y});
    y -= h + gap;
  }
  return out;
}

// A tick interval of 1, 2, 2.5 or 5 times a power of ten giving about `target` ticks.
double tick_interval(double span, int target) {
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

void draw_axes(const Range& x, const Range& y, bool x_labels, const char* y_title, int y_ticks) {
  const double x_tick = tick_interval(x.hi - x.lo, 8), y_tick = tick_interval(y.hi - y.lo, y_ticks);
  plwind(x.lo, x.hi, y.lo, y.hi);
  plwidth(1.0);
  pllsty(1);
  plcol0(kGrid);
  plbox("g", x_tick, 0, "g", y_tick, 0);
  plcol0(kAxis);
  TickFormat ticks{x.hi - x.lo, y.hi - y.lo};
  plslabelfunc(format_tick, &ticks);
  plbox(x_labels ? "bcnto" : "bct", x_tick, 0, "bcntvo", y_tick, 0);
  plslabelfunc(nullptr, nullptr);
  plcol0(kText);
  plmtex("l", 5.5, 0.5, 0.5, y_title);
  if (x_labels) plmtex("b", 3.2, 0.5, 0.5, "step");
}

// Current character height relative to PLplot's default.
double char_scale() {
  PLFLT default_mm, char_mm;
  plgchr(&default_mm, &char_mm);
  return char_mm / default_mm;
}

// Text scale of a 1200 x 800 chart. Line widths below are for that size and follow the text.
constexpr double kBaseTextScale = 0.8;

void draw_line(const MetricSeries& s, const std::vector<double>& values, PLINT colour, double width) {
  plcol0(colour);
  plwidth(std::max(0.5, width * char_scale() / kBaseTextScale));
  plline(static_cast<PLINT>(s.steps.size()), s.steps.data(), values.data());
}

constexpr const char* kMarker = "●";
constexpr double kMarkerScale = 0.5;

void draw_markers(const MetricSeries& s, PLINT colour) {
  const double text = char_scale();
  plschr(0, text * kMarkerScale);
  plcol0(colour);
  plstring(static_cast<PLINT>(s.steps.size()), s.steps.data(), s.values.data(), kMarker);
  plschr(0, text);
}

// The entries of one legend, in the parallel arrays pllegend takes.
struct Legend {
  std::vector<std::string> texts;
  std::vector<PLINT> opts, colours, styles, symbol_numbers;
  std::vector<PLFLT> widths, symbol_scales;

  void add(std::string text, PLINT colour, double width, bool marker) {
    texts.push_back(plplot_text(text));
    opts.push_back(PL_LEGEND_LINE | (marker ? PL_LEGEND_SYMBOL : 0));
    colours.push_back(colour);
    styles.push_back(1);
    widths.push_back(std::max(0.5, width * char_scale() / kBaseTextScale));
    symbol_numbers.push_back(marker ? 2 : 0);
    symbol_scales.push_back(kMarkerScale * char_scale());
  }

  void draw() const {
    if (texts.empty()) return;
    const auto n = static_cast<PLINT>(texts.size());
    std::vector<const char*> text_ptrs, symbols(texts.size(), kMarker);
    for (const auto& t : texts) text_ptrs.push_back(t.c_str());
    const std::vector<PLINT> text_colours(texts.size(), kText);
    PLFLT legend_w, legend_h;
    pllegend(&legend_w, &legend_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE | PL_POSITION_VIEWPORT, 0.015, 0.03, 0.07,
             kBackground, kLegendBorder, 1, 0, 0, n, opts.data(), 1.0, 0.9 * char_scale(), 2.2, 0.0, text_colours.data(),
             text_ptrs.data(), nullptr, nullptr, nullptr, nullptr, colours.data(), styles.data(), widths.data(),
             colours.data(), symbol_scales.data(), symbol_numbers.data(), symbols.data());
  }
};

constexpr double kRawWidth = 1.0, kMainWidth = 2.4, kEvalWidth = 1.6;

void draw_loss_panel(const std::vector<RunMetrics>& runs, const Range& x, bool x_labels) {
  Range y;
  for (const auto& r : runs) {
    y.add(r.metrics.loss.values);
    y.add(r.metrics.val_loss.values);
  }
  draw_axes(x, y.padded(0.05), x_labels, style_of(Panel::kLoss).y_title, 7);
  const bool several = runs.size() > 1;
  Legend legend;
  for (size_t i = 0; i < runs.size(); ++i) {
    const TrainingMetrics& m = runs[i].metrics;
    const std::string prefix = several ? runs[i].name + ": " : "";
    const auto ema = smoothed(m.loss.values, smoothing_span(m.loss.values.size()));
    draw_line(m.loss, m.loss.values, run_colour(i, Shade::kRaw), kRawWidth);
    draw_line(m.loss, ema, run_colour(i, Shade::kMain), kMainWidth);
    if (!several) legend.add("train loss", run_colour(i, Shade::kRaw), kRawWidth, false);
    legend.add(prefix + "train loss, smoothed (last " + fixed(ema.back(), 3) + ")", run_colour(i, Shade::kMain),
               kMainWidth, false);
    if (m.val_loss.empty()) continue;
    draw_line(m.val_loss, m.val_loss.values, run_colour(i, Shade::kEval), kEvalWidth);
    draw_markers(m.val_loss, run_colour(i, Shade::kEval));
    const double best = *std::min_element(m.val_loss.values.begin(), m.val_loss.values.end());
    legend.add(prefix + "val loss (best " + fixed(best, 3) + ")", run_colour(i, Shade::kEval), kEvalWidth, true);
  }
  legend.draw();
}

void draw_lr_panel(const std::vector<RunMetrics>& runs, const Range& x, bool x_labels) {
  Range y{0, 0};
  for (const auto& r : runs) y.add(r.metrics.lr.values);
  draw_axes(x, {0, y.hi > 0 ? y.hi * 1.08 : 1}, x_labels, style_of(Panel::kLr).y_title, 4);
  for (size_t i = 0; i < runs.size(); ++i) {
    draw_line(runs[i].metrics.lr, runs[i].metrics.lr.values, run_colour(i, Shade::kMain), kMainWidth * 0.75);
  }
}

void draw_throughput_panel(const std::vector<RunMetrics>& runs, const Range& x, bool x_labels) {
  Range y{0, 0};
  for (const auto& r : runs) y.add(r.metrics.tok_s.values);
  draw_axes(x, {0, y.hi > 0 ? y.hi * 1.08 : 1}, x_labels, style_of(Panel::kThroughput).y_title, 4);
  for (size_t i = 0; i < runs.size(); ++i) {
    const MetricSeries& s = runs[i].metrics.tok_s;
    draw_line(s, s.values, run_colour(i, Shade::kRaw), kRawWidth);
    draw_line(s, smoothed(s.values, smoothing_span(s.values.size())), run_colour(i, Shade::kMain), kMainWidth * 0.75);
  }
}

Range step_range(const std::vector<RunMetrics>& runs) {
  Range x;
  for (const auto& r : runs) {
    const TrainingMetrics& m = r.metrics;
    for (const MetricSeries* s : {&m.loss, &m.lr, &m.tok_s, &m.val_loss}) x.add(s->steps);
  }
  if (x.lo <= 0.1 * x.hi) x.lo = 0;  // a run from its start: show step 0
  return x.hi > x.lo ? x : x.padded(0);
}

bool has_pngcairo() {
  std::array<const char*, 128> menus{}, names{};
  const char** menu_ptr = menus.data();
  const char** name_ptr = names.data();
  int count = static_cast<int>(names.size());
  plgDevs(&menu_ptr, &name_ptr, &count);
  return std::any_of(names.begin(), names.begin() + count,
                     [](const char* n) { return n && std::strcmp(n, "pngcairo") == 0; });
}

// A file PLplot draws into, removed when this goes out of scope.
class TempPng {
 public:
  static Expected<TempPng> create() {
    std::string path = (std::filesystem::temp_directory_path() / "ane-plot-XXXXXX").string();
    const int fd = ::mkstemp(path.data());
    if (fd < 0) return io_error("cannot create a temporary file " + path + ": " + std::strerror(errno));
    ::close(fd);
    return TempPng(std::move(path));
  }
  TempPng(TempPng&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempPng(const TempPng&) = delete;
  TempPng& operator=(const TempPng&) = delete;
  TempPng& operator=(TempPng&&) = delete;
  ~TempPng() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempPng(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Owns PLplot's output stream from plinit to plend; plend writes and closes the file.
class PlplotPage {
 public:
  PlplotPage(const std::string& path, const ChartOptions& o) {
    plsdev("pngcairo");
    plsfnam(path.c_str());
    plspage(0, 0, o.width, o.height, 0, 0);
    plscolbg(255, 255, 255);
    plinit();
    pladv(0);
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
  }
  ~PlplotPage() { plend(); }
  PlplotPage(const PlplotPage&) = delete;
  PlplotPage& operator=(const PlplotPage&) = delete;
};

// Text grows and shrinks with the image, more slowly than the image does.
double text_scale(const ChartOptions& o) {
  return std::clamp(kBaseTextScale * std::sqrt(std::min(o.width / 1200.0, o.height / 800.0)), 0.5, 3.0);
}

void draw_chart(const std::vector<RunMetrics>& runs, const ChartOptions& o) {
  set_colours(runs.size());
  plschr(0, text_scale(o));
  std::vector<Panel> panels = {Panel::kLoss};
  if (o.lr_panel) panels.push_back(Panel::kLr);
  if (o.throughput_panel) panels.push_back(Panel::kThroughput);
  const std::vector<Viewport> viewports = layout(panels);
  const Range x = step_range(runs);
  for (size_t i = 0; i < panels.size(); ++i) {
    const Viewport& v = viewports[i];
    plvpor(v.x0, v.x1, v.y0, v.y1);
    const bool bottom = i + 1 == panels.size();
    switch (panels[i]) {
      case Panel::kLoss: draw_loss_panel(runs, x, bottom); break;
      case Panel::kLr: draw_lr_panel(runs, x, bottom); break;
      case Panel::kThroughput: draw_throughput_panel(runs, x, bottom); break;
    }
    if (i == 0) {
      plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_BOLD);
      plschr(0, text_scale(o) * 1.25);
      plcol0(kText);
      plmtex("t", 1.3, 0.5, 0.5, plplot_text(o.title).c_str());
      plschr(0, text_scale(o));
      plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    }
  }
}

bool is_png(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= sizeof kSignature && std::equal(std::begin(kSignature), std::end(kSignature), bytes.begin());
}

}  // namespace

Status write_metrics_chart(const std::vector<RunMetrics>& runs, const ChartOptions& options,
                           const std::string& png_path) {
  if (runs.empty()) return invalid_argument("no runs to plot");
  for (const auto& r : runs) {
    if (r.metrics.loss.empty()) return invalid_argument(r.name + ": no \"step\" records with a loss");
  }
  if (options.width < 64 || options.height < 64 || options.width > 16384 || options.height > 16384) {
    return invalid_argument("chart size " + std::to_string(options.width) + "x" + std::to_string(options.height) +
                            " is outside 64..16384 pixels");
  }
  // Without the driver plinit would ask for a device on stdin.
  if (!has_pngcairo()) return Error(ErrorCode::kUnsupported, "PLplot has no pngcairo device (install plplot-driver-cairo)");
  ANE_ASSIGN_OR_RETURN(TempPng temp, TempPng::create());
  {
    PlplotPage page(temp.path(), options);
    draw_chart(runs, options);
  }
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> png, read_file(temp.path()));
  if (!is_png(png)) return Error(ErrorCode::kInternal, "PLplot did not write a PNG (" + temp.path() + ")");
  return write_file_atomic(png_path, png);
}

}  // namespace ane::cli
