// The torch side of a SubnetTrainer, for code inside shared/nn that needs the network itself
// (the TorchScript exporter, shared/nn/torchscript_export.h): the restored network and the exact
// per-chunk computation Predict runs, so what is exported is what the predictor applies.
// Same thread rules as SubnetTrainer (one thread at a time per trainer); no errors of its own
// (libtorch throws c10::Error).
#pragma once

#include <torch/torch.h>

#include "shared/nn/net.h"
#include "shared/nn/subnet_training.h"

namespace cloudbook {

struct SubnetTrainerAccess {
  // The trainer's network, switched to evaluation mode (dropout off, BatchNorm statistics).
  static Net& EvalNet(SubnetTrainer& trainer);
  // What Predict computes for one chunk of `x` ([rows, input...] float, as Predict takes it):
  // probabilities (classification) or values (regression), [rows, outputs]. Call under a
  // torch::NoGradGuard; eval mode is set.
  static torch::Tensor Outputs(SubnetTrainer& trainer, const torch::Tensor& x);
  // Whether the network takes integer ids (an embedding first), cast from the float input.
  static bool IntegerInput(const SubnetTrainer& trainer);
};

}  // namespace cloudbook
