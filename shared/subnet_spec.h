// What a deployable unit (DU) file holds: the subnets of the DU, each fully resolved (widths,
// epochs, classes or columns), plus what every subnet needs to load its data. An agent can
// train a DU from its file alone. Serialised as JSON (docs/du-format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/json_io.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kDuFormatVersion = 1;

// Bounds a DU file must respect, checked when it is read and before anything is allocated
// from its numbers: DU files come from the shared folder, which others can write. Each is far
// above what a trainable subnet on one ordinary machine needs (docs/du-format.md).
inline constexpr int kMaxDuSubnets = 10000;         // also bounds program.k
inline constexpr size_t kMaxDuLayers = 1000;        // per model
inline constexpr size_t kMaxLayerValues = 8;        // numbers per layer parameter
inline constexpr double kMaxLayerNumber = 1 << 24;  // units, filters, kernel, shape entries
inline constexpr int64_t kMaxDuOutputs = 1 << 16;   // num_classes, output_columns
inline constexpr int64_t kMaxSubnetParameters = int64_t{1} << 28;  // 1 GiB of float32
inline constexpr int64_t kMaxValuesPerSample = int64_t{1} << 26;   // input or any activation
inline constexpr int64_t kMaxBatchSize = 1 << 16;
inline constexpr int64_t kMaxBatchValues = int64_t{1} << 30;  // batch x largest activation
inline constexpr int64_t kMaxEpochs = 1000000;

struct SubnetSpec {
  int index = 0;
  ModelSpec model;  // resolved: every number is a literal; output layer sized for the subnet
  TrainSpec train;  // epochs resolved to a literal in `epochs`
  int64_t epochs = 1;
  std::map<std::string, int64_t> widths;  // the tagged variables after reduction
  uint64_t seed = 0;                      // derived from the program seed and the index
  // What the subnet learns (one of, by problem type):
  std::vector<int64_t> classes;  // multiclass: S_i, sorted; output rank r = class classes[r]
  int half = -1;                 // binary: which stratified half of the samples (0 or 1)
  int64_t column_begin = 0;      // regression: output columns [begin, end)
  int64_t column_end = 0;
  // Estimates used to pack and assign DUs.
  double cost = 0;  // FLOPs of training: 3 x forward x samples x epochs
  int64_t parameter_bytes = 0;
  int64_t train_samples = 0;  // expected, for cost and progress
};

// The part of the program every subnet shares.
struct ProjectProgram {
  std::string name;
  ProblemType problem = ProblemType::kMulticlass;
  std::vector<std::string> metrics;
  uint64_t seed = 42;
  DataSpec data;
  int64_t num_classes = 0;     // multiclass and binary
  int64_t output_columns = 0;  // regression
  int k = 0;                   // number of subnets
  int groups = 0;              // multiclass g
  double factor = 1;           // F
};

struct DuSpec {
  int index = 0;
  bool main_program = false;  // DU 0: data checks, composition, metrics
  ProjectProgram program;
  std::vector<SubnetSpec> subnets;
  std::optional<SubnetSpec> baseline;  // DU 0 only: the original network, for comparison
  std::string generation;              // the maker run that wrote it; matches du_list.json
  double cost = 0;
  int64_t size_bytes = 0;
};

Json ToJson(const DuSpec& du);
// `source` names the file in messages. Validates types and ranges.
Result<DuSpec> DuSpecFromJson(const Json& json, const std::string& source);

Json ToJson(const ModelSpec& model);
Result<ModelSpec> ModelSpecFromJson(const Json& json, const std::string& source);
Json ToJson(const TrainSpec& train);
Json ToJson(const DataSpec& data);

}  // namespace cloudbook
