// What cloudbook-run prints: the live progress (plain lines and the redrawn block) and the
// final summary, from agent 0's events and results JSON.
#include "agent/launcher/run_progress_view.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/launcher/run_summary.h"

namespace cloudbook {
namespace {

// Collects what a view writes (open_memstream), so the test reads the exact output.
class Captured {
 public:
  Captured() : file_(open_memstream(&buffer_, &size_)) {}
  ~Captured() {
    if (file_) std::fclose(file_);
    std::free(buffer_);
  }
  std::FILE* file() { return file_; }
  std::string Text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
};

WireArguments Epoch(int du, int epoch, double loss) {
  return {{"event", std::string("du")},
          {"du", int64_t{du}},
          {"agent", std::string("agent-x")},
          {"subnet", int64_t{du}},
          {"subnet_position", int64_t{0}},
          {"subnets", int64_t{1}},
          {"epoch", int64_t{epoch}},
          {"epochs", int64_t{4}},
          {"loss", loss},
          {"samples_per_second", 1234.0},
          {"eta_seconds", 3.0},
          {"elapsed_seconds", 5.0}};
}

TEST(RunProgressView, PlainLinesSayWhoTrainsWhatAndTheOverallShare) {
  Captured out;
  RunProgressView view(out.file(), /*redraw=*/false);
  view.OnEvent({{"event", std::string("start")},
                {"dus", int64_t{2}},
                {"project", std::string("fashion")},
                {"run", std::string("r1")}});
  view.OnEvent(Epoch(0, 2, 0.5));
  const std::string text = out.Text();
  EXPECT_NE(text.find("run r1: 2 DUs of fashion"), std::string::npos) << text;
  EXPECT_NE(text.find("DU 0  agent-x  subnet 1/1  epoch 2/4  loss 0.5000  1234 samples/s  ETA 3s"),
            std::string::npos)
      << text;
  // DU 0 is half done, DU 1 not started: a quarter overall.
  EXPECT_NE(text.find("(overall 25%)"), std::string::npos) << text;
  EXPECT_DOUBLE_EQ(view.OverallFraction(), 0.25);
  EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no escape codes in plain mode";
}

TEST(RunProgressView, ATrainedDuCountsWholeAndNotesAreShown) {
  Captured out;
  RunProgressView view(out.file(), /*redraw=*/false);
  view.OnEvent({{"event", std::string("start")}, {"dus", int64_t{2}}});
  view.OnEvent({{"event", std::string("du")},
                {"du", int64_t{1}},
                {"agent", std::string("agent-y")},
                {"state", std::string("trained")}});
  view.OnEvent({{"event", std::string("note")},
                {"message", std::string("DU 0 -> agent-y (moved from lost agent-x)")}});
  const std::string text = out.Text();
  EXPECT_DOUBLE_EQ(view.OverallFraction(), 0.5);
  EXPECT_NE(text.find("DU 1  agent-y  trained"), std::string::npos) << text;
  EXPECT_NE(text.find("moved from lost agent-x"), std::string::npos) << text;
}

TEST(RunProgressView, ATerminalGetsOneRedrawnLinePerDuAndABar) {
  Captured out;
  RunProgressView view(out.file(), /*redraw=*/true);
  view.OnEvent({{"event", std::string("start")}, {"dus", int64_t{2}}});
  view.OnEvent(Epoch(0, 4, 0.25));
  view.Finish();
  const std::string text = out.Text();
  EXPECT_NE(text.find("\x1b[3A"), std::string::npos) << "moves up over 2 DU lines + the bar";
  EXPECT_NE(text.find("[###############...............]  50%"), std::string::npos) << text;
}

TEST(RunProgressView, MalformedEventsAreIgnored) {
  Captured out;
  RunProgressView view(out.file(), /*redraw=*/false);
  view.OnEvent({{"event", int64_t{3}}});
  view.OnEvent({{"event", std::string("du")}, {"du", std::string("zero")}});
  view.OnEvent({});
  EXPECT_DOUBLE_EQ(view.OverallFraction(), 0);
}

TEST(FormatRunSummary, ShowsComposedOriginalWhereEachDuRanAndOverheads) {
  const Json results = Json::parse(R"({
    "run": "demo", "problem": "multiclass", "subnets_count": 2, "factor": 1.5,
    "wall_seconds": 65,
    "subnets": [{"index": 0, "du": 0, "ran_on": "agent-0", "epochs": 7,
                 "test_metrics": {"accuracy": 0.9}, "history": [{"epoch": 7, "train_loss": 0.2}]}],
    "dus": [{"du": 0, "agents": ["agent-0"], "train_seconds": 3.0, "resumed_epochs": 0},
            {"du": 1, "agents": ["agent-x", "agent-0"], "train_seconds": 4.0,
             "resumed_epochs": 3}],
    "composed": {"metrics": {"accuracy": 0.85}},
    "baseline": {"metrics": {"accuracy": 0.86}, "train_seconds": 12.0, "ran_on": "agent-0"},
    "comparison": {"accuracy_delta": -0.01, "speedup_slowest_du": 3.0},
    "overheads": {"first_step_seconds": 0.5, "compose_seconds": 0.1},
    "redeploys": 1})");
  const std::string text = FormatRunSummary(results, "/p/distributed/results/demo.json");
  EXPECT_NE(text.find("in 1m05s"), std::string::npos) << text;
  EXPECT_NE(text.find("DU 1: agent-x -> agent-0"), std::string::npos) << text;
  EXPECT_NE(text.find("resumed 3 epoch(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("composed: accuracy 0.8500"), std::string::npos) << text;
  EXPECT_NE(text.find("original: accuracy 0.8600"), std::string::npos) << text;
  EXPECT_NE(text.find("accuracy -0.0100"), std::string::npos) << text;
  EXPECT_NE(text.find("1 redeploy(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("results: /p/distributed/results/demo.json"), std::string::npos) << text;
}

TEST(FormatRunSummary, SurvivesMissingFields) {
  const std::string text = FormatRunSummary(Json::object(), "x.json");
  EXPECT_NE(text.find("results: x.json"), std::string::npos) << text;
}

}  // namespace
}  // namespace cloudbook
