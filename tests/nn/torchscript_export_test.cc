// A finished run's model exported as one TorchScript file (shared/nn/torchscript_export.h):
// loaded with torch::jit::load in C++ and with torch.jit.load in Debian's python3-torch, it
// answers raw test samples as ModelPredictor answers the scaled ones, for every composition
// rule (multiclass MLP and CNN, binary, regression).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <string>

#include "maker/local_runner.h"
#include "maker/maker.h"
#include "shared/data/project_data.h"
#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/nn/torchscript_export.h"
#include "shared/project_layout.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;

// Largest difference accepted between the exported module and the predictor (float32 logs
// and exps may round differently in the last bit).
constexpr double kTolerance = 1e-6;

// Loads the exported file in /usr/bin/python3, runs forward and predict_classes on the raw
// samples in `dir`/raw.f32 and writes outputs.f32 (and classes.i64).
constexpr char kPythonCheck[] = R"(import sys, torch
d, rows, classification = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
m = torch.jit.load(d + '/model.pt')
raw = torch.frombuffer(bytearray(open(d + '/raw.f32', 'rb').read()), dtype=torch.float32)
x = raw.reshape([rows] + list(m.input_shape))
with torch.no_grad():
    open(d + '/outputs.f32', 'wb').write(m(x).contiguous().numpy().tobytes())
    if classification:
        open(d + '/classes.i64', 'wb').write(m.predict_classes(x).numpy().tobytes())
print(m.composition, m.run, m.project, list(m.class_ids), m.input_scale)
)";

class TorchScriptExportTest : public ::testing::Test {
 protected:
  // configs/<config>'s program with Fashion-MNIST linked in, its DUs made and trained locally
  // on a slice; false (test skipped) without the data set.
  bool Train(const std::string& config, int64_t train_limit, int64_t test_limit) {
    project_ = scratch_.Join(config);
    if (!fs::exists(testing::FashionMnistDir() + "/train-images-idx3-ubyte.gz")) return false;
    const std::string source = std::string(CLOUDBOOK_SOURCE_DIR) + "/configs/" + config;
    fs::create_directories(project_ + "/original");
    fs::create_directories(project_ + "/distributed/working_dir");
    fs::copy_file(source + "/original/" + config + ".yaml",
                  project_ + "/original/" + config + ".yaml");
    fs::create_directory_symlink(testing::FashionMnistDir(),
                                 project_ + "/distributed/working_dir/fashion-mnist");
    if (fs::exists(source + "/prepare_data.py")) {  // binary: two classes relabelled 0/1
      const auto prepared =
          testing::RunShellMerged("timeout 120 /usr/bin/python3 " + source +
                                  "/prepare_data.py --source " + testing::FashionMnistDir() +
                                  " --out " + project_ + "/distributed/working_dir/fashion-binary");
      EXPECT_EQ(prepared.exit_code, 0) << prepared.out;
    }
    MakeOptions make;
    make.project_folder = project_;
    make.subnets = 3;
    make.train_limit = train_limit;
    make.test_limit = test_limit;
    auto made = MakeDeployableUnits(make);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    LocalRunOptions options;
    options.project_folder = project_;
    options.run_name = "trained";
    options.threads = 2;
    auto report = RunLocally(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return true;
  }

  // Exports the run's model, then checks the file from C++ and from Python against the
  // predictor on the whole test slice.
  void ExportAndCompare(const std::string& composition) {
    const SharedFolderLayout shared(project_ + "/distributed");
    auto model = OpenRunModel(shared, "trained");
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_EQ(model->composition, composition);
    const std::string file = scratch_.Join("model.pt");
    auto exported = ExportTorchScript(*model, file);
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    EXPECT_EQ(exported->path, file);
    EXPECT_EQ(exported->bytes, static_cast<int64_t>(fs::file_size(file)));
    EXPECT_EQ(exported->subnets, static_cast<int>(model->weights.size()));
    EXPECT_FALSE(fs::exists(file + ".partial"));

    // The predictor on the scaled test samples (as the run scored them).
    auto data = LoadProjectData(ProjectLayout(project_), model->program(), model->input_shape);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto predictor = ModelPredictor::Load(*model);
    ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
    auto expected = (*predictor)->Predict(data->test.x);
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    const torch::Tensor reference =
        torch::from_blob(expected->outputs.values.data(), expected->outputs.shape, torch::kFloat)
            .clone();

    // The module takes raw samples: the IDX bytes, 0..255.
    const double scale = ModelInputScale(*model);
    const int64_t rows = data->test.x.rows();
    std::vector<int64_t> shape = {rows};
    shape.insert(shape.end(), model->input_shape.begin(), model->input_shape.end());
    const torch::Tensor raw =
        (torch::from_blob(data->test.x.values.data(), shape, torch::kFloat).to(torch::kDouble) *
         scale)
            .round()
            .to(torch::kFloat);
    const bool classification = composition != "concatenation";

    // C++.
    torch::jit::Module loaded = torch::jit::load(file);
    torch::NoGradGuard no_grad;
    const torch::Tensor outputs = loaded.forward({raw}).toTensor();
    ASSERT_EQ(outputs.sizes(), reference.sizes());
    EXPECT_LE((outputs - reference).abs().max().item<double>(), kTolerance);
    EXPECT_EQ(loaded.attr("composition").toStringRef(), composition);
    EXPECT_EQ(loaded.attr("run").toStringRef(), "trained");
    EXPECT_EQ(loaded.attr("input_scale").toDouble(), scale);
    EXPECT_EQ(loaded.attr("input_shape").toIntVector(), model->input_shape);
    if (classification) {
      const torch::Tensor classes = loaded.get_method("predict_classes")({raw}).toTensor();
      EXPECT_EQ(std::vector<int64_t>(classes.data_ptr<int64_t>(),
                                     classes.data_ptr<int64_t>() + classes.numel()),
                expected->predictions);
      EXPECT_EQ(loaded.attr("class_ids").toIntVector().size(),
                static_cast<size_t>(model->outputs()));
    }
    // Samples flattened are taken too; another shape is refused with the expected one.
    const torch::Tensor flat = loaded.forward({raw.reshape({rows, -1})}).toTensor();
    EXPECT_TRUE(torch::equal(flat, outputs));
    try {
      loaded.forward({torch::zeros({2, 5})});
      ADD_FAILURE() << "a [2, 5] input was accepted";
    } catch (const std::exception& error) {  // torch::jit::JITException
      EXPECT_NE(std::string(error.what()).find("the model takes [samples] + [28, 28]"),
                std::string::npos)
          << error.what();
    }

    // Python (Debian's python3-torch), same raw samples.
    fs::create_directories(scratch_.Join("py"));
    fs::copy_file(file, scratch_.Join("py/model.pt"));
    const torch::Tensor contiguous = raw.contiguous();
    testing::WriteFile(scratch_.Join("py/raw.f32"),
                       std::string(static_cast<const char*>(contiguous.data_ptr()),
                                   static_cast<size_t>(contiguous.numel()) * sizeof(float)));
    testing::WriteFile(scratch_.Join("py/check.py"), kPythonCheck);
    const auto run = testing::RunShellMerged(
        "timeout 120 /usr/bin/python3 " + scratch_.Join("py/check.py") + " " + scratch_.Join("py") +
        " " + std::to_string(rows) + " " + (classification ? "1" : "0"));
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NE(run.out.find(composition + " trained"), std::string::npos) << run.out;
    std::string bytes = testing::ReadFileOrDie(scratch_.Join("py/outputs.f32"));
    ASSERT_EQ(bytes.size(), static_cast<size_t>(reference.numel()) * sizeof(float));
    const torch::Tensor python =
        torch::from_blob(bytes.data(), reference.sizes(), torch::kFloat).clone();
    EXPECT_LE((python - reference).abs().max().item<double>(), kTolerance);
    if (classification) {
      bytes = testing::ReadFileOrDie(scratch_.Join("py/classes.i64"));
      ASSERT_EQ(bytes.size(), expected->predictions.size() * sizeof(int64_t));
      const auto* ids = reinterpret_cast<const int64_t*>(bytes.data());
      EXPECT_EQ(std::vector<int64_t>(ids, ids + expected->predictions.size()),
                expected->predictions);
    }
  }

  testing::ScratchDir scratch_;
  std::string project_;
};

TEST_F(TorchScriptExportTest, MulticlassMlpAnswersAsThePredictorInCppAndPython) {
  if (!Train("fashion_mlp", 1200, 300)) GTEST_SKIP() << "no Fashion-MNIST";
  ExportAndCompare("product");
}

// Conv, pools, a reshape that names the batch size: the traced graph takes any batch.
TEST_F(TorchScriptExportTest, MulticlassCnnAnswersAsThePredictorInCppAndPython) {
  if (!Train("fashion_cnn", 400, 150)) GTEST_SKIP() << "no Fashion-MNIST";
  ExportAndCompare("product");
}

TEST_F(TorchScriptExportTest, BinaryBestMarginAnswersAsThePredictorInCppAndPython) {
  if (!Train("fashion_binary", 600, 200)) GTEST_SKIP() << "no Fashion-MNIST";
  ExportAndCompare("best_margin");
}

TEST_F(TorchScriptExportTest, RegressionConcatenationAnswersAsThePredictorInCppAndPython) {
  if (!Train("fashion_autoencoder", 400, 100)) GTEST_SKIP() << "no Fashion-MNIST";
  ExportAndCompare("concatenation");
}

TEST_F(TorchScriptExportTest, AnUnwritableDestinationIsAnIoErrorAndLeavesNothing) {
  if (!Train("fashion_mlp", 300, 50)) GTEST_SKIP() << "no Fashion-MNIST";
  auto model = OpenRunModel(SharedFolderLayout(project_ + "/distributed"), "");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::string file = scratch_.Join("no/such/folder/model.pt");
  const Status refused = ExportTorchScript(*model, file).status();
  EXPECT_EQ(refused.code(), Status::Code::kIoError) << refused.ToString();
  EXPECT_NE(refused.message().find(file), std::string::npos) << refused.message();
  EXPECT_FALSE(fs::exists(file + ".partial"));
}

// The command: a summary on success, exit 3 naming the run when it has no model.
TEST_F(TorchScriptExportTest, TheMakersExportCommandWritesTheFileAndSaysWhat) {
  if (!Train("fashion_mlp", 300, 50)) GTEST_SKIP() << "no Fashion-MNIST";
  const std::string maker = std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker";
  const std::string file = scratch_.Join("cli.pt");
  auto run = testing::RunShellMerged(maker + " export -p " + project_ + " -o " + file);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("exported run trained of project fashion_mlp to " + file),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("subnets      3"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("composition  product"), std::string::npos) << run.out;
  EXPECT_EQ(torch::jit::load(file).attr("run").toStringRef(), "trained");

  run = testing::RunShellMerged(maker + " export -p " + project_ + " --run other -o " +
                                scratch_.Join("other.pt"));
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_NE(run.out.find("run 'other' has no model"), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(scratch_.Join("other.pt")));
}

}  // namespace
}  // namespace cloudbook
