#include "maker/local_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <thread>

#include "maker/maker.h"
#include "shared/clock.h"
#include "shared/composed_score.h"
#include "shared/confusion_matrix.h"
#include "shared/data/project_data.h"
#include "shared/formats/run_model.h"
#include "shared/nn/subnet_training.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;

std::string FormatDuration(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  std::ostringstream out;
  out << total / 60 << ":" << std::setw(2) << std::setfill('0') << total % 60;
  return out.str();
}

Json MetricsJson(const Metrics& metrics) {
  Json json = Json::object();
  for (const auto& [name, value] : metrics) json[name] = value;
  return json;
}

Json HistoryJson(const std::vector<EpochProgress>& history) {
  Json json = Json::array();
  for (const EpochProgress& p : history) {
    Json entry = {{"epoch", p.epoch},
                  {"loss", p.train_loss},
                  {"seconds", p.epoch_seconds},
                  {"samples_per_second", p.samples_per_second}};
    if (!std::isnan(p.train_accuracy)) entry["accuracy"] = p.train_accuracy;
    if (!std::isnan(p.validation_loss)) entry["val_loss"] = p.validation_loss;
    if (!std::isnan(p.validation_accuracy)) entry["val_accuracy"] = p.validation_accuracy;
    json.push_back(entry);
  }
  return json;
}

void LogEpoch(const std::string& label, const EpochProgress& p) {
  std::ostringstream line;
  line << label << " epoch " << p.epoch << "/" << p.epochs << "  loss " << std::fixed
       << std::setprecision(4) << p.train_loss;
  if (!std::isnan(p.train_accuracy)) line << "  acc " << p.train_accuracy;
  if (!std::isnan(p.validation_loss)) line << "  val_loss " << p.validation_loss;
  if (!std::isnan(p.validation_accuracy)) line << "  val_acc " << p.validation_accuracy;
  line << std::setprecision(0) << "  " << p.samples_per_second << " samples/s  ETA "
       << FormatDuration(p.eta_seconds);
  spdlog::info("{}", line.str());
}

struct SubnetJob {
  const SubnetSpec* subnet = nullptr;
  int du_index = 0;
  Result<SubnetOutcome> outcome = Status::Internal("not run");
};

// Trains the jobs, `parallel` at a time, each on its own thread.
// Each subnet's checkpoints go straight into the run's model folder (`model_folder`), so its
// last one is the model's weights.
void RunJobs(std::vector<SubnetJob>& jobs, const ProblemData& all, const ProjectProgram& program,
             int parallel, int total_subnets, const std::string& model_folder) {
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      SubnetJob& job = jobs[i];
      const SubnetSpec& subnet = *job.subnet;
      const ProblemData view = SelectSubnetData(all, program, subnet);
      const std::string label =
          "subnet " + std::to_string(subnet.index + 1) + "/" + std::to_string(total_subnets);
      spdlog::info("{}: training {} samples for {} epochs (DU {})", label, view.train.rows(),
                   subnet.epochs, job.du_index);
      TrainingOptions options;
      options.problem = program.problem;
      options.whole_data = &all;
      options.checkpoint_dir = model_folder;
      options.resume = false;  // a run of the same name trains anew
      options.on_epoch = [&label](const EpochProgress& p) { LogEpoch(label, p); };
      job.outcome = TrainAndPredict(subnet, view, all.test.x, options);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
}

Json SubnetJson(const SubnetJob& job, const ProjectProgram& program) {
  const SubnetSpec& subnet = *job.subnet;
  const SubnetOutcome& outcome = job.outcome.value();
  Json json = {{"index", subnet.index},
               {"du", job.du_index},
               {"ran_on", "local"},
               {"widths", subnet.widths},
               {"epochs", subnet.epochs},
               {"train_samples", outcome.train_samples},
               {"parameters", outcome.parameters},
               {"train_seconds", outcome.train_seconds},
               {"predict_seconds", outcome.predict_seconds},
               {"test_metrics", MetricsJson(outcome.test_metrics)},
               {"validation_metrics", MetricsJson(outcome.validation_metrics)},
               {"history", HistoryJson(outcome.history)}};
  if (program.problem == ProblemType::kMulticlass) json["classes"] = subnet.classes;
  if (program.problem == ProblemType::kBinary) json["half"] = subnet.half;
  if (program.problem == ProblemType::kRegression) {
    json["columns"] = {subnet.column_begin, subnet.column_end};
  }
  return json;
}

std::vector<SubnetPrediction> Predictions(const std::vector<SubnetJob>& jobs) {
  std::vector<SubnetPrediction> predictions;
  for (const SubnetJob& job : jobs) {
    SubnetPrediction prediction;
    prediction.outputs = job.outcome->test_outputs;
    prediction.classes = job.subnet->classes;
    prediction.column_begin = job.subnet->column_begin;
    predictions.push_back(std::move(prediction));
  }
  return predictions;
}

// Trains the original network on every training sample, on its train.threads: the
// results' "baseline" entry.
Result<Json> TrainOriginal(const SubnetSpec& original, const ProjectProgram& program,
                           const ProblemData& all) {
  spdlog::info("baseline: training the original network on {} samples for {} epochs",
               all.train.rows(), original.epochs);
  TrainingOptions training;
  training.problem = program.problem;
  training.on_epoch = [](const EpochProgress& p) { LogEpoch("baseline", p); };
  CB_ASSIGN_OR_RETURN(SubnetOutcome outcome, TrainAndPredict(original, all, all.test.x, training));
  Json baseline = {{"metrics", MetricsJson(outcome.test_metrics)},
                   {"widths", original.widths},
                   {"epochs", original.epochs},
                   {"parameters", outcome.parameters},
                   {"train_seconds", outcome.train_seconds},
                   {"predict_seconds", outcome.predict_seconds},
                   {"threads", original.train.threads},
                   {"history", HistoryJson(outcome.history)}};
  MergeConfusionEntries(baseline,
                        OutputsConfusionEntries(program, outcome.test_outputs, all.test.labels));
  return baseline;
}

std::string RunName(const LocalRunOptions& options) {
  return options.run_name.empty() ? "local-" + UtcStamp() : options.run_name;
}

// Adds the total wall time and writes distributed/results/<run>.json.
Result<LocalRunReport> WriteResults(const ProjectLayout& layout, Json results,
                                    Clock::time_point wall_start) {
  results["wall_seconds"] = std::chrono::duration<double>(Clock::now() - wall_start).count();
  LocalRunReport report;
  report.results_path = layout.shared().results_file(results["run"].get<std::string>());
  CB_RETURN_IF_ERROR(WriteJsonFileAtomically(report.results_path, results));
  report.results = std::move(results);
  return report;
}

// --original-only: the original network alone on `threads` threads, no subnets.
Result<LocalRunReport> RunOriginalOnly(const LocalRunOptions& options, const ProjectLayout& layout,
                                       const DuSpec& du0, int threads,
                                       Clock::time_point wall_start) {
  const ProjectProgram& program = du0.program;
  if (!du0.baseline) return Status::Corruption("DU 0 holds no baseline network");
  SubnetSpec original = *du0.baseline;
  original.train.threads = std::min(threads, kMaxTrainingThreads);  // the benchmark's threads
  spdlog::info("loading data from {}", layout.working_dir());
  CB_ASSIGN_OR_RETURN(ProblemData all,
                      LoadProjectData(layout, program, du0.baseline->model.input_shape));
  spdlog::info(
      "{} training, {} validation, {} test samples; the original network alone on {} "
      "thread(s)",
      all.train.rows(), all.validation.rows(), all.test.rows(), original.train.threads);
  CB_ASSIGN_OR_RETURN(Json baseline, TrainOriginal(original, program, all));
  Json results = {{"format_version", 1},
                  {"run", RunName(options)},
                  {"mode", "local"},
                  {"original_only", true},
                  {"project", program.name},
                  {"problem", ProblemTypeName(program.problem)},
                  {"subnets_count", 0},
                  {"train_samples", all.train.rows()},
                  {"test_samples", all.test.rows()},
                  {"composed", nullptr},
                  {"subnets", Json::array()},
                  {"baseline", std::move(baseline)}};
  return WriteResults(layout, std::move(results), wall_start);
}

}  // namespace

Result<LocalRunReport> RunLocally(const LocalRunOptions& options) {
  const auto wall_start = Clock::now();
  CB_ASSIGN_OR_RETURN(const ProjectLayout layout, OpenProjectLayout(options.project_folder));
  CB_ASSIGN_OR_RETURN(std::vector<DuSpec> dus, ReadDuSpecs(layout));
  const ProjectProgram& program = dus[0].program;
  if (!program.data.test && !program.data.test_split) {
    return Status::InvalidArgument(
        "the program has no data.test (nor data.test_split): nothing to compose on");
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = options.threads > 0 ? options.threads : cores;
  if (options.original_only) return RunOriginalOnly(options, layout, dus[0], threads, wall_start);

  std::vector<SubnetJob> jobs;
  for (const DuSpec& du : dus) {
    for (const SubnetSpec& subnet : du.subnets) {
      SubnetJob job;
      job.subnet = &subnet;
      job.du_index = du.index;
      jobs.push_back(std::move(job));
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const SubnetJob& a, const SubnetJob& b) {
    return a.subnet->index < b.subnet->index;
  });
  if (jobs.empty()) return Status::Corruption("the DU files hold no subnets");
  // Every subnet trains on its own train.threads, as on an agent (so local and distributed
  // runs compose the same bits); by default as many at once as fit in `threads`.
  const int subnet_threads = jobs[0].subnet->train.threads;
  const int jobs_at_once =
      std::min<int>(options.jobs > 0 ? options.jobs : std::max(1, threads / subnet_threads),
                    static_cast<int>(jobs.size()));
  const auto& input_shape = jobs[0].subnet->model.input_shape;

  spdlog::info("loading data from {}", layout.working_dir());
  CB_ASSIGN_OR_RETURN(ProblemData all, LoadProjectData(layout, program, input_shape));
  spdlog::info(
      "{} training, {} validation, {} test samples; {} subnets, {} at a time on {} "
      "thread(s) each",
      all.train.rows(), all.validation.rows(), all.test.rows(), jobs.size(), jobs_at_once,
      subnet_threads);

  // The model of an earlier run of this name stops being one before its weights change.
  const std::string run_name = RunName(options);
  const std::string model_folder = layout.shared().model_folder(run_name);
  if (PathExists(layout.shared().model_file(run_name))) {
    CB_RETURN_IF_ERROR(RemovePath(layout.shared().model_file(run_name)));
  }
  const auto subnets_start = Clock::now();
  RunJobs(jobs, all, program, jobs_at_once, static_cast<int>(jobs.size()), model_folder);
  const double subnets_wall = std::chrono::duration<double>(Clock::now() - subnets_start).count();
  for (const SubnetJob& job : jobs) {
    if (!job.outcome.ok()) return job.outcome.status();
  }
  const std::vector<SubnetPrediction> predictions = Predictions(jobs);
  CB_ASSIGN_OR_RETURN(Metrics composed_metrics, ScoreComposition(program, predictions, all.test));

  Json subnets_json = Json::array();
  double sum_train = 0, max_train = 0;
  for (const SubnetJob& job : jobs) {
    subnets_json.push_back(SubnetJson(job, program));
    sum_train += job.outcome->train_seconds;
    max_train = std::max(max_train, job.outcome->train_seconds);
  }

  Json results = {{"format_version", 1},
                  {"run", run_name},
                  {"mode", "local"},
                  {"project", program.name},
                  {"problem", ProblemTypeName(program.problem)},
                  {"subnets_count", jobs.size()},
                  {"groups", program.groups},
                  {"factor", program.factor},
                  {"train_samples", all.train.rows()},
                  {"test_samples", all.test.rows()},
                  {"threads_per_subnet", subnet_threads},
                  {"jobs", jobs_at_once}};
  results["composed"] = {{"metrics", MetricsJson(composed_metrics)},
                         {"train_seconds_sum", sum_train},
                         {"train_seconds_max", max_train},
                         {"wall_seconds", subnets_wall}};
  MergeConfusionEntries(results["composed"],
                        ComposedConfusionEntries(program, predictions, all.test.labels));
  results["subnets"] = subnets_json;
  results["baseline"] = nullptr;

  if (options.baseline) {
    if (!dus[0].baseline) return Status::Corruption("DU 0 holds no baseline network");
    // Its own train.threads, the subnets' too: the speed-up compares like with like.
    CB_ASSIGN_OR_RETURN(Json baseline, TrainOriginal(*dus[0].baseline, program, all));
    const double original_seconds = baseline["train_seconds"].get<double>();
    Json comparison = {{"speedup_slowest_subnet", original_seconds / std::max(max_train, 1e-9)},
                       {"speedup_sum_of_subnets", original_seconds / std::max(sum_train, 1e-9)}};
    for (const auto& [name, value] : composed_metrics) {
      if (baseline["metrics"].contains(name)) {
        comparison[name + "_delta"] = value - baseline["metrics"][name].get<double>();
      }
    }
    results["baseline"] = std::move(baseline);
    results["comparison"] = comparison;
  }
  RunModelSource model;
  model.run = run_name;
  model.mode = "local";
  model.dus = dus;
  model.composed_metrics = MetricsJson(composed_metrics);
  model.class_names = ModelClassNames(program, all);
  model.checkpoint_path = [&model_folder](int, int subnet) {
    return model_folder + "/" + SubnetWeightsFileName(subnet);
  };
  auto model_file = PublishRunModel(layout.shared(), model);
  if (model_file.ok()) {
    results["model"] = *model_file;
  } else {  // the figures stand; only the model could not be kept
    spdlog::warn("the run's model was not kept: {}", model_file.status().ToString());
    results["model_error"] = model_file.status().ToString();
  }
  return WriteResults(layout, std::move(results), wall_start);
}

std::string FormatResultsSummary(const Json& results) {
  std::ostringstream out;
  out << std::fixed;
  auto metrics_line = [&](const Json& metrics) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(4);
    bool first = true;
    for (const auto& [name, value] : metrics.items()) {
      line << (first ? "" : "  ") << name << " " << value.get<double>();
      first = false;
    }
    return line.str();
  };
  if (results.value("original_only", false)) {
    out << "run " << results.value("run", "") << " (" << results.value("problem", "")
        << ", the original network only)\n";
  } else {
    out << "run " << results.value("run", "") << " (" << results.value("problem", "") << ", "
        << results.value("subnets_count", 0) << " subnets, F = " << std::setprecision(2)
        << results.value("factor", 1.0) << ")\n";
  }
  for (const Json& subnet : results["subnets"]) {
    out << "  subnet " << subnet["index"].get<int>() << " (DU " << subnet["du"].get<int>() << ", "
        << subnet["train_samples"].get<int64_t>() << " samples, " << subnet["epochs"].get<int64_t>()
        << " epochs): " << metrics_line(subnet["test_metrics"]) << "  train "
        << std::setprecision(1) << subnet["train_seconds"].get<double>() << " s\n";
  }
  if (!results["composed"].is_null()) {
    const Json& composed = results["composed"];
    out << "composed: " << metrics_line(composed["metrics"]) << "  (subnet training: slowest "
        << std::setprecision(1) << composed["train_seconds_max"].get<double>() << " s, sum "
        << composed["train_seconds_sum"].get<double>() << " s)\n";
  }
  if (!results["baseline"].is_null()) {
    const Json& baseline = results["baseline"];
    out << "baseline: " << metrics_line(baseline["metrics"]) << "  (training "
        << std::setprecision(1) << baseline["train_seconds"].get<double>() << " s)\n";
    if (results.contains("comparison")) {
      out << "speed-up of the slowest subnet over the original: " << std::setprecision(2)
          << results["comparison"]["speedup_slowest_subnet"].get<double>() << "x\n";
    }
  }
  if (results.contains("model")) out << "model: " << results["model"].get<std::string>() << "\n";
  if (results.contains("model_error")) {
    out << "model NOT kept: " << results["model_error"].get<std::string>() << "\n";
  }
  return out.str();
}

}  // namespace cloudbook
