#include "shared/nn/torchscript_export.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <boost/filesystem.hpp>

#include "shared/nn/model_predictor.h"
#include "shared/nn/subnet_trainer_access.h"

namespace cloudbook {

namespace {

namespace fs = boost::filesystem;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

// The tracer records a C++ size as a constant, so the network is traced at two batch sizes
// and the constants that differ become the input's batch size (times the same factor in
// both). Primes nobody writes as a layer width; the probe's size is a third one.
constexpr int64_t kTraceBatchA = 17;
constexpr int64_t kTraceBatchB = 23;
constexpr int64_t kProbeBatch = 7;
// Largest |exported - predictor| accepted on the probe batch (both compute in float32; the
// composition's logs and exps may round differently in the last bit).
constexpr double kProbeTolerance = 1e-5;

std::string SubnetLabel(int index) { return "subnet " + std::to_string(index); }

std::string ListText(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

// Raw probe samples: varied values in [0, scale] (or ids 0 and 1 for integer inputs, which
// every vocabulary has), deterministic.
torch::Tensor ProbeInput(const RunModel& model, bool integer_input, double scale) {
  std::vector<int64_t> shape = {kProbeBatch};
  shape.insert(shape.end(), model.input_shape.begin(), model.input_shape.end());
  auto probe = torch::arange(torch::tensor(shape).prod().item<int64_t>(), torch::kDouble);
  probe = (probe * 0.618033988749895).frac();
  probe = integer_input ? (probe * 2).floor() : (probe * 255).floor() / 255 * scale;
  return probe.to(torch::kFloat32).reshape(shape);
}

// Raw samples divided as the data loader divides (in double, rounded to float).
torch::Tensor ScaleInput(const torch::Tensor& raw, double scale) {
  return (raw.to(torch::kDouble) / scale).to(torch::kFloat32);
}

// A jit module holding the network's parameters and buffers (the same tensors, so the tracer
// maps them to attribute reads), named after the network's own names.
Result<torch::jit::Module> SubnetModule(const std::shared_ptr<torch::jit::CompilationUnit>& unit,
                                        Net& net, int index) {
  torch::jit::Module module(
      c10::QualifiedName("__torch__.cloudbook.Subnet" + std::to_string(index)), unit);
  std::set<std::string> names;
  auto add = [&](const std::string& name, const torch::Tensor& tensor, bool parameter) -> Status {
    std::string attribute = name;
    std::replace(attribute.begin(), attribute.end(), '.', '_');
    if (!names.insert(attribute).second) {
      return Status::Internal(SubnetLabel(index) + ": two tensors named " + attribute);
    }
    if (parameter) {
      module.register_parameter(attribute, tensor, /*is_buffer=*/false);
    } else {
      module.register_buffer(attribute, tensor);
    }
    return Status::Ok();
  };
  for (const auto& item : net->named_parameters(/*recurse=*/true)) {
    CB_RETURN_IF_ERROR(add(item.key(), item.value(), true));
  }
  for (const auto& item : net->named_buffers(/*recurse=*/true)) {
    CB_RETURN_IF_ERROR(add(item.key(), item.value(), false));
  }
  return module;
}

std::shared_ptr<Graph> TraceAt(torch::jit::Module& module, SubnetTrainer& trainer,
                               const torch::Tensor& example) {
  auto forward = [&trainer](torch::jit::Stack inputs) -> torch::jit::Stack {
    return {SubnetTrainerAccess::Outputs(trainer, inputs.at(0).toTensor())};
  };
  auto no_names = [](const torch::autograd::Variable&) { return std::string(); };
  auto traced = torch::jit::tracer::trace({example}, forward, no_names, /*strict=*/true,
                                          /*force_outplace=*/false, &module);
  return traced.first->graph;
}

bool SameConstant(const c10::IValue& a, const c10::IValue& b) {
  if (a.isTensor() && b.isTensor()) {
    const auto& x = a.toTensor();
    const auto& y = b.toTensor();
    return x.sizes() == y.sizes() && x.dtype() == y.dtype() && torch::equal(x, y);
  }
  if (a.isTensor() != b.isTensor()) return false;
  return a == b;
}

// Turns the constants that differ between the traces at kTraceBatchA (`graph`) and at
// kTraceBatchB (`other`) into multiples of the input's batch size, so the graph takes any
// batch. Fails when the two traces differ otherwise (the network's operations depend on the
// batch size).
Status GeneraliseBatchSize(Graph& graph, const Graph& other, const std::string& label) {
  const std::vector<Node*> nodes(graph.nodes().begin(), graph.nodes().end());
  const std::vector<const Node*> others(other.nodes().begin(), other.nodes().end());
  auto differs = [&label](const std::string& what) {
    return Status::InvalidArgument(
        label + ": its network cannot be traced into a graph that takes any batch size (" + what +
        "); export does not support it yet");
  };
  if (nodes.size() != others.size()) return differs("the traces have different operations");
  Value* batch = nullptr;
  std::map<int64_t, Value*> multiples;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node* node = nodes[i];
    if (node->kind() != others[i]->kind()) {
      return differs(std::string("operation ") + node->kind().toQualString() + " against " +
                     others[i]->kind().toQualString());
    }
    if (node->kind() != c10::prim::Constant || node->outputs().size() != 1) continue;
    const auto a = torch::jit::toIValue(node->output());
    const auto b = torch::jit::toIValue(others[i]->output());
    if (!a || !b || SameConstant(*a, *b)) continue;
    if (!a->isInt() || !b->isInt() || a->toInt() % kTraceBatchA != 0 ||
        b->toInt() % kTraceBatchB != 0 || a->toInt() / kTraceBatchA != b->toInt() / kTraceBatchB) {
      return differs("a constant that is not a multiple of the batch size changes with it");
    }
    const int64_t factor = a->toInt() / kTraceBatchA;
    if (batch == nullptr) {
      torch::jit::WithInsertPoint at_start(graph.nodes().front());
      batch = graph.insert(c10::aten::size, {graph.inputs().at(1), int64_t{0}});
    }
    Value*& multiple = multiples[factor];
    if (multiple == nullptr) {
      torch::jit::WithInsertPoint after_batch(batch->node()->next());
      multiple = factor == 1 ? batch : graph.insert(c10::aten::mul, {batch, factor});
    }
    node->output()->replaceAllUsesWith(multiple);
  }
  return Status::Ok();
}

// "dense, dropout, dense": the layer types of the subnet's network, to name in a refusal.
std::string LayerTypes(const SubnetSpec& subnet) {
  std::string types;
  std::set<std::string> seen;
  for (const LayerSpec& layer : subnet.model.layers) {
    if (seen.insert(layer.type).second) types += (types.empty() ? "" : ", ") + layer.type;
  }
  return types;
}

// The traced subnet as a module whose forward(x) takes the scaled input Predict takes.
Result<torch::jit::Module> TraceSubnet(const std::shared_ptr<torch::jit::CompilationUnit>& unit,
                                       SubnetTrainer& trainer, const RunModel& model,
                                       const SubnetSpec& subnet) {
  const int index = subnet.index;
  const std::string label = SubnetLabel(index);
  CB_ASSIGN_OR_RETURN(torch::jit::Module module,
                      SubnetModule(unit, SubnetTrainerAccess::EvalNet(trainer), index));
  auto example = [&model](int64_t batch) {
    std::vector<int64_t> shape = {batch};
    shape.insert(shape.end(), model.input_shape.begin(), model.input_shape.end());
    return torch::zeros(shape, torch::kFloat32);
  };
  torch::NoGradGuard no_grad;
  std::shared_ptr<Graph> graph = TraceAt(module, trainer, example(kTraceBatchA));
  std::shared_ptr<Graph> other = TraceAt(module, trainer, example(kTraceBatchB));
  CB_RETURN_IF_ERROR(
      GeneraliseBatchSize(*graph, *other, label + " (layers " + LayerTypes(subnet) + ")"));
  auto* forward =
      unit->create_function(c10::QualifiedName(*module.type()->name(), "forward"), graph);
  module.type()->addMethod(forward);
  return module;
}

c10::List<int64_t> IntList(const std::vector<int64_t>& values) {
  c10::List<int64_t> list;
  for (int64_t value : values) list.push_back(value);
  return list;
}

// Checks the raw input and divides it as the data loader does; shared by every rule.
constexpr char kInputSource[] = R"TS(
def _input(self, x: Tensor) -> Tensor:
    per_sample = 1
    for size in self.input_shape:
        per_sample = per_sample * size
    assert x.dim() >= 1 and x.numel() == x.size(0) * per_sample, "input of shape " + str(x.shape) + ": the model takes [samples] + " + str(self.input_shape) + " (raw values, samples first)"
    shape = [x.size(0)]
    shape.extend(self.input_shape)
    return (x.reshape(shape).double() / self.input_scale).float()
)TS";

// The composing methods of the model, TorchScript source (shared/composed_score.cc's
// ComposeOutputs, step for step).
std::string ComposeSource(const RunModel& model, const std::vector<SubnetSpec>& subnets) {
  std::ostringstream source;
  source << kInputSource;
  const std::string n = std::to_string(model.outputs());
  if (model.problem == ProblemType::kMulticlass) {
    source << "\ndef _log_scores(self, x: Tensor) -> Tensor:\n"
              "    x = self._input(x)\n"
              "    scores = torch.zeros([x.size(0), "
           << n << "])\n";
    for (const SubnetSpec& subnet : subnets) {
      const std::string i = std::to_string(subnet.index);
      source << "    scores = scores.index_add(1, self.classes_" << i
             << ", torch.log(torch.clamp(self.subnet_" << i
             << ".forward(x), min=self.tiny_probability)))\n";
    }
    source << "    return scores\n"
              "\ndef forward(self, x: Tensor) -> Tensor:\n"
              "    scores = self._log_scores(x)\n"
              "    top = torch.max(scores, 1, keepdim=True)[0]\n"
              "    e = torch.exp((scores - top).double())\n"
              "    return (e / e.sum(1, keepdim=True)).float()\n"
              "\ndef predict_classes(self, x: Tensor) -> Tensor:\n"
              "    return torch.argmax(self._log_scores(x), 1)\n";
  } else if (model.problem == ProblemType::kBinary) {
    source << "\ndef forward(self, x: Tensor) -> Tensor:\n"
              "    x = self._input(x)\n"
              "    a = self.subnet_"
           << subnets.at(0).index << ".forward(x)\n    b = self.subnet_" << subnets.at(1).index
           << ".forward(x)\n"
              "    surer = torch.abs(b[:, 0] - b[:, 1]) > torch.abs(a[:, 0] - a[:, 1])\n"
              "    return torch.where(surer.unsqueeze(1), b, a)\n"
              "\ndef predict_classes(self, x: Tensor) -> Tensor:\n"
              "    return torch.argmax(self.forward(x), 1)\n";
  } else {
    source << "\ndef forward(self, x: Tensor) -> Tensor:\n"
              "    x = self._input(x)\n"
              "    out = torch.zeros([x.size(0), "
           << n << "])\n";
    for (const SubnetSpec& subnet : subnets) {
      source << "    out[:, " << subnet.column_begin << ":" << subnet.column_end
             << "] = self.subnet_" << subnet.index << ".forward(x)\n";
    }
    source << "    return out\n"
              "\ndef predict_classes(self, x: Tensor) -> Tensor:\n"
              "    assert False, \"a regression model has no classes: use forward\"\n"
              "    return torch.zeros([0]).long()\n";
  }
  return source.str();
}

// The predictor's answer on `raw`: each subnet's Outputs on the scaled input, composed by
// ComposeModelOutputs (what ModelPredictor::Predict does).
Result<ComposedOutputs> PredictorAnswer(const RunModel& model,
                                        const std::vector<SubnetSpec>& subnets,
                                        std::vector<std::unique_ptr<SubnetTrainer>>& trainers,
                                        const torch::Tensor& raw, double scale) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = ScaleInput(raw, scale);
  std::map<int, Array> outputs;
  for (size_t i = 0; i < trainers.size(); ++i) {
    const torch::Tensor out = SubnetTrainerAccess::Outputs(*trainers[i], x).contiguous();
    Array array;
    array.shape = out.sizes().vec();
    array.values.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    outputs[subnets[i].index] = std::move(array);
  }
  return ComposeModelOutputs(model, outputs);
}

// Largest difference between the module's answer on `raw` and the predictor's; InvalidArgument
// above the tolerance or when a predicted class differs.
Result<double> CheckAgainstPredictor(torch::jit::Module& module, const torch::Tensor& raw,
                                     const ComposedOutputs& expected, bool classification,
                                     const std::string& what) {
  torch::NoGradGuard no_grad;
  const torch::Tensor outputs = module.forward({raw}).toTensor().contiguous();
  const torch::Tensor reference = torch::from_blob(
      const_cast<float*>(expected.outputs.values.data()), expected.outputs.shape, torch::kFloat32);
  if (outputs.sizes() != reference.sizes()) {
    return Status::Internal(what + " answers a " + ListText(outputs.sizes().vec()) +
                            " tensor; the predictor " + ListText(reference.sizes().vec()));
  }
  const double difference = (outputs - reference).abs().max().item<double>();
  if (!(difference <= kProbeTolerance)) {
    return Status::Internal(what + " differs from the predictor by " + std::to_string(difference) +
                            " on a probe batch");
  }
  if (classification) {
    const torch::Tensor classes = module.get_method("predict_classes")({raw}).toTensor();
    const std::vector<int64_t> ids(classes.data_ptr<int64_t>(),
                                   classes.data_ptr<int64_t>() + classes.numel());
    if (ids != expected.predictions) {
      return Status::Internal(what + " predicts classes " + ListText(ids) + "; the predictor " +
                              ListText(expected.predictions));
    }
  }
  return difference;
}

Result<TorchScriptExport> Export(const RunModel& model, const std::string& output_path) {
  const std::vector<SubnetSpec> subnets = model.subnets();
  if (subnets.empty())
    return Status::InvalidArgument("the model of run '" + model.run + "' has no subnets");
  const double scale = ModelInputScale(model);
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module top(c10::QualifiedName("__torch__.cloudbook.ComposedModel"), unit);
  std::vector<std::unique_ptr<SubnetTrainer>> trainers;
  bool integer_input = false;
  for (const SubnetSpec& subnet : subnets) {
    CB_ASSIGN_OR_RETURN(std::unique_ptr<SubnetTrainer> trainer,
                        SubnetTrainer::Create(subnet, model.problem));
    CB_RETURN_IF_ERROR(trainer->LoadFinishedCheckpoint(model.folder));
    integer_input = integer_input || SubnetTrainerAccess::IntegerInput(*trainer);
    CB_ASSIGN_OR_RETURN(torch::jit::Module traced, TraceSubnet(unit, *trainer, model, subnet));
    top.register_module("subnet_" + std::to_string(subnet.index), traced);
    if (model.problem == ProblemType::kMulticlass) {
      top.register_buffer("classes_" + std::to_string(subnet.index),
                          torch::tensor(subnet.classes, torch::kLong));
    }
    trainers.push_back(std::move(trainer));
  }
  const bool classification = model.problem != ProblemType::kRegression;
  std::vector<std::string> names = model.class_names;
  std::vector<int64_t> ids;
  if (classification) {
    for (int64_t c = 0; c < model.outputs(); ++c) ids.push_back(c);
  }
  c10::List<std::string> class_names;
  for (const std::string& name : names) class_names.push_back(name);
  top.register_attribute("class_names", c10::ListType::ofStrings(), class_names);
  top.register_attribute("class_ids", c10::ListType::ofInts(), IntList(ids));
  top.register_attribute("input_shape", c10::ListType::ofInts(), IntList(model.input_shape));
  top.register_attribute("input_scale", c10::FloatType::get(), scale);
  top.register_attribute("composition", c10::StringType::get(), model.composition);
  top.register_attribute("run", c10::StringType::get(), model.run);
  top.register_attribute("project", c10::StringType::get(), model.project);
  top.register_attribute("tiny_probability", c10::FloatType::get(),
                         static_cast<double>(kTinyProbability));
  top.define(ComposeSource(model, subnets));
  // A model to apply, not to train: answers carry no autograd history.
  for (torch::Tensor parameter : top.parameters()) parameter.requires_grad_(false);

  const torch::Tensor probe = ProbeInput(model, integer_input, scale);
  CB_ASSIGN_OR_RETURN(const ComposedOutputs expected,
                      PredictorAnswer(model, subnets, trainers, probe, scale));
  CB_RETURN_IF_ERROR(
      CheckAgainstPredictor(top, probe, expected, classification, "the exported module").status());

  const std::string temporary = output_path + ".partial";
  try {
    top.save(temporary);
  } catch (const c10::Error& error) {
    fs::remove(temporary);
    return Status::IoError("cannot write " + output_path + ": " + error.what_without_backtrace());
  }
  torch::jit::Module loaded = torch::jit::load(temporary);
  auto checked =
      CheckAgainstPredictor(loaded, probe, expected, classification, "the saved file " + temporary);
  if (!checked.ok()) {
    fs::remove(temporary);
    return checked.status();
  }
  boost::system::error_code error;
  fs::rename(temporary, output_path, error);
  if (error) {
    fs::remove(temporary);
    return Status::IoError("cannot write " + output_path + ": " + error.message());
  }
  TorchScriptExport done;
  done.path = output_path;
  done.bytes = static_cast<int64_t>(fs::file_size(output_path));
  done.subnets = static_cast<int>(subnets.size());
  done.composition = model.composition;
  done.probe_difference = *checked;
  return done;
}

}  // namespace

Result<TorchScriptExport> ExportTorchScript(const RunModel& model, const std::string& output_path) {
  try {
    return Export(model, output_path);
  } catch (const c10::Error& error) {
    return Status::Internal("export of run '" + model.run +
                            "': libtorch: " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal("export of run '" + model.run + "': " + error.what());
  }
}

}  // namespace cloudbook
