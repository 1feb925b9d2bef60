// distributed/models/<run>/: the model a finished run composed, kept in one folder so it can be
// applied to new samples (cloudbook-predict), exported (cloudbook-maker export) and served
// (cloudbook-serve) whatever the project's checkpoints and DU files become afterwards.
// Written by agent 0 at the end of a distributed run and by local mode: each subnet's final
// checkpoint as subnet_<i>.pt (the whole checkpoint file of shared/nn/checkpoint.h, so one
// verified reader serves both), then model.json last: a model.json names only complete files,
// and a folder without one is not a model. Stateless functions; errors name the file.
//
// model.json: format_version, run, created (UTC), created_ms, mode (local | agents), project,
// problem, composition (product | best_margin | concatenation), class_names (id order; may be
// empty), input_shape, composed_metrics, dus (the run's DU files, whole), weights: [{subnet, du,
// file, bytes, hash (the checkpoint header's Hash64, hex)}] in subnet order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "shared/data/dataset_loader.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

inline constexpr int kRunModelFormatVersion = 1;

struct RunModelWeights {
  int subnet = 0;
  int du = 0;
  std::string file;  // inside the model folder: subnet_<i>.pt
  int64_t bytes = 0;
  std::string hash;  // 16 hex digits
};

struct RunModel {
  int format_version = kRunModelFormatVersion;
  std::string run;
  std::string created;     // UTC, ISO 8601
  int64_t created_ms = 0;  // Unix ms (orders models made within one second)
  std::string mode;        // local | agents
  std::string project;
  ProblemType problem = ProblemType::kMulticlass;
  std::string composition;
  std::vector<std::string> class_names;  // class id -> name; empty: the ids are the names
  std::vector<int64_t> input_shape;      // per sample
  Json composed_metrics = Json::object();
  std::vector<DuSpec> dus;
  std::vector<RunModelWeights> weights;
  std::string folder;  // where it was read from (not stored)

  const ProjectProgram& program() const { return dus.at(0).program; }
  // Every DU's subnets, by index.
  std::vector<SubnetSpec> subnets() const;
  // Number of outputs per sample: classes (multiclass, binary) or columns (regression).
  int64_t outputs() const;
};

Json ToJson(const RunModel& model);
Result<RunModel> RunModelFromJson(const Json& json, const std::string& source);

// What a finished run hands over to be kept as its model.
struct RunModelSource {
  std::string run;
  std::string mode;
  std::vector<DuSpec> dus;
  Json composed_metrics = Json::object();
  std::vector<std::string> class_names;
  // Where the final checkpoint of subnet `subnet` (of DU `du`) is now. Copied into the model
  // folder unless it already is that file. It must hold every epoch of the subnet.
  std::function<std::string(int du, int subnet)> checkpoint_path;
};

// The class names a run's data gives (image folders' sub-folders, in id order) when they name
// every class; empty otherwise.
std::vector<std::string> ModelClassNames(const ProjectProgram& program, const ProblemData& data);

// Copies the weights, then writes model.json atomically; returns its path. Any failure (a
// missing or unfinished checkpoint, a full disk) leaves no model.json and names the file; the
// run's figures stand (writers record the error as "model_error" in the results).
Result<std::string> PublishRunModel(const SharedFolderLayout& layout, const RunModelSource& source);

// models/<run>/model.json, checked: every DU file valid, every weights file present with its
// recorded size. NotFound (saying how a model comes to be) when the run has none; InvalidArgument
// for a run name that is not 1 to 64 letters, digits, '.', '_' and '-'.
Result<RunModel> ReadRunModel(const SharedFolderLayout& layout, const std::string& run);

// The runs that have a model, newest (model.json's "created", then name) first. Empty when
// there is no models/ folder yet.
Result<std::vector<std::string>> ListRunModels(const SharedFolderLayout& layout);

// ReadRunModel of `run`, or of the newest model when `run` is empty.
Result<RunModel> OpenRunModel(const SharedFolderLayout& layout, const std::string& run);

}  // namespace cloudbook
