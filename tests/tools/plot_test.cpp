// `ane plot`: the metrics-log reader (records to series, resumed runs, located errors).
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

}  // namespace
}  // namespace ane
