// cloudbook-predict: applies the composed model of a finished run (distributed/models/<run>/)
// to new samples in any data format the program reads, a batch at a time, and writes per
// sample the predicted class (or values), the composed probabilities and the top-k as CSV or
// JSON Lines (docs/predict.md). With --labels it also scores the predictions.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "fs_adapters/open_shared_folder.h"
#include "predict/input_format.h"
#include "predict/label_file.h"
#include "predict/prediction_summary.h"
#include "predict/prediction_writer.h"
#include "predict/sample_source.h"
#include "shared/command_line.h"
#include "shared/formats/run_model.h"
#include "shared/model_plan.h"
#include "shared/nn/model_predictor.h"
#include "shared/nn/tensor_file_reader.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"

namespace {

using namespace cloudbook;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string project_folder;
  std::string distributed_folder;
  std::string run;
  SampleRequest input;
  std::string output;
  std::string output_format;
  int top_k = 5;
  int batch_size = GetTunables().predict_batch_size;
  std::string labels;
};

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return ExitCodeFor(status);
}

std::string Duration(double seconds) {
  const auto whole = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof(text), "%ld:%02ld", whole / 60, whole % 60);
  return text;
}

// Prints a progress line on stderr every predict_progress_s while the input lasts.
class Progress {
 public:
  explicit Progress(int64_t total) : total_(total), start_(Clock::now()), last_(start_) {}
  void Update(int64_t done) {
    const auto now = Clock::now();
    if (done >= total_ ||
        std::chrono::duration<double>(now - last_).count() < GetTunables().predict_progress_s) {
      return;
    }
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = done / std::max(seconds, 1e-9);
    std::fprintf(stderr, "predicting: %lld/%lld samples (%.0f%%), %.0f samples/s, ETA %s\n",
                 static_cast<long long>(done), static_cast<long long>(total_),
                 100.0 * done / total_, rate,
                 Duration((total_ - done) / std::max(rate, 1e-9)).c_str());
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  int64_t total_;
  Clock::time_point start_, last_;
};

int Predict(const Options& options) {
  auto layout = OpenProjectLayout(options.project_folder, options.distributed_folder);
  if (!layout.ok()) return Fail(layout.status());
  auto model = OpenRunModel(layout->shared(), options.run);
  if (!model.ok()) return Fail(model.status());
  auto source = SampleSource::Open(*model, options.input, ModelInputScale(*model));
  if (!source.ok()) return Fail(source.status());
  SampleSource& samples = **source;
  std::unique_ptr<Truth> truth;
  if (!options.labels.empty()) {
    auto read = ReadTruth(*model, options.labels, options.input.limit, samples.samples());
    if (!read.ok()) return Fail(read.status());
    truth = std::make_unique<Truth>(std::move(read).value());
  } else if (!samples.folder_labels().empty()) {
    truth = std::make_unique<Truth>();
    truth->labels = samples.folder_labels();
  }
  auto predictor = ModelPredictor::Load(*model);
  if (!predictor.ok()) return Fail(predictor.status());
  spdlog::info("run {} ({}, {} subnets, input {}): {} samples from {} ({})", model->run,
               ProblemTypeName(model->problem), model->weights.size(),
               ShapeToString(model->input_shape), samples.samples(), options.input.input,
               samples.format());

  std::ofstream file;
  if (!options.output.empty()) {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(Status::IoError(options.output + ": cannot write"));
  }
  std::ostream& out = options.output.empty() ? std::cout : file;
  const OutputFormat format =
      options.output_format == "jsonl" ? OutputFormat::kJsonLines : OutputFormat::kCsv;
  PredictionWriter writer(out, format, *model, options.top_k, samples.named());
  PredictionSummary summary(*model, truth.get());
  Progress progress(samples.samples());
  writer.Begin();
  for (int64_t begin = 0; begin < samples.samples(); begin += options.batch_size) {
    const int64_t end = std::min<int64_t>(begin + options.batch_size, samples.samples());
    auto x = samples.Read(begin, end);
    if (!x.ok()) return Fail(x.status());
    auto composed = (*predictor)->Predict(*x);
    if (!composed.ok()) return Fail(composed.status().WithContext(options.input.input));
    std::vector<std::string> names;
    for (int64_t i = begin; samples.named() && i < end; ++i) names.push_back(samples.name(i));
    writer.Write(begin, *composed, names);
    summary.Add(begin, *composed);
    progress.Update(end);
  }
  out.flush();
  if (!out) {
    return Fail(
        Status::IoError((options.output.empty() ? "stdout" : options.output) + ": write failed"));
  }
  std::fprintf(stderr, "%s", summary.Text(progress.seconds()).c_str());
  if (!options.output.empty()) std::fprintf(stderr, "predictions: %s\n", options.output.c_str());
  return kExitOk;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (ReportBadTunables()) return kExitUsage;  // defaults below read it
  InstallSharedFolderBackends();
  InstallTensorFileReader();
  spdlog::set_default_logger(spdlog::stderr_color_mt("cloudbook-predict"));
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{
      "cloudbook-predict: apply the composed model of a finished run "
      "(<shared folder>/models/<run>/) to new samples and write, per sample, the predicted "
      "class (or output values), the composed probabilities and the top-k classes."};
  app.footer(std::string("Examples:\n"
                         "  cloudbook-predict -p ~/cloudbook/fashion --input t10k-images.gz "
                         "--labels t10k-labels.gz > predictions.csv\n"
                         "  cloudbook-predict -p ~/cloudbook/images --input photos/ "
                         "--output-format jsonl --top-k 3\n"
                         "Details: docs/predict.md\n") +
             ExitCodesHelp());
  app.set_version_flag("--version", std::string("cloudbook-predict ") + CLOUDBOOK_VERSION);
  Options options;
  std::string log_level = "warn";
  std::string format_help = "Input format (default: guessed from the program and the content):";
  for (const char* format : kPredictFormats) format_help += std::string(" ") + format;
  app.add_option("--project-folder,-p", options.project_folder, "The project folder")->required();
  app.add_option("--distributed-folder,--shared-folder", options.distributed_folder,
                 "Where the shared folder is (default: as <project>/project.json says, else "
                 "<project>/distributed)");
  app.add_option("--run", options.run, "The run whose model to apply (default: the newest)");
  app.add_option("--input,-i", options.input.input,
                 "The samples: a data file, an image file, a folder of images or a class-folder "
                 "tree")
      ->required();
  app.add_option("--format", options.input.format, format_help)
      ->check(CLI::IsMember({"idx", "csv", "tensor", "npy", "npz", "sequences", "images"}));
  app.add_option("--key", options.input.key,
                 "npz: the array in the archive (default: the program's key)");
  app.add_option("--limit", options.input.limit, "Predict the first N samples only (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--output,-o", options.output, "Write the predictions here (default: stdout)");
  app.add_option("--output-format", options.output_format,
                 "csv or jsonl (default: jsonl when --output ends in .jsonl or .json, else csv)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  app.add_option("--top-k", options.top_k, "The K most probable classes per sample")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--batch-size", options.batch_size,
                 "Samples predicted at once (multiples of 1024 give the run's bits exactly)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--labels", options.labels,
                 "The true answers (IDX, CSV, npy, npz, tensor): also print the accuracy (or "
                 "mse/mae)");
  AddLogLevelOption(app, log_level);
  if (auto exit_code = ParseCommandLine(app, argc, argv)) return *exit_code;
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (options.output_format.empty()) {
    options.output_format =
        EndsWith(options.output, ".jsonl") || EndsWith(options.output, ".json") ? "jsonl" : "csv";
  }
  return Predict(options);
}
