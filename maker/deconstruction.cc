#include "maker/deconstruction.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "maker/tagged_variables.h"
#include "shared/model_plan.h"
#include "shared/seeded_random.h"

namespace cloudbook {

namespace {

bool IsReducible(const std::string& name) { return name != kEpochsVariable; }

std::string PossibleMulticlassCounts(int64_t num_classes) {
  std::ostringstream out;
  int shown = 0;
  for (int64_t g = 3; g <= num_classes && shown < 6; ++g, ++shown) {
    out << (shown ? ", " : "") << TriangularSubnets(g);
  }
  if (shown == 0) return "none (a multiclass problem needs at least 3 classes for 3 subnets)";
  if (num_classes > 8) out << ", ...";
  return out.str();
}

// The largest requested n for which every reducible variable keeps v / F >= 2.
std::string LargestWorkingHint(const Program& program, int64_t num_classes) {
  int64_t smallest = INT64_MAX;
  for (const auto& [name, value] : program.vars) {
    if (IsReducible(name)) smallest = std::min(smallest, value);
  }
  switch (program.problem) {
    case ProblemType::kMulticlass: {
      const int64_t g = std::min(smallest, num_classes);  // needs 2v/g >= 2, i.e. g <= v
      if (g < 3) return "no n works (every tagged width must be at least 3 for 3 subnets)";
      return "the largest n that works is " + std::to_string(TriangularSubnets(g));
    }
    case ProblemType::kBinary:
      return "binary always uses F = 2, so every tagged width but the 2-unit output must be at "
             "least 4";
    case ProblemType::kRegression: {
      const int64_t n = smallest / 2;  // needs v/n >= 2
      if (n < 2) return "no n works (every tagged width must be at least 4 for 2 subnets)";
      return "the largest n that works is " + std::to_string(n);
    }
  }
  return "";
}

// Replaces every variable by its value; `output_variable` by `output_width`.
Status ResolveLayers(const Program& program, const std::map<std::string, int64_t>& values,
                     ModelSpec& model) {
  for (size_t i = 0; i < model.layers.size(); ++i) {
    for (auto& [key, numbers] : model.layers[i].numbers) {
      for (NumberOrVar& number : numbers) {
        if (!number.is_var()) continue;
        auto it = values.find(number.var);
        if (it == values.end()) {
          return Status::InvalidArgument(program.source_path + ": model.layers[" +
                                         std::to_string(i) + "]." + key + ": unknown variable " +
                                         number.var);
        }
        number.value = static_cast<double>(it->second);
        number.var.clear();
      }
    }
  }
  return Status::Ok();
}

int64_t ResolveEpochs(const TrainSpec& train, const std::map<std::string, int64_t>& values) {
  if (!train.epochs.is_var()) return static_cast<int64_t>(train.epochs.value);
  auto it = values.find(train.epochs.var);
  return it == values.end() ? 1 : it->second;
}

// Training cost in FLOPs: forward + backward (about 2x forward) per sample, per epoch.
double TrainingCost(double forward_flops, int64_t samples, int64_t epochs) {
  return 3.0 * forward_flops * static_cast<double>(std::max<int64_t>(samples, 1)) *
         static_cast<double>(epochs);
}

}  // namespace

Result<int64_t> MulticlassGroups(int64_t requested_subnets, int64_t num_classes) {
  if (requested_subnets < 3) {
    return Status::InvalidArgument(
        "a multiclass network is cut into g(g-1)/2 subnets for g class groups, so n must be "
        "at least 3; possible n for " +
        std::to_string(num_classes) + " classes: " + PossibleMulticlassCounts(num_classes) +
        " (n=" + std::to_string(requested_subnets) + " was asked)");
  }
  // Largest g with g(g-1)/2 <= n, from the quadratic formula, then fixed for rounding. The
  // fix-up compares in 128 bits: g(g+1)/2 overflows int64 for n near its maximum.
  __extension__ using Wide = __int128;  // GCC/Clang builtin; __extension__ keeps -Wpedantic quiet
  auto triangular = [](int64_t groups) { return static_cast<Wide>(groups) * (groups - 1) / 2; };
  auto g = static_cast<int64_t>(
      std::floor((1.0 + std::sqrt(1.0 + 8.0 * static_cast<double>(requested_subnets))) / 2.0));
  while (g > 2 && triangular(g) > requested_subnets) --g;
  while (triangular(g + 1) <= requested_subnets) ++g;
  g = std::min(g, num_classes);
  if (g < 3) {
    return Status::InvalidArgument("a multiclass problem with " + std::to_string(num_classes) +
                                   " classes cannot be cut into 3 or more subnets");
  }
  return g;
}

std::vector<IndexRange> ClassGroups(int64_t num_classes, int64_t groups) {
  std::vector<IndexRange> result;
  const int64_t base = num_classes / groups, extra = num_classes % groups;
  int64_t begin = 0;
  for (int64_t i = 0; i < groups; ++i) {
    const int64_t size = base + (i < extra ? 1 : 0);
    result.push_back({begin, begin + size});
    begin += size;
  }
  return result;
}

std::vector<std::pair<int64_t, int64_t>> GroupPairs(int64_t groups) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t a = 0; a < groups; ++a) {
    for (int64_t b = a + 1; b < groups; ++b) pairs.emplace_back(a, b);
  }
  return pairs;
}

std::vector<int64_t> PairClasses(const std::vector<IndexRange>& groups,
                                 std::pair<int64_t, int64_t> pair) {
  std::vector<int64_t> classes;
  for (int64_t group : {pair.first, pair.second}) {
    for (int64_t c = groups[group].begin; c < groups[group].end; ++c) classes.push_back(c);
  }
  std::sort(classes.begin(), classes.end());
  return classes;
}

std::vector<IndexRange> ColumnBlocks(int64_t columns, int64_t blocks) {
  // Same arithmetic as class groups: the first D mod n blocks get ceil(D/n).
  return ClassGroups(columns, blocks);
}

Result<int64_t> ReduceWidth(const std::string& name, int64_t value, int64_t factor_numerator,
                            int64_t factor_denominator, const std::string& largest_working_hint) {
  // v / F = v * den / num, compared and rounded in integers so 60 / 1.5 is exactly 40.
  const int64_t scaled = value * factor_denominator;
  if (scaled < 2 * factor_numerator) {
    std::ostringstream out;
    out << name << " = " << value
        << " divided by F = " << static_cast<double>(factor_numerator) / factor_denominator
        << " gives " << static_cast<double>(scaled) / factor_numerator
        << ", below the minimum width of 2; " << largest_working_hint;
    return Status::InvalidArgument(out.str());
  }
  return (scaled + factor_numerator - 1) / factor_numerator;
}

std::string OutputVariable(const Program& program) {
  std::string best;
  int64_t best_index = 0;  // TaggedIndex is 0 for names that are not _NEURON_<k>
  for (const auto& [name, value] : program.vars) {
    const int64_t index = TaggedIndex(name, kNeuronFamily);
    if (index > best_index) best_index = index, best = name;
  }
  return best;
}

Result<DeconstructionPlan> PlanDeconstruction(const Program& program, int64_t requested_subnets) {
  DeconstructionPlan plan;
  const std::string output = OutputVariable(program);
  if (output.empty()) {
    return Status::InvalidArgument(program.source_path +
                                   ": vars: no _NEURON_k variable; the highest one names the "
                                   "output layer");
  }
  const int64_t outputs = program.vars.at(output);
  switch (program.problem) {
    case ProblemType::kMulticlass: {
      auto groups = MulticlassGroups(requested_subnets, outputs);
      if (!groups.ok()) return groups.status().WithContext(program.source_path);
      plan.groups = *groups;
      plan.subnets = TriangularSubnets(plan.groups);
      plan.factor_numerator = plan.groups;
      plan.factor_denominator = 2;
      if (plan.subnets != requested_subnets) {
        plan.notes.push_back("multiclass: " + std::to_string(requested_subnets) +
                             " subnets asked, " + std::to_string(plan.subnets) + " made (g = " +
                             std::to_string(plan.groups) + " class groups, k = g(g-1)/2)");
      }
      break;
    }
    case ProblemType::kBinary:
      plan.subnets = 2;
      plan.factor_numerator = 2;
      if (requested_subnets != 2) {
        plan.notes.push_back("binary: always 2 subnets with F = 2 (" +
                             std::to_string(requested_subnets) + " asked)");
      }
      break;
    case ProblemType::kRegression:
      if (requested_subnets < 2) {
        return Status::InvalidArgument(program.source_path +
                                       ": regression needs n >= 2 subnets (n=" +
                                       std::to_string(requested_subnets) + " was asked)");
      }
      plan.subnets = requested_subnets;
      plan.factor_numerator = requested_subnets;
      break;
  }
  return plan;
}

Result<std::vector<SubnetSpec>> DeconstructProgram(const Program& program,
                                                   const DeconstructionPlan& plan,
                                                   int64_t total_train_samples) {
  const std::string output = OutputVariable(program);
  if (output.empty()) {
    return Status::InvalidArgument(program.source_path + ": vars: no _NEURON_k variable");
  }
  const int64_t outputs = program.vars.at(output);
  const std::string hint = LargestWorkingHint(program, outputs);

  // Every tagged width divided by F. A regression output goes through the below-2 check too
  // (its blocks are D / n wide); every output is then set to the subnet's own width.
  std::map<std::string, int64_t> reduced;
  for (const auto& [name, value] : program.vars) {
    if (!IsReducible(name)) continue;
    // Classification outputs are replaced by |S_i| (multiclass) or 2 (binary), never divided.
    if (name == output && program.problem != ProblemType::kRegression) continue;
    auto width = ReduceWidth(name, value, plan.factor_numerator, plan.factor_denominator, hint);
    if (!width.ok()) return width.status().WithContext(program.source_path + ": vars");
    reduced[name] = *width;
  }

  // Epochs: the table reduces them only for dense-only multiclass networks.
  std::map<std::string, int64_t> original_values = program.vars;
  ModelSpec original_model = program.model;
  CB_RETURN_IF_ERROR(ResolveLayers(program, original_values, original_model));
  CB_ASSIGN_OR_RETURN(ModelPlan original_plan, PlanModel(original_model, program.source_path));
  bool reduce_epochs = false;
  switch (program.train.epochs_policy) {
    case EpochsPolicy::kTable:
      reduce_epochs = program.problem == ProblemType::kMulticlass && original_plan.dense_only;
      break;
    case EpochsPolicy::kReduce:
      reduce_epochs = true;
      break;
    case EpochsPolicy::kKeep:
      reduce_epochs = false;
      break;
  }
  if (auto it = program.vars.find("_EPOCHS"); it != program.vars.end()) {
    const int64_t scaled = it->second * plan.factor_denominator;
    reduced["_EPOCHS"] =
        reduce_epochs
            ? std::max<int64_t>(1, (scaled + plan.factor_numerator - 1) / plan.factor_numerator)
            : it->second;
  }

  std::vector<IndexRange> groups, blocks;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  if (program.problem == ProblemType::kMulticlass) {
    groups = ClassGroups(outputs, plan.groups);
    pairs = GroupPairs(plan.groups);
  } else if (program.problem == ProblemType::kRegression) {
    blocks = ColumnBlocks(outputs, plan.subnets);
  }

  std::vector<SubnetSpec> subnets;
  for (int64_t i = 0; i < plan.subnets; ++i) {
    SubnetSpec subnet;
    subnet.index = static_cast<int>(i);
    subnet.seed = SeededRandom::Derive(program.seed, static_cast<uint64_t>(i));
    subnet.widths = reduced;
    double data_fraction = 1.0;
    switch (program.problem) {
      case ProblemType::kMulticlass:
        subnet.classes = PairClasses(groups, pairs[i]);
        subnet.widths[output] = static_cast<int64_t>(subnet.classes.size());
        data_fraction = static_cast<double>(subnet.classes.size()) / static_cast<double>(outputs);
        break;
      case ProblemType::kBinary:
        subnet.half = static_cast<int>(i);
        subnet.widths[output] = 2;
        data_fraction = 0.5;
        break;
      case ProblemType::kRegression:
        subnet.column_begin = blocks[i].begin;
        subnet.column_end = blocks[i].end;
        subnet.widths[output] = blocks[i].size();
        break;
    }
    subnet.model = program.model;
    CB_RETURN_IF_ERROR(ResolveLayers(program, subnet.widths, subnet.model));
    auto subnet_plan = PlanModel(subnet.model, program.source_path);
    if (!subnet_plan.ok()) {
      return subnet_plan.status().WithContext("subnet " + std::to_string(i) + " after reduction");
    }
    subnet.train = program.train;
    subnet.epochs = ResolveEpochs(program.train, subnet.widths);
    subnet.train.epochs = NumberOrVar{static_cast<double>(subnet.epochs), ""};
    subnet.train_samples = static_cast<int64_t>(
        std::llround(data_fraction * static_cast<double>(total_train_samples)));
    subnet.cost = TrainingCost(subnet_plan->forward_flops, subnet.train_samples, subnet.epochs);
    subnet.parameter_bytes = subnet_plan->parameters * 4;
    subnets.push_back(std::move(subnet));
  }
  return subnets;
}

Result<SubnetSpec> ResolveOriginal(const Program& program, int64_t total_train_samples) {
  SubnetSpec original;
  original.index = 0;
  original.seed = program.seed;
  original.widths = program.vars;
  original.model = program.model;
  CB_RETURN_IF_ERROR(ResolveLayers(program, original.widths, original.model));
  CB_ASSIGN_OR_RETURN(ModelPlan plan, PlanModel(original.model, program.source_path));
  const std::string output = OutputVariable(program);
  const int64_t outputs = output.empty() ? 0 : program.vars.at(output);
  if (program.problem == ProblemType::kMulticlass) {
    for (int64_t c = 0; c < outputs; ++c) original.classes.push_back(c);
  } else if (program.problem == ProblemType::kRegression) {
    original.column_begin = 0;
    original.column_end = outputs;
  }
  original.train = program.train;
  original.epochs = ResolveEpochs(program.train, program.vars);
  original.train.epochs = NumberOrVar{static_cast<double>(original.epochs), ""};
  original.train_samples = total_train_samples;
  original.cost = TrainingCost(plan.forward_flops, total_train_samples, original.epochs);
  original.parameter_bytes = plan.parameters * 4;
  return original;
}

}  // namespace cloudbook
