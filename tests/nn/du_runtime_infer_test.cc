// The DU function `infer` (agent/runtime/du_inference.h) on a finished run's model: any DU's
// subnets applied to given samples equal ModelPredictor's; bad run names, absent models, wrong
// shapes and oversized inputs are refused with clear errors; and an `infer` does not wait
// behind a training holding every lent core.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/filesystem.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/runtime/du_runtime.h"
#include "maker/local_runner.h"
#include "maker/maker.h"
#include "shared/data/project_data.h"
#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/subnet_spec.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

class DuRuntimeInferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::SetUpFashionMlpProject(project_.path())) GTEST_SKIP() << "no Fashion-MNIST";
    MakeOptions make;
    make.project_folder = project_.path();
    make.subnets = 3;
    make.train_limit = 600;
    make.test_limit = 200;
    auto made = MakeDeployableUnits(make);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    LocalRunOptions run;
    run.project_folder = project_.path();
    run.run_name = "kept";
    run.threads = 1;
    auto report = RunLocally(run);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto model = ReadRunModel(SharedFolderLayout(project_.Join("distributed")), "kept");
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = *model;
    auto data =
        LoadProjectData(ProjectLayout(project_.path()), model_.program(), model_.input_shape);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    // The model's input: the test set's first 16 samples, already scaled by the data reader.
    x_ = std::make_shared<const Array>(data->test.x.SliceRows(0, 16));
  }

  Result<DuReply> Infer(DuRuntime& runtime, int du, const std::string& run,
                        std::shared_ptr<const Array> x) {
    DuInvocation call;
    call.function = "infer";
    call.du = du;
    call.arguments = {{"run", run}};
    if (x) call.tensors = {{"x", std::move(x)}};
    return runtime.Invoke(call);
  }

  testing::ScratchDir project_;
  RunModel model_;
  std::shared_ptr<const Array> x_;
};

TEST_F(DuRuntimeInferTest, EveryDuOfTheModelEqualsThePredictorsSubnets) {
  DuRuntime runtime(ProjectLayout(project_.path()), 1);
  auto predictor = ModelPredictor::Load(model_);
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  auto expected = (*predictor)->PredictSubnets(*x_);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::map<int, Array> outputs;
  for (const DuSpec& unit : model_.dus) {  // one agent answers for every DU
    auto reply = Infer(runtime, unit.index, "kept", x_);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->tensors.size(), unit.subnets.size());
    for (size_t i = 0; i < unit.subnets.size(); ++i) {
      EXPECT_EQ(reply->tensors[i].first, "subnet_" + std::to_string(unit.subnets[i].index));
      outputs[unit.subnets[i].index] = *reply->tensors[i].second;
    }
  }
  ASSERT_EQ(outputs.size(), expected->size());
  for (const auto& [subnet, array] : *expected) {
    EXPECT_EQ(outputs[subnet].shape, array.shape) << "subnet " << subnet;
    EXPECT_EQ(outputs[subnet].values, array.values) << "subnet " << subnet;
  }
  // Composed, they are the model's answer.
  auto composed = ComposeModelOutputs(model_, outputs);
  auto direct = (*predictor)->Predict(*x_);
  ASSERT_TRUE(composed.ok() && direct.ok());
  EXPECT_EQ(composed->predictions, direct->predictions);
  EXPECT_EQ(composed->outputs.values, direct->outputs.values);

  // Flattened samples are taken too; a second call is served from the cache.
  auto flat = std::make_shared<Array>(*x_);
  flat->shape = {16, 28 * 28};
  auto again = Infer(runtime, 1, "kept", flat);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->tensors[0].second->values, outputs[model_.dus[1].subnets[0].index].values);
}

TEST_F(DuRuntimeInferTest, BadRunsShapesAndSizesAreRefusedClearly) {
  DuRuntime runtime(ProjectLayout(project_.path()), 1);
  auto expect_error = [&](Result<DuReply> reply, Status::Code code, const std::string& words) {
    ASSERT_FALSE(reply.ok()) << words;
    EXPECT_EQ(reply.status().code(), code) << reply.status().ToString();
    EXPECT_NE(reply.status().message().find(words), std::string::npos) << reply.status().message();
  };
  expect_error(Infer(runtime, 1, "never", x_), Status::Code::kNotFound, "never");
  expect_error(Infer(runtime, 1, "../kept", x_), Status::Code::kInvalidArgument, "../kept");
  expect_error(Infer(runtime, 1, "", x_), Status::Code::kInvalidArgument, "run");
  expect_error(Infer(runtime, 1, "kept", nullptr), Status::Code::kInvalidArgument, "'x'");
  expect_error(Infer(runtime, 7, "kept", x_), Status::Code::kInvalidArgument, "no DU 7");
  expect_error(Infer(runtime, 1, "kept",
                     std::make_shared<const Array>(Array{{2, 27}, std::vector<float>(54, 0.f)})),
               Status::Code::kInvalidArgument, "[2, 28, 28]");
  expect_error(Infer(runtime, 1, "kept",
                     std::make_shared<const Array>(
                         Array{{kMaxBatchSize + 1, 1},
                               std::vector<float>(static_cast<size_t>(kMaxBatchSize + 1), 0.f)})),
               Status::Code::kInvalidArgument, "at most");
  expect_error(Infer(runtime, 1, "kept",
                     std::make_shared<const Array>(Array{{4, 28, 28}, std::vector<float>(5)})),
               Status::Code::kInvalidArgument, "do not fill");
  expect_error(Infer(runtime, 1, "kept", std::make_shared<const Array>(Array{{0, 784}, {}})),
               Status::Code::kInvalidArgument, "no samples");

  // A model without its model.json is no model (any more).
  ASSERT_TRUE(Infer(runtime, 2, "kept", x_).ok());
  boost::filesystem::remove(SharedFolderLayout(project_.Join("distributed")).model_file("kept"));
  expect_error(Infer(runtime, 0, "kept", x_), Status::Code::kNotFound, "kept");
}

TEST_F(DuRuntimeInferTest, InferDoesNotWaitBehindATrainingOnEveryLentCore) {
  DuRuntime runtime(ProjectLayout(project_.path()), 1);  // one lent core: the training's
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false, inferred = false, waited_out = false;
  std::atomic<bool> cancel{false};
  std::thread training([&] {
    DuInvocation train;
    train.function = "train";
    train.du = 2;
    train.arguments = {{"resume", false}};
    train.cancel = &cancel;
    // The first progress comes with the lent core held: keep holding it until infer answered.
    train.progress = [&](const WireArguments&) {
      std::unique_lock<std::mutex> lock(mutex);
      if (started) return;
      started = true;
      changed.notify_all();
      waited_out = !changed.wait_for(lock, std::chrono::seconds(60), [&] { return inferred; });
    };
    (void)runtime.Invoke(train);
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(120), [&] { return started; }));
  }
  auto reply = Infer(runtime, 1, "kept", x_);
  {
    std::lock_guard<std::mutex> lock(mutex);
    inferred = true;
    changed.notify_all();
  }
  cancel = true;
  training.join();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_FALSE(waited_out) << "infer answered only after the training gave its core back";
}

}  // namespace
}  // namespace cloudbook
