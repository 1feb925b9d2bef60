#include "maker/layer_rules.h"

#include <algorithm>
#include <utility>

namespace cloudbook::program_parsing {
namespace {

ParamRule IntParam(const std::string& name, bool required, Arity arity = Arity::kOne,
                   std::vector<double> fallback = {}) {
  return {name, ParamKind::kInt, required, arity, std::move(fallback), "", {}};
}
ParamRule RealParam(const std::string& name, bool required, std::vector<double> fallback = {}) {
  return {name, ParamKind::kReal, required, Arity::kOne, std::move(fallback), "", {}};
}
ParamRule WordParam(const std::string& name, std::vector<std::string> valid,
                    const std::string& fallback) {
  return {name, ParamKind::kWord, false, Arity::kOne, {}, fallback, std::move(valid)};
}
ParamRule BoolParam(const std::string& name, const std::string& fallback) {
  return {name, ParamKind::kBool, false, Arity::kOne, {}, fallback, {}};
}

}  // namespace

const std::vector<LayerRule>& LayerRules() {
  static const auto* rules = [] {
    const std::vector<std::string> activations{
        "relu", "sigmoid", "tanh",     "softmax",  "linear", "elu",   "leaky_relu",
        "gelu", "relu6",   "softplus", "softsign", "selu",   "swish", "silu"};
    const std::vector<std::string> paddings{"valid", "same"};
    // Pool strides default to the pool size: ParseLayer fills them once the pool is known.
    const std::vector<ParamRule> pool{IntParam("pool", false, Arity::kOneOrTwo, {2}),
                                      IntParam("stride", false, Arity::kOneOrTwo),
                                      WordParam("padding", paddings, "valid")};
    const std::vector<ParamRule> pool1d{IntParam("pool", false, Arity::kOne, {2}),
                                        IntParam("stride", false, Arity::kOne),
                                        WordParam("padding", paddings, "valid")};
    const std::vector<ParamRule> recurrent{IntParam("units", true),
                                           BoolParam("return_sequences", "false")};
    return new std::vector<LayerRule>{
        {"dense", {IntParam("units", true), WordParam("activation", activations, "linear")}},
        {"conv2d",
         {IntParam("filters", true), IntParam("kernel", true, Arity::kOneOrTwo),
          IntParam("stride", false, Arity::kOneOrTwo, {1}), WordParam("padding", paddings, "valid"),
          WordParam("activation", activations, "linear")}},
        {"maxpool2d", pool},
        {"avgpool2d", pool},
        {"global_avgpool2d", {}},
        {"flatten", {}},
        {"reshape", {IntParam("shape", true, Arity::kList)}},
        {"dropout", {RealParam("rate", true)}},
        {"batchnorm", {RealParam("momentum", false, {0.99}), RealParam("epsilon", false, {1e-3})}},
        {"embedding", {IntParam("input_dim", true), IntParam("output_dim", true)}},
        {"gru", recurrent},
        {"lstm", recurrent},
        // Keras Conv1D, MaxPooling1D, AveragePooling1D, global pools, Normalization,
        // Activation (docs/design/keras-semantics.md sections 2.6 to 2.9).
        {"conv1d",
         {IntParam("filters", true), IntParam("kernel", true),
          IntParam("stride", false, Arity::kOne, {1}),
          WordParam("padding", {"valid", "same", "causal"}, "valid"),
          IntParam("dilation", false, Arity::kOne, {1}),
          WordParam("activation", activations, "linear")}},
        {"maxpool1d", pool1d},
        {"avgpool1d", pool1d},
        {"global_avgpool1d", {}},
        {"global_maxpool1d", {}},
        {"global_maxpool2d", {}},
        {"normalization", {}},
        {"activation", {{"activation", ParamKind::kWord, true, Arity::kOne, {}, "", activations}}},
        // Transformers and residual blocks (shared/model_plan_blocks.h); `add` reads its
        // `inputs`, which every layer may take.
        {"add", {}},
        {"multihead_attention",
         {IntParam("heads", true), IntParam("key_dim", true), IntParam("value_dim", false),
          RealParam("dropout", false, {0}), BoolParam("use_bias", "true")}},
        {"layernorm", {RealParam("epsilon", false, {1e-3})}},
        {"transformer_block",
         {IntParam("heads", true), IntParam("ff_dim", true), RealParam("rate", false, {0.1}),
          RealParam("epsilon", false, {1e-6})}},
        {"token_position_embedding",
         {IntParam("maxlen", true), IntParam("vocab_size", true), IntParam("embed_dim", true)}},
        {"patches", {IntParam("size", true)}},
        {"patch_encoder", {IntParam("num_patches", true), IntParam("projection_dim", true)}},
    };
  }();
  return *rules;
}

std::vector<std::string> LayerTypes() {
  std::vector<std::string> types;
  for (const LayerRule& rule : LayerRules()) types.push_back(rule.type);
  return types;
}

const LayerRule* FindLayerRule(const std::string& type) {
  const auto& rules = LayerRules();
  const auto rule =
      std::find_if(rules.begin(), rules.end(), [&](const LayerRule& r) { return r.type == type; });
  return rule == rules.end() ? nullptr : &*rule;
}

std::string RealRangeProblem(const std::string& param, double value) {
  if ((param == "rate" || param == "dropout") && !(value >= 0 && value < 1)) {
    return "must be in [0, 1)";
  }
  if (param == "momentum" && !(value >= 0 && value <= 1)) return "must be in [0, 1]";
  if (param == "epsilon" && !(value > 0)) return "must be > 0";
  return "";
}

}  // namespace cloudbook::program_parsing
