// cloudbook-serve's torch-free parts (agent/serve/): the predict request parser (TF Serving's
// row and columnar formats, raw values scaled as the data readers scale, every bad input a
// message), and the batching queue with a fake backend (batches share a call, a large request
// runs in chunks, a full queue refuses).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/serve/batch_queue.h"
#include "agent/serve/fast_instances.h"
#include "agent/serve/predict_request.h"

namespace cloudbook {
namespace {

RunModel TwoByTwoModel() {
  RunModel model;
  model.problem = ProblemType::kMulticlass;
  model.input_shape = {2, 2};
  return model;
}

Result<PredictRequest> Parse(const std::string& body) {
  return ParsePredictRequest(TwoByTwoModel(), 255.0, body, PredictRequestLimits{});
}

std::string ErrorOf(const std::string& body) {
  auto parsed = Parse(body);
  EXPECT_FALSE(parsed.ok()) << body;
  EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument);
  return parsed.status().message();
}

TEST(ServeRequest, RowsColumnsAndFlatInstancesGiveTheSameScaledBatch) {
  const std::vector<float> expected = {
      static_cast<float>(0 / 255.0),   static_cast<float>(51 / 255.0),
      static_cast<float>(102 / 255.0), static_cast<float>(255 / 255.0),
      static_cast<float>(1 / 255.0),   static_cast<float>(2 / 255.0),
      static_cast<float>(3 / 255.0),   static_cast<float>(4 / 255.0)};
  for (const std::string body : {R"({"instances": [[[0, 51], [102, 255]], [[1, 2], [3, 4]]]})",
                                 R"({"instances": [[0, 51, 102, 255], {"input": [1, 2, 3, 4]}]})",
                                 R"({"inputs": [[[0, 51], [102, 255]], [1, 2, 3, 4]]})",
                                 R"({"inputs": {"input": [[0, 51, 102, 255], [1, 2, 3, 4]]}})"}) {
    auto parsed = Parse(body);
    ASSERT_TRUE(parsed.ok()) << body << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->x.shape, (std::vector<int64_t>{2, 2, 2})) << body;
    EXPECT_EQ(parsed->x.values, expected) << body;
    EXPECT_EQ(parsed->columnar, body.find("inputs") != std::string::npos);
  }
}

// The one-pass reader of the common form gives exactly the general parser's batch (read here
// through the columnar form, which always takes the general path), and leaves every other
// body to it, so errors keep their messages.
TEST(ServeRequest, ThePlainInstancesReaderAgreesWithTheGeneralParser) {
  const RunModel model = TwoByTwoModel();
  for (const std::string samples :
       {"[[[0, 51], [102, 255]], [[1, 2], [3, 4]]]", "[[0, 51, 102, 255]]",
        " [ [ [ 0.5 ,1e2],[ -3.25E-1, 7] ] ,\n\t[1,2,3,4]] ",
        "[[[12345678901234567, 0.1], [2.5e-300, 1]]]"}) {
    Array fast;
    ASSERT_TRUE(ParsePlainInstances("{\"instances\": " + samples + "}", model, 255.0, 100, &fast))
        << samples;
    auto general = Parse("{\"inputs\": " + samples + "}");
    ASSERT_TRUE(general.ok()) << general.status().ToString();
    EXPECT_EQ(fast.shape, general->x.shape) << samples;
    EXPECT_EQ(fast.values, general->x.values) << samples;
    auto parsed = Parse("{\"instances\": " + samples + "}");
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->x.values, general->x.values);
    EXPECT_FALSE(parsed->columnar);
  }
  for (const std::string body :
       {R"({"instances": [[[0, 51], [102]]]})", R"({"instances": [[[0, 51], [102, 2],]]})",
        R"({"instances": [[01, 2, 3, 4]]})", R"({"instances": [[1., 2, 3, 4]]})",
        R"({"instances": [[1, 2, 3, 1e999]]})", R"({"instances": [[1, 2, 3, "4"]]})",
        R"({"instances": [[1, 2, 3, 4]], "x": 1})", R"({"instances": [{"b64": "AAAA"}]})",
        R"({"instances": [[1, 2, 3]]})", R"({"instances": [[[[1, 2, 3, 4]]]]})",
        R"({"instances": [[[1, 2], 3, 4]]})", R"({"instances": [[]]})", R"({"instances": []})",
        R"({"instances": [[+1, 2, 3, 4]]})", R"({"instances": [[1, 2, 3, 4]]} x)",
        R"({"instances": [[NaN, 2, 3, 4]]})"}) {
    Array fast;
    EXPECT_FALSE(ParsePlainInstances(body, model, 255.0, 100, &fast)) << body;
    EXPECT_TRUE(fast.values.empty()) << body;
  }
  Array fast;
  EXPECT_FALSE(
      ParsePlainInstances(R"({"instances": [[1, 2, 3, 4], [1, 2, 3, 4]]})", model, 255.0, 1, &fast))
      << "more samples than allowed";
}

TEST(ServeRequest, BadInputIsNamed) {
  EXPECT_NE(ErrorOf("{\"instances\": [").find("invalid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("[1, 2]").find("JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf("{}").find("missing \"instances\""), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [], "inputs": []})").find("not both"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": []})").find("no instances"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": 3})").find("list of samples"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[1, 2, 3]]})").find("takes [2, 2]"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[[1, 2], [3]]]})").find("ragged"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[[1, 2], 3]]})").find("instance 0"), std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"instances": [[1, 2, 3, 4], ["a", 2, 3, 4]]})").find("instance 1: a string"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [[null, 2, 3, 4]]})").find("null"), std::string::npos);
  EXPECT_FALSE(ErrorOf(R"({"instances": [[1e999, 2, 3, 4]]})").empty());
  EXPECT_NE(ErrorOf(R"({"instances": [{"b64": "!!"}]})").find("not valid base64"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"instances": [{"b64": "aGVsbG8="}]})").find("instance 0"),
            std::string::npos);  // base64 of "hello": not an image
  EXPECT_NE(ErrorOf(std::string(100, '[') + std::string(100, ']')).find("deeper than 16"),
            std::string::npos);
}

TEST(ServeRequest, Base64AndTheAnswerShape) {
  std::string bytes;
  EXPECT_TRUE(DecodeBase64("aGVsbG8=", &bytes));
  EXPECT_EQ(bytes, "hello");
  EXPECT_TRUE(DecodeBase64("-_8", &bytes));  // URL-safe, no padding
  EXPECT_EQ(bytes, std::string("\xfb\xff", 2));
  EXPECT_FALSE(DecodeBase64("aGVs*G8=", &bytes));

  RunModel model = TwoByTwoModel();
  model.class_names = {"cat", "dog"};
  ComposedOutputs composed;
  composed.outputs = Array{{2, 2}, {0.25f, 0.75f, 0.5f, 0.5f}};
  composed.predictions = {1, 0};
  const Json answer = PredictResponse(model, composed, false);
  EXPECT_EQ(answer["predictions"], Json::parse("[[0.25, 0.75], [0.5, 0.5]]"));
  EXPECT_EQ(answer["classes"], Json::parse("[1, 0]"));
  EXPECT_EQ(answer["class_names"], Json::parse(R"(["dog", "cat"])"));
  model.problem = ProblemType::kRegression;
  const Json values = PredictResponse(model, composed, true);
  EXPECT_TRUE(values.contains("outputs"));
  EXPECT_FALSE(values.contains("classes"));
}

// Answers each sample with its first value; can hold its first call until released.
class FakeBackend : public PredictionBackend {
 public:
  Result<ComposedOutputs> Predict(const Array& x) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      calls_.push_back(x.rows());
      entered_.notify_all();
      released_.wait(lock, [&] { return !hold_; });
    }
    ComposedOutputs composed;
    composed.outputs.shape = {x.rows(), 1};
    for (int64_t row = 0; row < x.rows(); ++row) {
      composed.outputs.values.push_back(x.values[static_cast<size_t>(row * x.row_size())]);
      composed.predictions.push_back(row);
    }
    return composed;
  }
  const RunModel& model() const override { return model_; }
  std::string mode() const override { return "fake"; }

  void Hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = true;
  }
  void WaitForCalls(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    entered_.wait(lock, [&] { return calls_.size() >= count; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = false;
    released_.notify_all();
  }
  std::vector<int64_t> calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

 private:
  RunModel model_ = TwoByTwoModel();
  std::mutex mutex_;
  std::condition_variable entered_, released_;
  bool hold_ = false;
  std::vector<int64_t> calls_;
};

Array Samples(int64_t first, int64_t count) {
  Array x{{count, 1}, {}};
  for (int64_t i = 0; i < count; ++i) x.values.push_back(static_cast<float>(first + i));
  return x;
}

std::vector<float> Values(const BatchAnswer& answer) {
  return answer.result.ok() ? answer.result->outputs.values : std::vector<float>{};
}

// Waits (bounded) until `samples` wait in the queue.
bool WaitForQueued(const BatchQueue& queue, int64_t samples) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (queue.counters().queued_samples != samples) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(BatchQueue, QueuedRequestsShareACallAndALargeOneRunsInChunks) {
  FakeBackend backend;
  BatchQueue queue(&backend, BatchingOptions{4, std::chrono::milliseconds(0), 100});
  backend.Hold();
  BatchAnswer first, second, third, large;
  std::thread a([&] { first = queue.Predict(Samples(0, 1)); });
  backend.WaitForCalls(1);  // the backend is busy: the next ones queue up
  std::thread b([&] { second = queue.Predict(Samples(10, 2)); });
  ASSERT_TRUE(WaitForQueued(queue, 2));
  std::thread c([&] { third = queue.Predict(Samples(20, 2)); });
  ASSERT_TRUE(WaitForQueued(queue, 4));
  std::thread d([&] { large = queue.Predict(Samples(30, 10)); });
  ASSERT_TRUE(WaitForQueued(queue, 14));
  backend.Release();
  a.join();
  b.join();
  c.join();
  d.join();
  EXPECT_EQ(Values(first), (std::vector<float>{0}));
  EXPECT_EQ(Values(second), (std::vector<float>{10, 11}));
  EXPECT_EQ(Values(third), (std::vector<float>{20, 21}));
  EXPECT_EQ(Values(large), (std::vector<float>{30, 31, 32, 33, 34, 35, 36, 37, 38, 39}));
  EXPECT_EQ(large.result->predictions, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(backend.calls(), (std::vector<int64_t>{1, 4, 4, 4, 2}));  // b + c share one
  const BatchingCounters counters = queue.counters();
  EXPECT_EQ(counters.requests, 4);
  EXPECT_EQ(counters.batches, 3);
  EXPECT_EQ(counters.shared_batches, 1);
}

TEST(BatchQueue, AFullQueueRefusesAtOnce) {
  FakeBackend backend;
  BatchQueue queue(&backend, BatchingOptions{8, std::chrono::milliseconds(0), 3});
  backend.Hold();
  BatchAnswer busy, waiting;
  std::thread a([&] { busy = queue.Predict(Samples(0, 1)); });
  backend.WaitForCalls(1);
  std::thread b([&] { waiting = queue.Predict(Samples(1, 2)); });
  ASSERT_TRUE(WaitForQueued(queue, 2));
  const BatchAnswer refused = queue.Predict(Samples(5, 2));  // 2 + 2 > 3
  EXPECT_TRUE(refused.overloaded);
  EXPECT_NE(refused.result.status().message().find("waiting"), std::string::npos);
  backend.Release();
  a.join();
  b.join();
  EXPECT_EQ(Values(waiting), (std::vector<float>{1, 2}));
  EXPECT_EQ(queue.counters().refused, 1);
}

}  // namespace
}  // namespace cloudbook
