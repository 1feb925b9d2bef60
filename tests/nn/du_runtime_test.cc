// The agent's DU functions on a real project: train with progress, cancel, resume from the
// checkpoint, predict; unknown functions refused.
#include "agent/runtime/du_runtime.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "maker/maker.h"
#include "shared/nn/subnet_training.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;

class DuRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
    MakeOptions options;
    options.project_folder = project_.path();
    options.subnets = 3;
    options.train_limit = 600;
    options.test_limit = 200;
    auto made = MakeDeployableUnits(options);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }

  testing::ScratchDir project_;
};

TEST_F(DuRuntimeTest, TrainCancelResumePredict) {
  DuRuntime runtime(ProjectLayout(project_.path()), 1);
  std::atomic<bool> cancel{false};
  std::vector<int64_t> epochs_seen;
  DuInvocation train;
  train.function = "train";
  train.du = 1;
  train.cancel = &cancel;
  train.progress = [&](const WireArguments& progress) {
    if (progress.count("state")) {  // "started": data and model ready, no epoch yet
      EXPECT_EQ(std::get<std::string>(progress.at("state")), "started");
      return;
    }
    epochs_seen.push_back(std::get<int64_t>(progress.at("epoch")));
    if (epochs_seen.size() == 2) cancel = true;  // stop during the third epoch
  };
  auto first = runtime.Invoke(train);
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(IsCancelled(first.status())) << first.status().ToString();
  EXPECT_EQ(epochs_seen, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(runtime.States().at(0).state, "cancelled");

  cancel = false;
  epochs_seen.clear();
  train.progress = [&](const WireArguments& progress) {
    if (!progress.count("state")) epochs_seen.push_back(std::get<int64_t>(progress.at("epoch")));
  };
  auto second = runtime.Invoke(train);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(std::get<int64_t>(second->values.at("resumed_epochs")), 2);
  ASSERT_FALSE(epochs_seen.empty());
  EXPECT_EQ(epochs_seen.front(), 3) << "resumes after the last checkpointed epoch";
  EXPECT_TRUE(fs::exists(project_.Join("distributed/checkpoints/du_1/subnet_1.pt")));

  DuInvocation predict;
  predict.function = "predict";
  predict.du = 1;
  auto predictions = runtime.Invoke(predict);
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  ASSERT_EQ(predictions->tensors.size(), 1u);
  EXPECT_EQ(predictions->tensors[0].first, "subnet_1");
  EXPECT_EQ(predictions->tensors[0].second->shape, (std::vector<int64_t>{200, 7}));

  // A second runtime (a restarted agent) predicts from the checkpoint alone.
  DuRuntime restarted(ProjectLayout(project_.path()), 1);
  auto again = restarted.Invoke(predict);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->tensors[0].second->values, predictions->tensors[0].second->values);
}

TEST_F(DuRuntimeTest, UnknownFunctionsAndUntrainedPredictionsAreRefused) {
  DuRuntime runtime(ProjectLayout(project_.path()), 1);
  DuInvocation call;
  call.function = "system";
  call.du = 0;
  auto unknown = runtime.Invoke(call);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("valid: train, predict, status, cancel"),
            std::string::npos);

  call.function = "predict";
  call.du = 2;
  auto untrained = runtime.Invoke(call);
  ASSERT_FALSE(untrained.ok());
  EXPECT_NE(untrained.status().message().find("train it first"), std::string::npos)
      << untrained.status().ToString();

  call.du = 7;
  auto missing = runtime.Invoke(call);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("DU 7"), std::string::npos);
}

}  // namespace
}  // namespace cloudbook
