#include "shared/subnet_spec.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "shared/model_plan.h"

namespace cloudbook {

namespace {

constexpr int64_t kMaxSequenceValue = int64_t{1} << 24;  // padding ids stay exact as float32

const char* PolicyName(EpochsPolicy policy) {
  switch (policy) {
    case EpochsPolicy::kTable:
      return "table";
    case EpochsPolicy::kReduce:
      return "reduce";
    case EpochsPolicy::kKeep:
      return "keep";
  }
  return "table";
}

Json NumberToJson(const NumberOrVar& number) {
  if (number.is_var()) return number.var;
  return number.value;
}

NumberOrVar NumberFromJson(const Json& json) {
  NumberOrVar number;
  if (json.is_string()) {
    number.var = json.get<std::string>();
  } else {
    number.value = json.get<double>();
  }
  return number;
}

Json ToJson(const ArraySource& source) {
  Json json = {{"format", source.format}, {"path", source.path}, {"scale", source.scale}};
  if (source.format == "csv") {
    json["columns"] = source.columns;
    json["header"] = source.header;
    json["delimiter"] = std::string(1, source.delimiter);
  }
  if (source.format == "npz") json["key"] = source.key;
  if (source.format == "sequences") {
    const SequenceOptions& o = source.sequences;
    json["sequences"] = {{"maxlen", o.maxlen},
                         {"padding_post", o.padding_post},
                         {"truncating_post", o.truncating_post},
                         {"value", o.value},
                         {"num_words", o.num_words},
                         {"oov", o.oov}};
  }
  return json;
}

ArraySource ArraySourceFromJson(const Json& json) {
  ArraySource source;
  source.format = json.at("format").get<std::string>();
  source.path = json.value("path", "");
  source.scale = json.value("scale", 1.0);
  source.columns = json.value("columns", std::vector<std::string>{});
  source.header = json.value("header", true);
  const std::string delimiter = json.value("delimiter", ",");
  source.delimiter = delimiter.empty() ? ',' : delimiter[0];
  source.key = json.value("key", "");
  if (json.contains("sequences")) {
    const Json& o = json.at("sequences");
    SequenceOptions& options = source.sequences;
    options.maxlen = o.at("maxlen").get<int64_t>();
    options.padding_post = o.at("padding_post").get<bool>();
    options.truncating_post = o.at("truncating_post").get<bool>();
    options.value = o.at("value").get<int64_t>();
    options.num_words = o.at("num_words").get<int64_t>();
    options.oov = o.at("oov").get<int64_t>();
    if (options.maxlen < 0 || options.maxlen > kMaxValuesPerSample || options.num_words < 0 ||
        options.oov < 0 || options.value < -kMaxSequenceValue ||
        options.value > kMaxSequenceValue) {
      throw std::invalid_argument("sequences: maxlen, num_words, oov or value out of range");
    }
  }
  return source;
}

Json ToJson(const DataSplit& split) {
  if (split.images) {  // an image folder has no x and y
    const ImageFolderSource& images = *split.images;
    return {{"images", {{"path", images.path}, {"color", images.color}, {"scale", images.scale}}}};
  }
  return {{"x", ToJson(split.x)}, {"y", ToJson(split.y)}};
}

DataSplit DataSplitFromJson(const Json& json) {
  if (json.contains("images")) {
    const Json& images = json.at("images");
    DataSplit split;
    split.images = ImageFolderSource{images.at("path").get<std::string>(),
                                     images.value("color", ""), images.value("scale", 1.0)};
    return split;
  }
  return {ArraySourceFromJson(json.at("x")), ArraySourceFromJson(json.at("y")), std::nullopt};
}

DataSpec DataSpecFromJson(const Json& json) {
  DataSpec data;
  data.train = DataSplitFromJson(json.at("train"));
  if (json.contains("test") && !json["test"].is_null()) data.test = DataSplitFromJson(json["test"]);
  data.validation_split = json.value("validation_split", 0.0);
  data.train_limit = json.value("train_limit", int64_t{0});
  data.test_limit = json.value("test_limit", int64_t{0});
  // The data words of docs/program-format.md, present only when the program sets them.
  auto slice = [&](const char* key) -> std::optional<RowSlice> {
    if (!json.contains(key)) return std::nullopt;
    RowSlice rows;
    const Json& bounds = json.at(key);
    if (!bounds.at(0).is_null()) rows.begin = bounds.at(0).get<int64_t>();
    if (!bounds.at(1).is_null()) rows.end = bounds.at(1).get<int64_t>();
    return rows;
  };
  data.train_rows = slice("train_rows");
  data.test_rows = slice("test_rows");
  if (json.contains("shuffle_seed")) data.shuffle_seed = json["shuffle_seed"].get<uint32_t>();
  if (json.contains("train_subset")) {
    data.train_subset = TrainSubset{json["train_subset"].at("count").get<int64_t>(),
                                    json["train_subset"].at("seed").get<uint32_t>()};
  }
  data.label_map = json.value("label_map", std::vector<int64_t>{});
  if (json.contains("validation")) data.validation = DataSplitFromJson(json["validation"]);
  if (json.contains("test_split")) {
    data.test_split = TestSplitSpec{json["test_split"].at("fraction").get<double>(),
                                    json["test_split"].at("seed").get<uint64_t>()};
  }
  return data;
}

TrainSpec TrainSpecFromJson(const Json& json) {
  TrainSpec train;
  train.optimizer = json.at("optimizer").get<std::string>();
  train.learning_rate = json.at("learning_rate").get<double>();
  train.momentum = json.value("momentum", 0.0);
  train.loss = json.at("loss").get<std::string>();
  train.batch_size = json.at("batch_size").get<int64_t>();
  train.threads = json.value("threads", kDefaultTrainingThreads);
  train.epochs = NumberFromJson(json.at("epochs"));
  const std::string policy = json.value("epochs_policy", "table");
  train.epochs_policy = policy == "reduce" ? EpochsPolicy::kReduce
                        : policy == "keep" ? EpochsPolicy::kKeep
                                           : EpochsPolicy::kTable;
  return train;
}

ProblemType ProblemFromName(const std::string& name) {
  if (name == "binary") return ProblemType::kBinary;
  if (name == "regression") return ProblemType::kRegression;
  if (name == "multiclass") return ProblemType::kMulticlass;
  throw std::invalid_argument("unknown problem type '" + name + "'");
}

Json ToJson(const SubnetSpec& subnet) {
  Json json = {{"index", subnet.index},
               {"model", ToJson(subnet.model)},
               {"train", ToJson(subnet.train)},
               {"epochs", subnet.epochs},
               {"widths", subnet.widths},
               {"seed", subnet.seed},
               {"cost", subnet.cost},
               {"parameter_bytes", subnet.parameter_bytes},
               {"train_samples", subnet.train_samples}};
  if (!subnet.classes.empty()) json["classes"] = subnet.classes;
  if (subnet.half >= 0) json["half"] = subnet.half;
  if (subnet.column_end > subnet.column_begin) {
    json["columns"] = {subnet.column_begin, subnet.column_end};
  }
  return json;
}

SubnetSpec SubnetFromJson(const Json& json, const std::string& source) {
  SubnetSpec subnet;
  subnet.index = json.at("index").get<int>();
  auto model = ModelSpecFromJson(json.at("model"), source);
  if (!model.ok()) throw std::invalid_argument(model.status().message());
  subnet.model = std::move(model).value();
  subnet.train = TrainSpecFromJson(json.at("train"));
  subnet.epochs = json.at("epochs").get<int64_t>();
  subnet.widths = json.value("widths", std::map<std::string, int64_t>{});
  subnet.seed = json.at("seed").get<uint64_t>();
  subnet.cost = json.value("cost", 0.0);
  subnet.parameter_bytes = json.value("parameter_bytes", int64_t{0});
  subnet.train_samples = json.value("train_samples", int64_t{0});
  subnet.classes = json.value("classes", std::vector<int64_t>{});
  subnet.half = json.value("half", -1);
  if (json.contains("columns")) {
    const auto columns = json["columns"].get<std::vector<int64_t>>();
    if (columns.size() != 2 || columns[0] < 0 || columns[1] <= columns[0]) {
      throw std::invalid_argument("subnet " + std::to_string(subnet.index) +
                                  ": columns must be [begin, end) with begin < end");
    }
    subnet.column_begin = columns[0];
    subnet.column_end = columns[1];
  }
  if (subnet.epochs < 1 || subnet.epochs > kMaxEpochs) {
    throw std::invalid_argument("subnet " + std::to_string(subnet.index) + ": epochs out of range");
  }
  return subnet;
}

}  // namespace

Json ToJson(const ModelSpec& model) {
  Json layers = Json::array();
  for (const LayerSpec& layer : model.layers) {
    Json numbers = Json::object();
    for (const auto& [key, values] : layer.numbers) {
      Json list = Json::array();
      for (const auto& value : values) list.push_back(NumberToJson(value));
      numbers[key] = list;
    }
    Json entry = {{"type", layer.type}, {"numbers", numbers}, {"words", layer.words}};
    // Only in DAG programs: plain lists (and their checkpoint fingerprints) stay as they were.
    if (!layer.name.empty()) entry["name"] = layer.name;
    if (!layer.inputs.empty()) entry["inputs"] = layer.inputs;
    layers.push_back(std::move(entry));
  }
  return {{"input", model.input_shape}, {"input_dtype", model.input_dtype}, {"layers", layers}};
}

Result<ModelSpec> ModelSpecFromJson(const Json& json, const std::string& source) {
  try {
    ModelSpec model;
    model.input_shape = json.at("input").get<std::vector<int64_t>>();
    model.input_dtype = json.value("input_dtype", "float");
    for (const Json& entry : json.at("layers")) {
      LayerSpec layer;
      layer.type = entry.at("type").get<std::string>();
      const Json numbers = entry.value("numbers", Json::object());  // items() needs an lvalue
      for (const auto& [key, values] : numbers.items()) {
        for (const Json& value : values) layer.numbers[key].push_back(NumberFromJson(value));
      }
      layer.words = entry.value("words", std::map<std::string, std::string>{});
      layer.name = entry.value("name", "");  // absent in plain lists and older DU files
      layer.inputs = entry.value("inputs", std::vector<std::string>{});
      model.layers.push_back(std::move(layer));
    }
    return model;
  } catch (const std::exception& error) {
    return Status::Corruption(source + ": model: " + error.what());
  }
}

Json ToJson(const TrainSpec& train) {
  Json json = {{"optimizer", train.optimizer},
               {"learning_rate", train.learning_rate},
               {"momentum", train.momentum},
               {"loss", train.loss},
               {"batch_size", train.batch_size},
               {"epochs", NumberToJson(train.epochs)},
               {"epochs_policy", PolicyName(train.epochs_policy)}};
  // Only when set: DU files and checkpoint fingerprints of default programs stay as they were.
  if (train.threads != kDefaultTrainingThreads) json["threads"] = train.threads;
  return json;
}

Json ToJson(const DataSpec& data) {
  Json json = {{"train", ToJson(data.train)},
               {"validation_split", data.validation_split},
               {"train_limit", data.train_limit},
               {"test_limit", data.test_limit}};
  json["test"] = data.test ? ToJson(*data.test) : Json(nullptr);
  // Only when set: DU files of programs without these words stay as they were.
  auto slice = [](const RowSlice& rows) {
    return Json::array({rows.begin ? Json(*rows.begin) : Json(nullptr),
                        rows.end ? Json(*rows.end) : Json(nullptr)});
  };
  if (data.train_rows) json["train_rows"] = slice(*data.train_rows);
  if (data.test_rows) json["test_rows"] = slice(*data.test_rows);
  if (data.shuffle_seed) json["shuffle_seed"] = *data.shuffle_seed;
  if (data.train_subset) {
    json["train_subset"] = {{"count", data.train_subset->count}, {"seed", data.train_subset->seed}};
  }
  if (!data.label_map.empty()) json["label_map"] = data.label_map;
  if (data.validation) json["validation"] = ToJson(*data.validation);
  if (data.test_split) {  // only when set: DU files of other programs stay as they were
    json["test_split"] = {{"fraction", data.test_split->fraction}, {"seed", data.test_split->seed}};
  }
  return json;
}

Json ToJson(const DuSpec& du) {
  const ProjectProgram& program = du.program;
  Json subnets = Json::array();
  for (const SubnetSpec& subnet : du.subnets) subnets.push_back(ToJson(subnet));
  return {{"format_version", kDuFormatVersion},
          {"index", du.index},
          {"main_program", du.main_program},
          {"cost", du.cost},
          {"size_bytes", du.size_bytes},
          {"program",
           {{"name", program.name},
            {"problem", ProblemTypeName(program.problem)},
            {"metrics", program.metrics},
            {"seed", program.seed},
            {"data", ToJson(program.data)},
            {"num_classes", program.num_classes},
            {"output_columns", program.output_columns},
            {"k", program.k},
            {"groups", program.groups},
            {"factor", program.factor}}},
          {"subnets", subnets},
          {"baseline", du.baseline ? ToJson(*du.baseline) : Json(nullptr)},
          {"generation", du.generation}};
}

namespace {

// The sizes a subnet asks for, checked against the kMax* bounds before a network, a batch or
// an output is allocated from them (a memory bomb is refused here, not by the allocator).
Status ValidateSubnetSizes(const SubnetSpec& subnet, const std::string& name) {
  auto bad = [&](const std::string& what) { return Status::Corruption(name + ": " + what); };
  const ModelSpec& model = subnet.model;
  if (model.layers.size() > kMaxDuLayers) {
    return bad(std::to_string(model.layers.size()) + " layers, over the limit of " +
               std::to_string(kMaxDuLayers));
  }
  if (model.input_shape.empty() || model.input_shape.size() > 4) {
    return bad("model.input must have 1 to 4 sizes");
  }
  double input_values = 1;
  for (int64_t size : model.input_shape) {
    if (size < 1) return bad("model.input sizes must be positive");
    input_values *= static_cast<double>(size);
  }
  if (input_values > static_cast<double>(kMaxValuesPerSample)) {
    return bad("model.input has more than " + std::to_string(kMaxValuesPerSample) +
               " values per sample");
  }
  for (const LayerSpec& layer : model.layers) {
    for (const auto& [key, values] : layer.numbers) {
      if (values.size() > kMaxLayerValues) return bad(layer.type + "." + key + ": too many values");
      for (const NumberOrVar& number : values) {
        // Unresolved variables and NaN or huge numbers would reach int64 casts in the plan.
        if (number.is_var() || !std::isfinite(number.value) ||
            std::fabs(number.value) > kMaxLayerNumber) {
          return bad(layer.type + "." + key + " is not a number in [-" +
                     std::to_string(static_cast<int64_t>(kMaxLayerNumber)) + ", " +
                     std::to_string(static_cast<int64_t>(kMaxLayerNumber)) + "]");
        }
      }
    }
  }
  for (const auto& [variable, width] : subnet.widths) {
    if (width < 0 || static_cast<double>(width) > kMaxLayerNumber) {
      return bad("width " + variable + " out of range");
    }
  }
  const TrainSpec& train = subnet.train;
  if (train.batch_size < 1 || train.batch_size > kMaxBatchSize) {
    return bad("train.batch_size must be in 1.." + std::to_string(kMaxBatchSize));
  }
  if (train.threads < 1 || train.threads > kMaxTrainingThreads) {
    return bad("train.threads must be in 1.." + std::to_string(kMaxTrainingThreads));
  }
  if (!std::isfinite(train.learning_rate) || train.learning_rate <= 0 ||
      !std::isfinite(train.momentum)) {
    return bad("train.learning_rate and momentum must be finite, the rate positive");
  }
  CB_ASSIGN_OR_RETURN(const ModelPlan plan, PlanModel(model, name));
  if (plan.parameters > kMaxSubnetParameters) {
    return bad(std::to_string(plan.parameters) + " parameters, over the limit of " +
               std::to_string(kMaxSubnetParameters));
  }
  int64_t widest = 0;
  for (const PlannedLayer& layer : plan.layers) {
    int64_t values = 1;
    for (int64_t size : layer.output_shape) {
      if (__builtin_mul_overflow(values, size, &values)) values = kMaxValuesPerSample + 1;
    }
    widest = std::max({widest, values, layer.inner_values});
  }
  if (widest > kMaxValuesPerSample) {
    return bad("a layer outputs more than " + std::to_string(kMaxValuesPerSample) +
               " values per sample");
  }
  if (static_cast<double>(widest) * static_cast<double>(train.batch_size) >
      static_cast<double>(kMaxBatchValues)) {
    return bad("batch_size " + std::to_string(train.batch_size) + " x " + std::to_string(widest) +
               " values per sample is over the limit of " + std::to_string(kMaxBatchValues));
  }
  return Status::Ok();
}

}  // namespace

// Ranges a DU file must respect before anything indexes with its numbers or allocates from
// them (a forged or torn file must not make a reader write out of bounds or exhaust memory).
Status ValidateUnit(const DuSpec& du, const std::string& source) {
  const ProjectProgram& program = du.program;
  auto bad = [&](const std::string& what) { return Status::Corruption(source + ": " + what); };
  if (du.index < 0) return bad("index must be >= 0");
  if (program.k < 1 || program.k > kMaxDuSubnets) return bad("program.k out of range");
  if (du.subnets.size() > static_cast<size_t>(program.k)) {
    return bad("more subnets than program.k");
  }
  const DataSpec& data = program.data;
  if (data.train_limit < 0 || data.test_limit < 0 || !(data.validation_split >= 0) ||
      !(data.validation_split < 1)) {
    return bad("program.data: limits must be >= 0 and validation_split in [0, 1)");
  }
  if ((data.validation && data.validation_split > 0) ||
      (data.train_subset && data.train_subset->count < 1) ||
      data.label_map.size() > static_cast<size_t>(kMaxDuOutputs)) {
    return bad(
        "program.data: validation with validation_split, a train_subset count < 1 or a "
        "label_map over " +
        std::to_string(kMaxDuOutputs) + " entries");
  }
  if (data.test_split && !(data.test_split->fraction > 0 && data.test_split->fraction < 1)) {
    return bad("program.data.test_split.fraction must be in (0, 1)");
  }
  constexpr int64_t kMaxOutputs = kMaxDuOutputs;
  std::vector<const SubnetSpec*> all;
  for (const SubnetSpec& subnet : du.subnets) all.push_back(&subnet);
  if (du.baseline) all.push_back(&*du.baseline);
  for (const SubnetSpec* subnet : all) {
    CB_RETURN_IF_ERROR(
        ValidateSubnetSizes(*subnet, source + ": subnet " + std::to_string(subnet->index)));
  }
  for (const SubnetSpec& subnet : du.subnets) {
    const std::string name = "subnet " + std::to_string(subnet.index);
    if (subnet.index < 0) return bad(name + ": index must be >= 0");
    switch (program.problem) {
      case ProblemType::kMulticlass: {
        if (program.num_classes < 2 || program.num_classes > kMaxOutputs) {
          return bad("program.num_classes out of range");
        }
        if (subnet.classes.empty()) return bad(name + ": no classes");
        for (size_t i = 0; i < subnet.classes.size(); ++i) {
          const int64_t c = subnet.classes[i];
          if (c < 0 || c >= program.num_classes || (i > 0 && c <= subnet.classes[i - 1])) {
            return bad(name + ": classes must be ascending ids in 0.." +
                       std::to_string(program.num_classes - 1));
          }
        }
        break;
      }
      case ProblemType::kBinary:
        if (program.num_classes != 2) return bad("program.num_classes must be 2 for binary");
        if (subnet.half < -1 || subnet.half > 1) return bad(name + ": half must be 0 or 1");
        break;
      case ProblemType::kRegression:
        if (program.output_columns < 1 || program.output_columns > kMaxOutputs) {
          return bad("program.output_columns out of range");
        }
        if (subnet.column_end > program.output_columns) {
          return bad(name + ": columns beyond the " + std::to_string(program.output_columns) +
                     " output columns");
        }
        break;
    }
  }
  return Status::Ok();
}

Result<DuSpec> DuSpecFromJson(const Json& json, const std::string& source) {
  try {
    const int version = json.at("format_version").get<int>();
    if (version != kDuFormatVersion) {
      return Status::Corruption(source + ": DU format version " + std::to_string(version) +
                                " (this build reads version " + std::to_string(kDuFormatVersion) +
                                "); re-run cloudbook-maker");
    }
    DuSpec du;
    du.index = json.at("index").get<int>();
    du.main_program = json.at("main_program").get<bool>();
    du.cost = json.value("cost", 0.0);
    du.size_bytes = json.value("size_bytes", int64_t{0});
    const Json& program = json.at("program");
    du.program.name = program.at("name").get<std::string>();
    du.program.problem = ProblemFromName(program.at("problem").get<std::string>());
    du.program.metrics = program.value("metrics", std::vector<std::string>{});
    du.program.seed = program.at("seed").get<uint64_t>();
    du.program.data = DataSpecFromJson(program.at("data"));
    du.program.num_classes = program.value("num_classes", int64_t{0});
    du.program.output_columns = program.value("output_columns", int64_t{0});
    du.program.k = program.at("k").get<int>();
    du.program.groups = program.value("groups", 0);
    du.program.factor = program.at("factor").get<double>();
    for (const Json& subnet : json.at("subnets"))
      du.subnets.push_back(SubnetFromJson(subnet, source));
    if (json.contains("baseline") && !json["baseline"].is_null()) {
      du.baseline = SubnetFromJson(json["baseline"], source);
    }
    du.generation = json.value("generation", "");
    CB_RETURN_IF_ERROR(ValidateUnit(du, source));
    return du;
  } catch (const std::exception& error) {
    return Status::Corruption(source + ": not a valid DU file: " + error.what());
  }
}

}  // namespace cloudbook
