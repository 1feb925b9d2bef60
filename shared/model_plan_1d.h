// Shape planning for the sequence (1-D) layers, the global max pools, normalization and the
// standalone activation (issue 17): conv1d, maxpool1d, avgpool1d, global_avgpool1d,
// global_maxpool1d, global_maxpool2d, normalization, activation. PlanModel
// (shared/model_plan.h) dispatches these types here. Pure functions, thread-safe.
//
// Sequences stay in Keras order [steps, channels]; images are [C, H, W] internally.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/model_plan.h"

namespace cloudbook {

// Whether PlanLayer1d plans `type`.
bool IsLayer1dType(const std::string& type);

// Plans one layer: reads planned->spec and planned->input_shape, sets output shape
// (`*shape`), pads, parameters and FLOPs. `previous` are the planned layers before it.
// Returns "" or what is wrong (the caller adds file, line and layer).
std::string PlanLayer1d(const std::vector<PlannedLayer>& previous, std::vector<int64_t>* shape,
                        PlannedLayer* planned);

// TF's 'same' padding (tensorflow/core/framework/kernel_shape_util.cc): output ceil(in /
// stride); the total padding is split with the extra cell at the end. Returns {before, after}.
std::vector<int64_t> SamePadding(int64_t in, int64_t window, int64_t stride, int64_t dilation);

// The number of channels a normalization layer keeps statistics for: the last axis of its
// input in Keras order (internal images are [C, H, W]).
int64_t NormalizationChannels(const std::vector<int64_t>& input_shape);

}  // namespace cloudbook
