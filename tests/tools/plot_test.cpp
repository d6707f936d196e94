// `ane plot`: the metrics-log reader (records to series, resumed runs, located errors) and
// the command end to end, checking that it writes a PNG of the requested size.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.h"
#include "core/file.h"
#include "formats/metrics_log.h"

namespace ane {
namespace {

TEST(MetricsLog, ReadsStepAndEvalRecordsIgnoringUnknownOnes) {
  const std::string log =
      R"({"type":"start","config":{"dim":64,"steps":3},"time":"2025-01-01"})" "\n"
      R"({"type":"step","step":1,"loss":4.5,"lr":0.0001,"ms":12.5,"tok_s":9000,"grad_norm":1.2})" "\n"
      R"({"type":"step","step":2,"loss":4.0,"lr":0.0002,"ms":12.0,"tok_s":9100})" "\n"
      R"({"type":"checkpoint","step":2,"path":"ck.oane"})" "\n"
      R"({"note":"no type at all"})" "\n"
      R"({"type":"eval","step":2,"val_loss":4.2,"val_ppl":66.7})" "\n"
      R"({"type":"step","step":3,"loss":3.5,"lr":0.0003})" "\n";
  auto m = parse_metrics_log(log, "log.jsonl");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->loss.steps, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(m->loss.values, (std::vector<double>{4.5, 4.0, 3.5}));
  EXPECT_EQ(m->lr.values, (std::vector<double>{0.0001, 0.0002, 0.0003}));
  EXPECT_EQ(m->tok_s.steps, (std::vector<double>{1, 2}));  // step 3 has no tok_s
  EXPECT_EQ(m->val_loss.steps, (std::vector<double>{2}));
  EXPECT_EQ(m->val_loss.values, (std::vector<double>{4.2}));
}

TEST(MetricsLog, LaterRecordsForAStepWinAsInAResumedRun) {
  // Run to step 4, evaluated at 2 and 4; resumed from the step-2 checkpoint.
  const std::string log =
      R"({"type":"start","config":{}})" "\n"
      R"({"type":"step","step":1,"loss":5.0,"lr":0.1})" "\n"
      R"({"type":"step","step":2,"loss":4.0,"lr":0.1})" "\n"
      R"({"type":"eval","step":2,"val_loss":4.4})" "\n"
      R"({"type":"step","step":3,"loss":3.0,"lr":0.1})" "\n"
      R"({"type":"step","step":4,"loss":2.0,"lr":0.1})" "\n"
      R"({"type":"eval","step":4,"val_loss":2.4})" "\n"
      R"({"type":"start","config":{},"resumed_from":2})" "\n"
      R"({"type":"step","step":3,"loss":3.3})" "\n"
      R"({"type":"step","step":4,"loss":2.2,"lr":0.05})" "\n"
      R"({"type":"eval","step":4,"val_loss":2.5})" "\n"
      R"({"type":"step","step":5,"loss":1.5,"lr":0.05})" "\n";
  auto m = parse_metrics_log(log, "log.jsonl");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->loss.steps, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(m->loss.values, (std::vector<double>{5.0, 4.0, 3.3, 2.2, 1.5}));
  // The later step-3 record has no lr: the whole record is replaced, so step 3 has none.
  EXPECT_EQ(m->lr.steps, (std::vector<double>{1, 2, 4, 5}));
  EXPECT_EQ(m->lr.values, (std::vector<double>{0.1, 0.1, 0.05, 0.05}));
  EXPECT_EQ(m->val_loss.steps, (std::vector<double>{2, 4}));
  EXPECT_EQ(m->val_loss.values, (std::vector<double>{4.4, 2.5}));
}

TEST(MetricsLog, BlankLinesCrlfAndNullValuesAreAccepted) {
  const std::string log = "\r\n"
                          R"({"type":"step","step":1,"loss":null,"lr":0.1})" "\r\n"
                          "   \n"
                          R"({"type":"step","step":2,"loss":3.0})";  // no final newline
  auto m = parse_metrics_log(log, "log.jsonl");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->loss.steps, (std::vector<double>{2}));
  EXPECT_EQ(m->lr.steps, (std::vector<double>{1}));
}

TEST(MetricsLog, EmptyLogHasNoSeries) {
  auto m = parse_metrics_log(R"({"type":"start","config":{}})" "\n", "log.jsonl");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->loss.empty());
  EXPECT_TRUE(m->val_loss.empty());
}

void expect_error_at(const std::string& log, int line, const std::string& says) {
  auto m = parse_metrics_log(log, "log.jsonl");
  ASSERT_FALSE(m.ok()) << "accepted: " << log;
  EXPECT_EQ(m.error().code(), ErrorCode::kParse);
  EXPECT_EQ(m.error().where().file, "log.jsonl");
  EXPECT_EQ(m.error().where().line, line) << m.error().to_string();
  EXPECT_NE(m.error().message().find(says), std::string::npos) << m.error().to_string();
}

TEST(MetricsLog, MalformedLinesAreErrorsWithFileAndLine) {
  const std::string ok = R"({"type":"step","step":1,"loss":2.0})" "\n";
  expect_error_at(ok + "\n" + R"({"type":"step","step":2,"loss":)" "\n" + ok, 3, "invalid JSON");
  expect_error_at(ok + "{\"type\":\n", 2, "unexpected end of input");
  expect_error_at(ok + "not json\n", 2, "invalid JSON");
  expect_error_at(ok + R"({"type":"step","step":2,"loss":1.0} trailing)" "\n", 2, "invalid JSON");
  expect_error_at("[1, 2]\n", 1, "must be a JSON object");
  expect_error_at(ok + R"({"type":"step","loss":1.0})", 2, "no \"step\"");
  expect_error_at(ok + R"({"type":"step","step":-1,"loss":1.0})", 2, "non-negative integer");
  expect_error_at(ok + R"({"type":"step","step":1.5,"loss":1.0})", 2, "non-negative integer");
  expect_error_at(ok + R"({"type":"step","step":"7","loss":1.0})", 2, "non-negative integer");
  expect_error_at(ok + ok + R"({"type":"step","step":3,"loss":"high"})", 3, "\"loss\" must be a number");
  expect_error_at(R"({"type":"eval","step":3,"val_loss":[1]})", 1, "\"val_loss\" must be a number");
}

TEST(MetricsLog, ColumnOfAJsonErrorIsWithinItsLine) {
  auto m = parse_metrics_log("{}\n{\"type\": ]\n", "log.jsonl");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().where().line, 2);
  EXPECT_EQ(m.error().where().col, 10) << m.error().to_string();  // the ']'
  EXPECT_EQ(m.error().message().find("line 1"), std::string::npos) << "nlohmann's own position is dropped";
}

TEST(MetricsLog, MissingFileIsAnIoError) {
  auto m = read_metrics_log("/nonexistent/metrics.jsonl");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kIo);
  EXPECT_NE(m.error().to_string().find("/nonexistent/metrics.jsonl"), std::string::npos);
}

uint32_t big_endian_u32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Checks the PNG signature and that the first chunk is an IHDR of the given size.
void expect_png(const std::string& path, uint32_t width, uint32_t height) {
  auto bytes = read_file(path);
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  const std::vector<uint8_t>& b = *bytes;
  ASSERT_GE(b.size(), 24u);
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 8), signature);
  EXPECT_EQ(big_endian_u32(b, 8), 13u);  // IHDR data length
  EXPECT_EQ(std::string(b.begin() + 12, b.begin() + 16), "IHDR");
  EXPECT_EQ(big_endian_u32(b, 16), width);
  EXPECT_EQ(big_endian_u32(b, 20), height);
  EXPECT_GT(b.size(), 5000u) << "an almost empty image";
}

// A log like the trainer's: loss decaying with noise, warm-up then cosine lr, evals every 50.
std::string synthetic_log(int steps, double final_loss) {
  std::string log = R"({"type":"start","config":{"model":"tiny","steps":)" + std::to_string(steps) + "}}\n";
  char line[256];
  for (int s = 1; s <= steps; ++s) {
    const double t = static_cast<double>(s) / steps;
    const double loss = final_loss + 8.0 * std::exp(-8.0 * t) + 0.15 * std::sin(s * 12.9898);
    const double lr = s < steps / 10 ? 3e-4 * s / (steps / 10) : 3e-4 * 0.5 * (1 + std::cos(M_PI * t));
    std::snprintf(line, sizeof line,
                  R"({"type":"step","step":%d,"loss":%.5f,"lr":%.6g,"ms":41.2,"tok_s":%.1f,"grad_norm":1.0})" "\n",
                  s, loss, lr, 12000 + 400 * std::sin(s * 0.37));
    log += line;
    if (s % 50 == 0) {
      std::snprintf(line, sizeof line, R"({"type":"eval","step":%d,"val_loss":%.5f})" "\n", s,
                    final_loss + 0.1 + 8.0 * std::exp(-8.0 * t));
      log += line;
    }
  }
  return log;
}

class PlotCli : public Cli {
 protected:
  std::string write(const std::string& name, const std::string& text) const {
    EXPECT_TRUE(write_file_atomic(path(name), text).ok());
    return path(name);
  }
  void expect_failure(const std::string& args, const std::string& says) {
    RunResult r = run_ane("plot " + args);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
  }
};

TEST_F(PlotCli, WritesAPngOfTheRequestedSize) {
  const std::string log = write("metrics.jsonl", synthetic_log(600, 1.6));
  RunResult r = run_ane("plot " + log + " -o " + path("loss.png") + " --width 640 --height 480");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "wrote " + path("loss.png") + " (640x480, 1 run)\n");  // and no PLplot chatter
  expect_png(path("loss.png"), 640, 480);
}

TEST_F(PlotCli, DrawsExtraPanelsAndSeveralRuns) {
  const std::string a = write("a.jsonl", synthetic_log(400, 1.6));
  const std::string b = write("b.jsonl", synthetic_log(300, 2.0));
  RunResult r = run_ane("plot " + a + " " + b + " --output=" + path("all.png") +
                        " --lr --throughput --title 'two runs #1'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_png(path("all.png"), 1200, 800);
}

TEST_F(PlotCli, BadInputFailsWithAClearError) {
  const std::string out = " -o " + path("x.png");
  expect_failure(path("missing.jsonl") + out, "missing.jsonl");
  expect_failure(write("start_only.jsonl", R"({"type":"start","config":{}})" "\n") + out,
                 "no \"step\" records with a loss");
  expect_failure(write("bad.jsonl", synthetic_log(3, 1.0) + "{\"type\":\"step\",\n") + out, "bad.jsonl:5:16: ");
  const std::string no_lr = write("no_lr.jsonl", R"({"type":"step","step":1,"loss":2})" "\n");
  expect_failure(no_lr + out + " --lr", "--lr: no step record has an \"lr\"");
  expect_failure(no_lr + out + " --throughput", "--throughput: no step record has a \"tok_s\"");
  expect_failure(no_lr + out + " --width 10", "outside 64..16384");
  expect_failure(no_lr + out + " --width wide", "--width expects an integer");
  expect_failure(no_lr + " -o /nonexistent/dir/x.png", "/nonexistent/dir/x.png");
  EXPECT_EQ(run_ane("plot " + no_lr).exit_code, 2);  // no output named
  EXPECT_FALSE(std::filesystem::exists(path("x.png")));
}

}  // namespace
}  // namespace ane
