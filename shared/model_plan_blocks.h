// Planning of the layers that build transformers and residual blocks (add, layernorm,
// multihead_attention, transformer_block, token_position_embedding, patches, patch_encoder):
// their input checks, output shape, parameter count and forward FLOPs per sample, with Keras
// semantics (docs/design/keras-semantics.md §2.2-2.4, §2.13). Used by PlanModel
// (shared/model_plan.h); torch-free and stateless. Errors are a message without the layer's
// place (PlanModel adds it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/model_plan.h"
#include "shared/status.h"

namespace cloudbook {

// True for the layer types this file plans.
bool IsBlockLayer(const std::string& type);
// True for the layer types that may read integer token ids (the model input, int64).
bool ReadsTokenIds(const std::string& type);

// Checks `input_shapes` (internal layout, one per input) and the resolved parameters of
// `layer`; sets planned->parameters and planned->flops; returns the output shape.
// `token_input`: the layer reads the model input and it holds token ids.
Result<std::vector<int64_t>> PlanBlockLayer(const LayerSpec& layer,
                                            const std::vector<std::vector<int64_t>>& input_shapes,
                                            bool token_input, PlannedLayer* planned);

// The sizes of one multi-head attention (Keras MultiHeadAttention), for the plan and the
// network: query (T, d_query), value (S, d_value), key (S, d_key).
struct AttentionSizes {
  int64_t heads = 0, key_dim = 0, value_dim = 0;
  int64_t query_steps = 0, value_steps = 0;
  int64_t d_query = 0, d_value = 0, d_key = 0;
  bool use_bias = true;
  int64_t Parameters() const;
  int64_t Scores() const;  // attention scores per sample: heads x query steps x value steps
  double Flops() const;    // forward, per sample
};

}  // namespace cloudbook
