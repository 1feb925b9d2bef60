// The agent's DU functions on a real project: train with progress, cancel, resume from the
// checkpoint, predict; unknown functions refused; a DU's result independent of its placement.
#include "agent/runtime/du_runtime.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <thread>

#include "maker/maker.h"
#include "shared/nn/checkpoint.h"
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

// Issue 15 item 5: a DU's result depends only on its DU file and data. Trained alone on an
// agent lending two threads, beside another DU training in the same agent, and stopped after
// epoch 2 on a one-thread agent then resumed beside another DU on a two-thread agent, its
// predictions (a function of every final weight) and its losses are the same bits. Before the
// fix the agent set the process-wide thread count to lent threads / trainings running.
TEST_F(DuRuntimeTest, ResultsDoNotDependOnPlacementNeighboursOrResumes) {
  const ProjectLayout layout(project_.path());
  auto train = [](DuRuntime& runtime, int du, int stop_after_epoch = 0) {
    std::atomic<bool> cancel{false};
    DuInvocation call;
    call.function = "train";
    call.du = du;
    call.cancel = &cancel;
    call.progress = [&](const WireArguments& progress) {
      if (!progress.count("state") && stop_after_epoch > 0 &&
          std::get<int64_t>(progress.at("epoch")) == stop_after_epoch) {
        cancel = true;
      }
    };
    return runtime.Invoke(call).status();
  };
  auto train_beside = [&](DuRuntime& runtime, int du, int neighbour) {
    Status neighbour_status;
    std::thread other([&] { neighbour_status = train(runtime, neighbour); });
    const Status status = train(runtime, du);
    other.join();
    EXPECT_TRUE(neighbour_status.ok()) << neighbour_status.ToString();
    return status;
  };
  // Predictions and the per-epoch training losses of DU 1's subnet, from its checkpoint.
  struct Outcome {
    std::vector<float> predictions;
    std::vector<double> losses;
  };
  auto outcome = [&](DuRuntime& runtime) {
    Outcome result;
    DuInvocation predict;
    predict.function = "predict";
    predict.du = 1;
    auto reply = runtime.Invoke(predict);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (reply.ok()) result.predictions = reply->tensors.at(0).second->values;
    auto info = ReadCheckpointInfo(project_.Join("distributed/checkpoints/du_1/subnet_1.pt"));
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    if (info.ok()) {
      for (const EpochProgress& epoch : info->history) result.losses.push_back(epoch.train_loss);
    }
    return result;
  };
  auto forget_checkpoints = [&] { fs::remove_all(project_.Join("distributed/checkpoints")); };

  DuRuntime alone_agent(layout, 2);
  ASSERT_TRUE(train(alone_agent, 1).ok());
  const Outcome alone = outcome(alone_agent);
  ASSERT_FALSE(alone.predictions.empty());
  forget_checkpoints();

  DuRuntime shared_agent(layout, 2);
  ASSERT_TRUE(train_beside(shared_agent, 1, 2).ok());
  const Outcome beside = outcome(shared_agent);
  forget_checkpoints();

  DuRuntime first_agent(layout, 1);
  EXPECT_TRUE(IsCancelled(train(first_agent, 1, /*stop_after_epoch=*/2)));
  DuRuntime second_agent(layout, 2);
  ASSERT_TRUE(train_beside(second_agent, 1, 2).ok());
  const Outcome resumed = outcome(second_agent);

  EXPECT_EQ(beside.losses, alone.losses) << "beside another DU";
  EXPECT_TRUE(beside.predictions == alone.predictions) << "beside another DU";
  EXPECT_EQ(resumed.losses, alone.losses) << "moved and resumed after epoch 2";
  EXPECT_TRUE(resumed.predictions == alone.predictions) << "moved and resumed after epoch 2";
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
