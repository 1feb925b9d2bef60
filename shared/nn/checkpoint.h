// Checkpoints of a subnet's training, written after every epoch so a moved or restarted DU
// loses at most one epoch (docs/design/runtime.md, "Training on an agent").
//
// File `<checkpoint_dir>/subnet_<index>.pt`, little-endian:
//   bytes  0..7   magic "CBCKPT\r\n" (the \r\n catches text-mode mangling, as PNG's does)
//   bytes  8..11  format version (uint32)
//   bytes 12..15  reserved, 0
//   bytes 16..23  length of the metadata JSON (uint64)
//   bytes 24..31  length of the tensor payload (uint64)
//   bytes 32..39  Hash64 of metadata + payload (uint64)
//   metadata JSON: format_version, subnet_index, seed, spec_fingerprint, data_fingerprint,
//                  owner_version, epoch (finished), epochs, threads, history
//   payload: a torch::serialize archive with "model" (parameters and buffers, BatchNorm
//            running statistics included), "optimizer" (Adam/SGD state) and
//            "dropout_generator" (the network's generator state).
// The metadata comes first so a reader can check spec, owner and epoch without loading any
// tensor; the hash and the exact length make a torn or garbage file detectable.
//
// Internal to shared/nn (includes <torch/torch.h>); the torch-free face is
// shared/nn/subnet_training.h.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "shared/formats/checkpoint_header.h"
#include "shared/nn/net.h"
#include "shared/nn/subnet_training.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

// The metadata of a checkpoint: everything but the tensors.
struct CheckpointInfo {
  int format_version = kCheckpointFormatVersion;
  int subnet_index = 0;
  uint64_t seed = 0;
  std::string spec_fingerprint;  // SpecFingerprint() of the subnet it was trained for
  std::string data_fingerprint;  // DataFingerprint() of the training data
  int64_t owner_version = 0;     // the writer's assignment version (fencing)
  int64_t epoch = 0;             // epochs finished
  int64_t epochs = 0;            // epochs the subnet asked for when it was written
  int threads = 0;               // the train.threads it was trained on; another is not resumed
  std::vector<EpochProgress> history;
};

// `<checkpoint_dir>/subnet_<index>.pt`.
std::string CheckpointPath(const std::string& checkpoint_dir, int subnet_index);

// Hex digest of what decides the training trajectory: model, training settings, widths,
// seed, index, what the subnet learns (classes, half, columns) and the problem type. The
// number of epochs is left out on purpose: a longer run continues a shorter one exactly
// (batch order depends only on seed and epoch), so raising `epochs` keeps the checkpoint.
std::string SpecFingerprint(const SubnetSpec& subnet, ProblemType problem);

// Hex digest of the training inputs and targets: resuming on other data would silently mix
// two trainings.
std::string DataFingerprint(const LabeledArrays& train);

// 64-bit non-cryptographic hash (about 5 GB/s): detects torn and garbage files and changed
// data, not tampering.
uint64_t Hash64(const void* data, size_t size, uint64_t seed = 0);

// Reads the metadata only (no tensors, no checksum over the payload). NotFound when there
// is no file, Corruption when it is not a readable checkpoint.
Result<CheckpointInfo> ReadCheckpointInfo(const std::string& path);

// Writes the checkpoint atomically (WriteFileAtomically). Refuses, with a Superseded()
// status and without writing, when the file on disk carries a higher owner_version: a stale
// owner must never overwrite a newer owner's progress. An unreadable existing file does not
// block the write. The check and the rename are not one atomic step; the fence narrows the
// window for a zombie owner, the assignment keeps owners apart.
Status SaveCheckpoint(const std::string& path, const CheckpointInfo& info, Net& net,
                      torch::optim::Optimizer& optimizer);

// Verifies the whole file (length, hash) and restores the network's parameters, buffers and
// dropout generator, and the optimizer's state. Corruption on any failure; the network or
// optimizer may then be partly overwritten, so the caller must rebuild them.
Result<CheckpointInfo> LoadCheckpoint(const std::string& path, Net& net,
                                      torch::optim::Optimizer& optimizer);

// The status SaveCheckpoint and training return when a newer owner holds the checkpoint
// (IsSuperseded() recognises it).
Status Superseded(const std::string& path, int64_t found_version, int64_t own_version);

}  // namespace cloudbook
