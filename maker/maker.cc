#include "maker/maker.h"

#include <spdlog/spdlog.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <iomanip>
#include <random>
#include <set>
#include <sstream>

#include "maker/du_packing.h"
#include "maker/program_parser.h"
#include "shared/clock.h"
#include "shared/data/project_data.h"
#include "shared/formats/du_files.h"
#include "shared/formats/project_config.h"
#include "shared/json_io.h"
#include "shared/model_plan.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

std::string NewGeneration() {
  std::ostringstream out;
  out << UtcStamp() << "-" << std::hex << (std::random_device{}() & 0xffffffu);
  return out.str();
}

ProjectProgram SharedPart(const Program& program, const DeconstructionPlan& plan) {
  ProjectProgram shared;
  shared.name = program.name;
  shared.problem = program.problem;
  shared.metrics = program.metrics;
  shared.seed = program.seed;
  shared.data = program.data;
  const int64_t outputs = program.vars.at(OutputVariable(program));
  if (program.problem == ProblemType::kRegression) {
    shared.output_columns = outputs;
  } else {
    shared.num_classes = outputs;
  }
  shared.k = static_cast<int>(plan.subnets);
  shared.groups = static_cast<int>(plan.groups);
  shared.factor = plan.factor();
  return shared;
}

}  // namespace

Result<std::string> FindProgramFile(const std::string& project_folder,
                                    const std::string& explicit_name) {
  const ProjectLayout layout(project_folder);
  if (!explicit_name.empty()) {
    fs::path path(explicit_name);
    if (!fs::exists(path) && path.is_relative()) path = fs::path(layout.original()) / path;
    if (!fs::exists(path)) {
      return Status::NotFound("program file " + explicit_name + " (looked for " + path.string() +
                              "; programs live in " + layout.original() + ")");
    }
    return path.string();
  }
  if (!fs::is_directory(layout.original())) {
    return Status::NotFound("no folder " + layout.original() +
                            " (a project keeps its program in original/; see configs/)");
  }
  std::vector<std::string> candidates;
  for (const auto& entry : fs::directory_iterator(layout.original())) {
    const std::string extension = entry.path().extension().string();
    if (fs::is_regular_file(entry) && (extension == ".yaml" || extension == ".yml")) {
      candidates.push_back(entry.path().string());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  if (candidates.empty()) {
    return Status::NotFound("no program (*.yaml) in " + layout.original());
  }
  if (candidates.size() > 1) {
    std::string names;
    for (const auto& c : candidates) names += "\n  " + c;
    return Status::InvalidArgument("several programs in " + layout.original() +
                                   "; choose one with --program:" + names);
  }
  return candidates[0];
}

Result<MakeReport> MakeDeployableUnits(const MakeOptions& options) {
  CB_ASSIGN_OR_RETURN(const ProjectLayout layout,
                      OpenProjectLayout(options.project_folder, options.shared_folder));
  MakeReport report;
  CB_ASSIGN_OR_RETURN(report.program_path,
                      FindProgramFile(options.project_folder, options.program_file));
  CB_ASSIGN_OR_RETURN(report.program, ParseProgramFile(report.program_path));
  if (options.train_limit >= 0) report.program.data.train_limit = options.train_limit;
  if (options.test_limit >= 0) report.program.data.test_limit = options.test_limit;
  const Program& program = report.program;
  CB_ASSIGN_OR_RETURN(report.plan, PlanDeconstruction(program, options.subnets));

  // The original must fit its own input before anything is cut.
  CB_ASSIGN_OR_RETURN(SubnetSpec baseline, ResolveOriginal(program));
  CB_ASSIGN_OR_RETURN(ModelPlan original_plan, PlanModel(baseline.model, program.source_path));
  const std::string output_var = OutputVariable(program);
  const int64_t outputs = program.vars.at(output_var);
  if (original_plan.output_shape != std::vector<int64_t>{outputs}) {
    return Status::InvalidArgument(program.source_path + ": the network outputs " +
                                   ShapeToString(original_plan.output_shape) + " per sample; " +
                                   output_var + " = " + std::to_string(outputs) +
                                   " needs a flat output of that size (add a flatten?)");
  }

  ProjectProgram shared = SharedPart(program, report.plan);
  int64_t train_samples = 0;
  if (options.check_data) {
    auto data = LoadProjectData(layout, shared, program.model.input_shape);
    if (!data.ok()) return data.status().WithContext(program.source_path);
    train_samples = data->train.rows();
    if (program.problem == ProblemType::kMulticlass) {
      std::vector<int64_t> counts(static_cast<size_t>(outputs), 0);
      for (int64_t label : data->train.labels) ++counts[label];
      for (int64_t c = 0; c < outputs; ++c) {
        if (counts[c] == 0) spdlog::warn("class {} has no training samples", c);
      }
    }
  }

  CB_ASSIGN_OR_RETURN(std::vector<SubnetSpec> subnets,
                      DeconstructProgram(program, report.plan, train_samples));
  CB_ASSIGN_OR_RETURN(baseline, ResolveOriginal(program, train_samples));

  bool created = false;
  CB_ASSIGN_OR_RETURN(ProjectConfig config, EnsureProjectConfig(layout.config_file(), &created));
  report.config_created = created;
  const int desired = options.desired_dus >= 0 ? options.desired_dus : config.desired_dus;

  std::vector<double> costs;
  for (const SubnetSpec& subnet : subnets) costs.push_back(subnet.cost);
  const DuPacking packing = PackSubnets(costs, desired);
  report.generation = NewGeneration();
  for (size_t d = 0; d < packing.subnets.size(); ++d) {
    DuSpec du;
    du.index = static_cast<int>(d);
    du.main_program = d == 0;
    du.program = shared;
    du.generation = report.generation;
    du.cost = packing.costs[d];
    for (int s : packing.subnets[d]) {
      du.subnets.push_back(subnets[s]);
      du.size_bytes += subnets[s].parameter_bytes;
    }
    if (du.main_program) du.baseline = baseline;
    report.dus.push_back(std::move(du));
  }
  CB_RETURN_IF_ERROR(WriteDuSpecs(layout, report.dus, report.generation));
  if (!options.shared_folder.empty()) CB_RETURN_IF_ERROR(WriteProjectSettings(layout));
  return report;
}

}  // namespace cloudbook
