// Checkpoints: a training stopped after any epoch and resumed ends bitwise where an
// uninterrupted run ends (weights, BatchNorm statistics, optimizer and dropout generator
// restored); a torn, garbage or foreign checkpoint is ignored; a newer owner's checkpoint is
// never loaded nor overwritten by a stale one.
#include "shared/nn/checkpoint.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/filesystem.hpp>

#include "maker/program_parser.h"
#include "shared/atomic_file.h"
#include "shared/nn/subnet_training.h"
#include "shared/seeded_random.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ReadFileOrDie;
using testing::ScratchDir;
using testing::WriteFile;

// Dense -> dropout -> batchnorm -> softmax: every piece of state a resume must restore.
ModelSpec Model(int64_t units) {
  const std::string text = R"(name: t
problem: multiclass
data:
  train:
    x: {format: idx, path: x.idx}
    y: {format: idx, path: y.idx}
vars:
  _NEURON_1: )" + std::to_string(units) +
                           R"(
  _NEURON_9: 3
model:
  input: [6]
  layers:
    - dense: {units: _NEURON_1, activation: relu}
    - dropout: {rate: 0.3}
    - batchnorm
    - dense: {units: _NEURON_9, activation: softmax}
train:
  loss: sparse_categorical_crossentropy
  epochs: 1
)";
  auto program = ParseProgramText(text, "checkpoint_test.yaml");
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  ModelSpec model = program->model;
  for (auto& layer : model.layers) {
    for (auto& [key, numbers] : layer.numbers) {
      for (auto& number : numbers) number.var.clear();  // the parser keeps the value too
    }
  }
  return model;
}

// Three noisy, separable blobs of 6-D points (as in net_test.cc).
LabeledArrays Blobs(int64_t samples, uint64_t seed) {
  SeededRandom random(seed);
  LabeledArrays blobs;
  blobs.x.shape = {samples, 6};
  blobs.y.shape = {samples};
  for (int64_t i = 0; i < samples; ++i) {
    const int64_t label = i % 3;
    blobs.labels.push_back(label);
    blobs.y.values.push_back(static_cast<float>(label));
    for (int64_t v = 0; v < 6; ++v) {
      const double noise = static_cast<double>(random.Below(1000)) / 1000.0;
      blobs.x.values.push_back(static_cast<float>((v % 3 == label ? 1.0 : 0.0) + 0.6 * noise));
    }
  }
  return blobs;
}

ProblemData Data(uint64_t seed = 1) {
  ProblemData data;
  data.train = Blobs(240, seed);
  data.validation = Blobs(60, seed + 100);
  data.test = data.train;
  return data;
}

SubnetSpec Subnet(int64_t units, int64_t epochs, const std::string& optimizer = "adam") {
  SubnetSpec subnet;
  subnet.index = 3;
  subnet.model = Model(units);
  subnet.widths = {{"_NEURON_1", units}};
  subnet.epochs = epochs;
  subnet.seed = 7;
  subnet.train.optimizer = optimizer;
  subnet.train.momentum = 0.9;
  subnet.train.batch_size = 16;
  subnet.train.learning_rate = 0.01;
  subnet.train.loss = "sparse_categorical_crossentropy";
  subnet.classes = {0, 1, 2};
  return subnet;
}

uint64_t ReadLittleEndian64(const std::string& bytes, size_t offset) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

void WriteLittleEndian64(std::string& bytes, size_t offset, uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes[offset + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override { SetTrainingThreads(1); }

  std::string Path() const { return CheckpointPath(dir_.path(), 3); }

  TrainingOptions Options(int64_t owner_version = 0) {
    TrainingOptions options;
    options.checkpoint_dir = dir_.path();
    options.owner_version = owner_version;
    options.cancel = &cancel_;
    return options;
  }

  // Trains with checkpoints and cancels from the epoch callback once `epoch` is done.
  void TrainUntil(const SubnetSpec& subnet, const ProblemData& data, int64_t epoch,
                  int64_t owner_version = 0) {
    TrainingOptions options = Options(owner_version);
    options.on_epoch = [this, epoch](const EpochProgress& p) {
      if (p.epoch == epoch) cancel_ = true;
    };
    auto stopped = TrainAndPredict(subnet, data, data.test.x, options);
    ASSERT_FALSE(stopped.ok());
    ASSERT_TRUE(IsCancelled(stopped.status())) << stopped.status().ToString();
    cancel_ = false;
    auto info = ReadCheckpointInfo(Path());
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    ASSERT_EQ(info->epoch, epoch);
  }

  ScratchDir dir_;
  std::atomic<bool> cancel_{false};
};

void ExpectSameTraining(const SubnetOutcome& actual, const SubnetOutcome& expected) {
  EXPECT_EQ(actual.test_outputs.values, expected.test_outputs.values) << "bitwise equal weights";
  EXPECT_EQ(actual.validation_metrics, expected.validation_metrics);
  EXPECT_EQ(actual.test_metrics, expected.test_metrics);
  ASSERT_EQ(actual.history.size(), expected.history.size());
  for (size_t i = 0; i < actual.history.size(); ++i) {
    EXPECT_EQ(actual.history[i].epoch, expected.history[i].epoch);
    EXPECT_EQ(actual.history[i].train_loss, expected.history[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(actual.history[i].validation_loss, expected.history[i].validation_loss);
  }
}

TEST_F(Checkpoint, CancelledAfterEpochTwoResumesBitwiseLikeAnUninterruptedRun) {
  const ProblemData data = Data();
  for (const std::string optimizer : {"adam", "sgd"}) {
    SCOPED_TRACE(optimizer);
    const SubnetSpec subnet = Subnet(16, 4, optimizer);
    auto uninterrupted = TrainAndPredict(subnet, data, data.test.x, {});
    ASSERT_TRUE(uninterrupted.ok()) << uninterrupted.status().ToString();
    EXPECT_GT(uninterrupted->test_metrics.at("accuracy"), 0.9);

    TrainUntil(subnet, data, 2);
    EXPECT_FALSE(IsSuperseded(Status::Internal("cancelled: x")));
    auto info = ReadCheckpointInfo(Path());
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->history.size(), 2u);
    EXPECT_EQ(info->history[1].train_loss, uninterrupted->history[1].train_loss);
    EXPECT_EQ(info->threads, 1);

    TrainingOptions options = Options();
    std::vector<int64_t> reported;
    options.on_epoch = [&reported](const EpochProgress& p) { reported.push_back(p.epoch); };
    auto resumed = TrainAndPredict(subnet, data, data.test.x, options);
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    EXPECT_EQ(resumed->resumed_from_epoch, 2);
    EXPECT_EQ(reported, (std::vector<int64_t>{3, 4}));
    ExpectSameTraining(*resumed, *uninterrupted);
    EXPECT_EQ(ReadCheckpointInfo(Path())->epoch, 4);
    boost::filesystem::remove(Path());
  }
}

TEST_F(Checkpoint, CancelBeforeTheFirstBatchWritesNothing) {
  const ProblemData data = Data();
  const SubnetSpec subnet = Subnet(16, 4);
  cancel_ = true;
  auto stopped = TrainAndPredict(subnet, data, data.test.x, Options());
  ASSERT_FALSE(stopped.ok());
  EXPECT_TRUE(IsCancelled(stopped.status()));
  EXPECT_TRUE(IsCancelled(stopped.status().WithContext("DU 1")));
  EXPECT_FALSE(FileExists(Path())) << "no half epoch is saved";
  cancel_ = false;

  TrainUntil(subnet, data, 2);
  const std::string saved = ReadFileOrDie(Path());
  cancel_ = true;
  auto again = TrainAndPredict(subnet, data, data.test.x, Options());
  EXPECT_TRUE(IsCancelled(again.status())) << again.status().ToString();
  EXPECT_EQ(ReadFileOrDie(Path()), saved) << "the last complete epoch's checkpoint stays";
}

TEST_F(Checkpoint, TornOrGarbageCheckpointIsIgnoredAndTrainingStartsFromZero) {
  const ProblemData data = Data();
  const SubnetSpec subnet = Subnet(16, 4);
  auto uninterrupted = TrainAndPredict(subnet, data, data.test.x, {});
  ASSERT_TRUE(uninterrupted.ok());
  TrainUntil(subnet, data, 2);
  const std::string good = ReadFileOrDie(Path());

  std::string flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  SeededRandom random(5);
  std::string noise;
  for (int i = 0; i < 5000; ++i) noise.push_back(static_cast<char>(random.Below(256)));
  // Header and metadata intact, checksum right, payload not a torch archive: libtorch's own
  // error must be caught too.
  const uint64_t metadata_bytes = ReadLittleEndian64(good, 16);
  std::string foreign_payload = good.substr(0, 40 + metadata_bytes) + noise;
  WriteLittleEndian64(foreign_payload, 24, noise.size());
  WriteLittleEndian64(foreign_payload, 32,
                      Hash64(foreign_payload.data() + 40, foreign_payload.size() - 40));
  const std::vector<std::string> broken = {good.substr(0, good.size() / 2),
                                           flipped,
                                           good.substr(0, 20),
                                           good.substr(0, 40) + noise,
                                           noise,
                                           foreign_payload,
                                           ""};
  for (size_t i = 0; i < broken.size(); ++i) {
    SCOPED_TRACE("broken file " + std::to_string(i));
    WriteFile(Path(), broken[i]);
    auto outcome = TrainAndPredict(subnet, data, data.test.x, Options());
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(outcome->resumed_from_epoch, 0);
    ExpectSameTraining(*outcome, *uninterrupted);
    EXPECT_EQ(ReadCheckpointInfo(Path())->epoch, 4) << "replaced by a good checkpoint";
  }
}

TEST_F(Checkpoint, ChangedSpecOrDataIgnoresTheOldCheckpoint) {
  const ProblemData data = Data();
  TrainUntil(Subnet(16, 4), data, 2);

  const SubnetSpec narrower = Subnet(12, 4);
  auto expected = TrainAndPredict(narrower, data, data.test.x, {});
  ASSERT_TRUE(expected.ok());
  auto outcome = TrainAndPredict(narrower, data, data.test.x, Options());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->resumed_from_epoch, 0);
  ExpectSameTraining(*outcome, *expected);
  EXPECT_EQ(ReadCheckpointInfo(Path())->spec_fingerprint,
            SpecFingerprint(narrower, ProblemType::kMulticlass));

  // Same spec, other training data: resuming would mix two trainings.
  boost::filesystem::remove(Path());
  TrainUntil(narrower, data, 2);
  const ProblemData other = Data(2);
  auto retrained = TrainAndPredict(narrower, other, other.test.x, Options());
  ASSERT_TRUE(retrained.ok());
  EXPECT_EQ(retrained->resumed_from_epoch, 0);
}

TEST_F(Checkpoint, FinishedCheckpointSkipsTrainingAndPredictsTheSame) {
  const ProblemData data = Data();
  const SubnetSpec subnet = Subnet(16, 4);
  auto first = TrainAndPredict(subnet, data, data.test.x, Options());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->resumed_from_epoch, 0);

  TrainingOptions options = Options();
  int reported = 0;
  options.on_epoch = [&reported](const EpochProgress&) { ++reported; };
  auto second = TrainAndPredict(subnet, data, data.test.x, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->resumed_from_epoch, 4);
  EXPECT_EQ(reported, 0) << "nothing trained";
  ExpectSameTraining(*second, *first);

  // resume = false trains again from zero, to the same result.
  options.resume = false;
  auto fresh = TrainAndPredict(subnet, data, data.test.x, options);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->resumed_from_epoch, 0);
  EXPECT_EQ(reported, 4);
  ExpectSameTraining(*fresh, *first);

  // Atomic writes leave no temporary files behind.
  std::vector<std::string> names;
  for (const auto& entry : boost::filesystem::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"subnet_3.pt"}));
}

TEST_F(Checkpoint, MoreEpochsContinueAFinishedShorterRun) {
  const ProblemData data = Data();
  auto shorter = TrainAndPredict(Subnet(16, 2), data, data.test.x, Options());
  ASSERT_TRUE(shorter.ok());
  auto expected = TrainAndPredict(Subnet(16, 4), data, data.test.x, {});
  ASSERT_TRUE(expected.ok());
  auto longer = TrainAndPredict(Subnet(16, 4), data, data.test.x, Options());
  ASSERT_TRUE(longer.ok()) << longer.status().ToString();
  EXPECT_EQ(longer->resumed_from_epoch, 2);
  EXPECT_EQ(longer->history.front().epochs, 4);
  ExpectSameTraining(*longer, *expected);

  // Fewer epochs than the checkpoint holds cannot be undone: start from zero.
  auto fewer = TrainAndPredict(Subnet(16, 3), data, data.test.x, Options());
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(fewer->resumed_from_epoch, 0);
}

TEST_F(Checkpoint, NewerOwnersCheckpointIsNeitherLoadedNorOverwritten) {
  const ProblemData data = Data();
  const SubnetSpec subnet = Subnet(16, 4);
  TrainUntil(subnet, data, 2, /*owner_version=*/5);
  const std::string newer = ReadFileOrDie(Path());
  EXPECT_EQ(ReadCheckpointInfo(Path())->owner_version, 5);

  // A stale owner (version 3) neither resumes from it nor trains over it.
  TrainingOptions stale = Options(3);
  int reported = 0;
  stale.on_epoch = [&reported](const EpochProgress&) { ++reported; };
  auto refused = TrainAndPredict(subnet, data, data.test.x, stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsSuperseded(refused.status())) << refused.status().ToString();
  EXPECT_FALSE(IsCancelled(refused.status()));
  EXPECT_EQ(reported, 0);
  EXPECT_EQ(ReadFileOrDie(Path()), newer);

  // The newer owner appears while the stale one trains: its next save is refused.
  boost::filesystem::remove(Path());
  stale.on_epoch = [this, &newer](const EpochProgress& p) {
    if (p.epoch == 1) WriteFile(Path(), newer);
  };
  auto overtaken = TrainAndPredict(subnet, data, data.test.x, stale);
  ASSERT_FALSE(overtaken.ok());
  EXPECT_TRUE(IsSuperseded(overtaken.status())) << overtaken.status().ToString();
  EXPECT_EQ(ReadFileOrDie(Path()), newer);

  // An owner with a version at least as high resumes and takes the checkpoint over.
  auto taken = TrainAndPredict(subnet, data, data.test.x, Options(7));
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->resumed_from_epoch, 2);
  EXPECT_EQ(ReadCheckpointInfo(Path())->owner_version, 7);
}

TEST_F(Checkpoint, PredictFromCheckpointMatchesTheOutcome) {
  const ProblemData data = Data();
  const SubnetSpec subnet = Subnet(16, 4);
  EXPECT_EQ(PredictFromCheckpoint(subnet, dir_.path(), data.test.x, ProblemType::kMulticlass)
                .status()
                .code(),
            Status::Code::kNotFound);
  TrainUntil(subnet, data, 2);
  auto unfinished =
      PredictFromCheckpoint(subnet, dir_.path(), data.test.x, ProblemType::kMulticlass);
  EXPECT_EQ(unfinished.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(unfinished.status().message().find("not finished"), std::string::npos);

  auto outcome = TrainAndPredict(subnet, data, data.test.x, Options());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  auto predicted =
      PredictFromCheckpoint(subnet, dir_.path(), data.test.x, ProblemType::kMulticlass);
  ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
  EXPECT_EQ(predicted->shape, outcome->test_outputs.shape);
  EXPECT_EQ(predicted->values, outcome->test_outputs.values);

  // The class form: train, then predict when asked.
  auto trainer = SubnetTrainer::Create(subnet, ProblemType::kMulticlass);
  ASSERT_TRUE(trainer.ok());
  ASSERT_TRUE((*trainer)->Train(data, Options()).ok());
  EXPECT_EQ((*trainer)->epochs_done(), 4);
  EXPECT_EQ((*trainer)->Predict(data.test.x)->values, outcome->test_outputs.values);

  auto other =
      PredictFromCheckpoint(Subnet(12, 4), dir_.path(), data.test.x, ProblemType::kMulticlass);
  EXPECT_EQ(other.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace cloudbook
