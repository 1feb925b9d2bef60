// Shape inference for a resolved layer list (every variable replaced by its value): the
// shape after each layer, parameter count and forward FLOPs per sample. Torch-free, so the
// maker can check that a program fits and estimate DU costs without building a network;
// the network builder (shared/nn/net.h) follows the same plan.
//
// Layout: the program speaks Keras (images H x W x C); the plan and the network work
// channels-first (C x H x W) internally, converting once where an image tensor appears.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

struct PlannedLayer {
  LayerSpec spec;                    // resolved: numbers are literals
  std::vector<int64_t> input_shape;  // per sample, internal layout (of the first input)
  // The DAG: the layers read, in order (kDagModelInputIndex, -1: the model input), and
  // their output shapes; a plain list has {index - 1} here.
  std::vector<int> inputs;
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<int64_t> output_shape;  // per sample, internal layout
  bool to_channels_first = false;     // reshape producing an image: permute H,W,C -> C,H,W
  std::vector<int64_t> pads;          // conv2d 'same': top, bottom, left, right;
                                      // conv1d, 1-D pools: before, after
  int64_t parameters = 0;
  double flops = 0;          // forward, per sample (multiply-add = 2)
  int64_t inner_values = 0;  // values per sample held inside the layer (attention scores)
};

struct ModelPlan {
  std::vector<int64_t> input_shape;  // per sample, internal layout
  bool input_channels_last = false;  // rank-3 input: permute to channels-first first
  bool int64_input = false;          // token ids (embedding nets)
  std::vector<PlannedLayer> layers;
  std::vector<int64_t> output_shape;
  int64_t parameters = 0;
  double forward_flops = 0;
  // only dense, flatten, reshape, dropout, batchnorm, normalization, activation
  bool dense_only = true;
  bool plain_list = true;  // every layer reads the one above it (no DAG)
};

// `source` names the program in messages ("original/fashion_mlp.yaml").
Result<ModelPlan> PlanModel(const ModelSpec& resolved, const std::string& source);

// Readers for resolved numeric parameters, with a fallback when absent.
int64_t LayerInt(const LayerSpec& layer, const std::string& key, int64_t fallback);
double LayerNumber(const LayerSpec& layer, const std::string& key, double fallback);
// A 2-D parameter given as one number or [h, w].
std::vector<int64_t> LayerPair(const LayerSpec& layer, const std::string& key,
                               std::vector<int64_t> fallback);
std::string LayerWord(const LayerSpec& layer, const std::string& key, const std::string& fallback);

std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace cloudbook
