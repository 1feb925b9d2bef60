#include "shared/formats/run_model.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

#include "shared/atomic_file.h"
#include "shared/clock.h"
#include "shared/composed_score.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/checkpoint_header.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace {

constexpr const char* kModelFileName = "model.json";

std::string HexHash(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, hash);
  return text;
}

Result<ProblemType> ProblemFromName(const std::string& name, const std::string& source) {
  for (ProblemType type :
       {ProblemType::kMulticlass, ProblemType::kBinary, ProblemType::kRegression}) {
    if (name == ProblemTypeName(type)) return type;
  }
  return Status::Corruption(source + ": unknown problem '" + name + "'");
}

Status ValidateRunName(const std::string& run) {
  if (!ValidateAgentId(run).ok()) {
    return Status::InvalidArgument("run '" + run +
                                   "': a run name is 1 to 64 letters, digits, '.', '_' and '-'");
  }
  return Status::Ok();
}

}  // namespace

std::vector<SubnetSpec> RunModel::subnets() const {
  std::vector<SubnetSpec> all;
  for (const DuSpec& du : dus) all.insert(all.end(), du.subnets.begin(), du.subnets.end());
  std::sort(all.begin(), all.end(),
            [](const SubnetSpec& a, const SubnetSpec& b) { return a.index < b.index; });
  return all;
}

int64_t RunModel::outputs() const {
  const ProjectProgram& p = program();
  return p.problem == ProblemType::kRegression ? p.output_columns : p.num_classes;
}

Json ToJson(const RunModel& model) {
  Json dus = Json::array();
  for (const DuSpec& du : model.dus) dus.push_back(ToJson(du));
  Json weights = Json::array();
  for (const RunModelWeights& w : model.weights) {
    weights.push_back({{"subnet", w.subnet},
                       {"du", w.du},
                       {"file", w.file},
                       {"bytes", w.bytes},
                       {"hash", w.hash}});
  }
  return Json{{"format_version", model.format_version},
              {"run", model.run},
              {"created", model.created},
              {"created_ms", model.created_ms},
              {"mode", model.mode},
              {"project", model.project},
              {"problem", ProblemTypeName(model.problem)},
              {"composition", model.composition},
              {"class_names", model.class_names},
              {"input_shape", model.input_shape},
              {"composed_metrics", model.composed_metrics},
              {"dus", dus},
              {"weights", weights}};
}

Result<RunModel> RunModelFromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) return Status::Corruption(source + ": not a JSON object");
  RunModel model;
  model.format_version = ValueOr<int>(json, "format_version", 0);
  if (model.format_version != kRunModelFormatVersion) {
    return Status::Corruption(source + ": model format version " +
                              std::to_string(model.format_version) + ", this build reads " +
                              std::to_string(kRunModelFormatVersion));
  }
  try {
    model.run = json.at("run").get<std::string>();
    model.created = ValueOr<std::string>(json, "created", "");
    model.created_ms = ValueOr<int64_t>(json, "created_ms", 0);
    model.mode = ValueOr<std::string>(json, "mode", "");
    model.project = ValueOr<std::string>(json, "project", "");
    CB_ASSIGN_OR_RETURN(model.problem,
                        ProblemFromName(json.at("problem").get<std::string>(), source));
    model.composition = json.at("composition").get<std::string>();
    model.class_names = json.at("class_names").get<std::vector<std::string>>();
    model.input_shape = json.at("input_shape").get<std::vector<int64_t>>();
    model.composed_metrics = json.value("composed_metrics", Json::object());
    const Json& dus = json.at("dus");
    if (!dus.is_array() || dus.empty()) return Status::Corruption(source + ": no DUs");
    for (size_t i = 0; i < dus.size(); ++i) {
      CB_ASSIGN_OR_RETURN(DuSpec du,
                          DuSpecFromJson(dus[i], source + " dus[" + std::to_string(i) + "]"));
      model.dus.push_back(std::move(du));
    }
    for (const Json& w : json.at("weights")) {
      RunModelWeights weights;
      weights.subnet = w.at("subnet").get<int>();
      weights.du = w.at("du").get<int>();
      weights.file = w.at("file").get<std::string>();
      weights.bytes = w.at("bytes").get<int64_t>();
      weights.hash = w.at("hash").get<std::string>();
      if (weights.file != SubnetWeightsFileName(weights.subnet)) {
        return Status::Corruption(source + ": weights file '" + weights.file + "' for subnet " +
                                  std::to_string(weights.subnet) + " (expected " +
                                  SubnetWeightsFileName(weights.subnet) + ")");
      }
      model.weights.push_back(std::move(weights));
    }
  } catch (const Json::exception& error) {
    return Status::Corruption(source + ": " + error.what());
  }
  // Every subnet has exactly one weights file, and the program agrees with the header.
  const std::vector<SubnetSpec> subnets = model.subnets();
  if (subnets.empty()) return Status::Corruption(source + ": the DUs hold no subnets");
  if (subnets.size() != model.weights.size()) {
    return Status::Corruption(source + ": " + std::to_string(subnets.size()) + " subnets but " +
                              std::to_string(model.weights.size()) + " weights files");
  }
  for (size_t i = 0; i < subnets.size(); ++i) {
    if (model.weights[i].subnet != subnets[i].index) {
      return Status::Corruption(source + ": weights[" + std::to_string(i) + "] is for subnet " +
                                std::to_string(model.weights[i].subnet) + ", expected " +
                                std::to_string(subnets[i].index));
    }
  }
  if (model.program().problem != model.problem) {
    return Status::Corruption(source + ": problem '" + ProblemTypeName(model.problem) +
                              "' but the DUs say '" + ProblemTypeName(model.program().problem) +
                              "'");
  }
  if (model.input_shape != subnets[0].model.input_shape) {
    return Status::Corruption(source + ": input_shape differs from the subnets' input");
  }
  if (!model.class_names.empty() &&
      static_cast<int64_t>(model.class_names.size()) != model.outputs()) {
    return Status::Corruption(source + ": " + std::to_string(model.class_names.size()) +
                              " class names for " + std::to_string(model.outputs()) + " classes");
  }
  return model;
}

std::vector<std::string> ModelClassNames(const ProjectProgram& program, const ProblemData& data) {
  // A label map gives ids other meanings than the folders' positions.
  if (program.problem == ProblemType::kRegression || !program.data.label_map.empty()) return {};
  for (const LabeledArrays* split : {&data.test, &data.train}) {
    if (static_cast<int64_t>(split->classes.size()) == program.num_classes) return split->classes;
  }
  return {};
}

Result<std::string> PublishRunModel(const SharedFolderLayout& layout,
                                    const RunModelSource& source) {
  CB_RETURN_IF_ERROR(ValidateRunName(source.run));
  if (source.dus.empty()) return Status::InvalidArgument("a model needs the run's DU files");
  const std::string folder = layout.model_folder(source.run);
  CB_RETURN_IF_ERROR(MakeFolders(folder));
  // A model.json of an earlier run of the same name would name weights being replaced.
  if (PathExists(layout.model_file(source.run))) {
    CB_RETURN_IF_ERROR(RemovePath(layout.model_file(source.run)));
  }
  RunModel model;
  model.run = source.run;
  model.created = UtcNowIso8601();
  model.created_ms = UnixTimeMs();
  model.mode = source.mode;
  model.project = source.dus[0].program.name;
  model.problem = source.dus[0].program.problem;
  model.composition = CompositionRuleName(model.problem);
  model.class_names = source.class_names;
  model.composed_metrics = source.composed_metrics;
  model.dus = source.dus;
  std::sort(model.dus.begin(), model.dus.end(),
            [](const DuSpec& a, const DuSpec& b) { return a.index < b.index; });
  std::map<int, int> du_of;
  for (const DuSpec& du : model.dus) {
    for (const SubnetSpec& subnet : du.subnets) du_of[subnet.index] = du.index;
  }
  for (const SubnetSpec& subnet : model.subnets()) {
    const int du = du_of[subnet.index];
    const std::string from = source.checkpoint_path(du, subnet.index);
    const std::string to = folder + "/" + SubnetWeightsFileName(subnet.index);
    CB_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(from));
    if (bytes.size() < kCheckpointHeaderBytes) {
      return Status::Corruption(from + ": not a checkpoint (" + std::to_string(bytes.size()) +
                                " bytes)");
    }
    CB_ASSIGN_OR_RETURN(CheckpointHeader header, ParseCheckpointHeader(bytes.data(), from));
    if (bytes.size() != kCheckpointHeaderBytes + header.metadata_bytes + header.payload_bytes) {
      return Status::Corruption(from + ": torn checkpoint (length differs from its header)");
    }
    CB_ASSIGN_OR_RETURN(Json info,
                        ParseJsonText(bytes.substr(kCheckpointHeaderBytes, header.metadata_bytes),
                                      from + " metadata"));
    const int64_t epoch = ValueOr<int64_t>(info, "epoch", -1);
    if (epoch != subnet.epochs) {
      return Status::InvalidArgument(from + " holds epoch " + std::to_string(epoch) + " of " +
                                     std::to_string(subnet.epochs) + " for subnet " +
                                     std::to_string(subnet.index) +
                                     ": the run's subnet has not finished training");
    }
    if (from != to) CB_RETURN_IF_ERROR(WriteFileAtomically(to, bytes));
    RunModelWeights weights;
    weights.subnet = subnet.index;
    weights.du = du;
    weights.file = SubnetWeightsFileName(subnet.index);
    weights.bytes = static_cast<int64_t>(bytes.size());
    weights.hash = HexHash(header.hash);
    model.weights.push_back(std::move(weights));
    model.input_shape = subnet.model.input_shape;
  }
  const std::string path = layout.model_file(source.run);
  CB_RETURN_IF_ERROR(WriteJsonFileAtomically(path, ToJson(model)));
  return path;
}

Result<RunModel> ReadRunModel(const SharedFolderLayout& layout, const std::string& run) {
  CB_RETURN_IF_ERROR(ValidateRunName(run));
  const std::string path = layout.model_file(run);
  if (!PathExists(path)) {
    return Status::NotFound("run '" + run + "' has no model (" + path +
                            "): a model is kept when a run finishes (cloudbook-run, or "
                            "cloudbook-maker --local)");
  }
  CB_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  CB_ASSIGN_OR_RETURN(RunModel model, RunModelFromJson(json, path));
  if (model.run != run) {
    return Status::Corruption(path + ": names run '" + model.run + "', its folder '" + run + "'");
  }
  model.folder = layout.model_folder(run);
  for (const RunModelWeights& weights : model.weights) {
    const std::string file = model.folder + "/" + weights.file;
    CB_ASSIGN_OR_RETURN(SharedFileInfo info, StatPath(file));
    if (!info.exists) return Status::Corruption(path + ": its weights " + file + " are missing");
    if (static_cast<int64_t>(info.size) != weights.bytes) {
      return Status::Corruption(file + ": " + std::to_string(info.size) + " bytes, " + path +
                                " recorded " + std::to_string(weights.bytes));
    }
  }
  return model;
}

Result<std::vector<std::string>> ListRunModels(const SharedFolderLayout& layout) {
  auto names = ListFolder(layout.models());
  if (!names.ok()) {
    if (names.status().code() == Status::Code::kNotFound) return std::vector<std::string>{};
    return names.status();
  }
  std::vector<std::pair<int64_t, std::string>> found;
  for (const std::string& name : *names) {
    if (!ValidateAgentId(name).ok()) continue;
    auto json = ReadJsonFile(layout.model_file(name));
    if (!json.ok()) continue;  // no model.json yet (being written) or unreadable
    found.emplace_back(ValueOr<int64_t>(*json, "created_ms", 0), name);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
  });
  std::vector<std::string> runs;
  for (auto& entry : found) runs.push_back(std::move(entry.second));
  return runs;
}

Result<RunModel> OpenRunModel(const SharedFolderLayout& layout, const std::string& run) {
  if (!run.empty()) return ReadRunModel(layout, run);
  CB_ASSIGN_OR_RETURN(std::vector<std::string> runs, ListRunModels(layout));
  if (runs.empty()) {
    return Status::NotFound("no finished run has a model in " + layout.models() +
                            " yet: train one first (cloudbook-run, or cloudbook-maker --local)");
  }
  return ReadRunModel(layout, runs.front());
}

}  // namespace cloudbook
