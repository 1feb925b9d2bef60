// The network modules of the layers planned in shared/model_plan_blocks.h (add, layernorm,
// multihead_attention, transformer_block, token_position_embedding, patches, patch_encoder),
// with Keras semantics and Keras initialisers (docs/design/keras-semantics.md §2.2-2.5,
// §2.13: the keras.io TransformerBlock, TokenAndPositionEmbedding, Patches, PatchEncoder).
// Each takes its inputs as the program lists them. Not thread-safe (one training per network).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "shared/model_plan.h"

namespace cloudbook {

// One such layer as the network runs it.
class BlockLayerImpl : public torch::nn::Module {
 public:
  // `inputs`: batch-first tensors in the order of the layer's inputs (internal layout);
  // `generator` draws the dropout masks.
  virtual torch::Tensor Forward(const std::vector<torch::Tensor>& inputs,
                                at::Generator& generator) = 0;
};

// The module of `planned` (a type for which IsBlockLayer is true), initialised as Keras
// initialises it, from torch's global generator (seeded by the caller).
std::shared_ptr<BlockLayerImpl> MakeBlockLayer(const PlannedLayer& planned);

// tf.image.extract_patches with size = stride = `size`, padding VALID, reshaped to
// (B, patches, size·size·C): patches row-major over the grid, each patch (row, col, channel)
// with the channel fastest. `images` is (B, C, H, W) (the network's internal layout).
torch::Tensor ExtractPatches(const torch::Tensor& images, int64_t size);

}  // namespace cloudbook
