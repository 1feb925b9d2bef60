// What an agent executes for its deployable units: a fixed registry of functions called by
// name (never arbitrary code): `train` (build the DU's subnets, train on the lent cores,
// checkpoint after every epoch, resume from a checkpoint, stream progress), `predict` (the
// test-set predictions as tensors), `status`, `cancel`, `baseline` (DU 0: train the
// original network on the lent cores, for comparison) and `infer` (a finished run's subnets of
// any DU applied to given samples, from distributed/models/<run>/: du_inference.h; it never
// waits for a training slot). Transport-agnostic: the agent adapts
// an incoming invoke to a DuInvocation. Thread-safe: calls for different DUs run
// concurrently; a second `train` of a DU already training is refused. Each training runs on
// its DU's own thread count (train.threads in the DU file, so its result does not depend on
// this agent or on what trains beside it); trainings share the lent cores instead of
// oversubscribing them: they start while their threads fit in the lent ones (one always may),
// the others wait, cancellable, in arrival order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "shared/data/array.h"
#include "shared/data/dataset_loader.h"
#include "shared/project_layout.h"
#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

struct DuInvocation {
  std::string function;  // train | predict | status | cancel | baseline | infer
  int du = -1;
  WireArguments arguments;  // train: assignment_version (int), resume (bool); infer: run
  // Named input arrays (infer: "x", the model input already scaled).
  std::vector<std::pair<std::string, std::shared_ptr<const Array>>> tensors;
  std::function<void(const WireArguments&)> progress;  // may be empty
  std::atomic<bool>* cancel = nullptr;                 // the caller's cancellation; may be null
};

struct DuReply {
  WireArguments values;
  // Named float32 arrays, e.g. "subnet_2" -> [test samples, outputs of subnet 2].
  std::vector<std::pair<std::string, std::shared_ptr<const Array>>> tensors;
};

// One DU's state, for stats and `status`.
struct DuState {
  int du = -1;
  std::string state = "idle";  // idle | training | trained | failed | cancelled
  int subnet = -1;             // the subnet training now
  int64_t epoch = 0, epochs = 0;
  double loss = 0, samples_per_second = 0;
  std::string error;
};

class DuInference;

class DuRuntime {
 public:
  // `threads`: libtorch threads this agent lends (from its grant).
  // `layout` says where the DU files, data and checkpoints are (the agent's shared folder).
  DuRuntime(ProjectLayout layout, int threads);
  ~DuRuntime();
  DuRuntime(const DuRuntime&) = delete;
  DuRuntime& operator=(const DuRuntime&) = delete;

  // The registry: an unknown function is an InvalidArgument naming the valid ones.
  Result<DuReply> Invoke(const DuInvocation& call);
  static const std::vector<std::string>& FunctionNames();

  std::vector<DuState> States() const;

  // The project's data as DU `du` reads it (train, validation, test), decoded once per DU
  // generation and input shape and shared by every DU of this agent: the DUs of a project
  // read the same files. Thread-safe; concurrent callers wait for one load.
  Result<std::shared_ptr<const ProblemData>> Data(int du);
  // Starts loading Data(du) in the background (an assignment gave this agent work), so the
  // first `train` does not wait for decompression. Idempotent.
  void Prefetch(int du);
  // Waits up to `timeout_s` for a started prefetch; true when none is pending.
  bool WaitForPrefetch(double timeout_s);
  // A clean shutdown: every running training stops after its current epoch (whose
  // checkpoint is then on disk). Returns true when none is running any more within
  // `timeout_s`; then (or anyway) the caller may cancel what is left.
  bool StopAfterCurrentEpochs(double timeout_s);
  void SetThreads(int threads);  // a grant change, taken at the next subnet

 private:
  struct DuSlot;
  struct SlotRelease;
  Result<DuReply> Train(const DuInvocation& call);
  Result<DuReply> Predict(const DuInvocation& call);
  Result<DuReply> Status(const DuInvocation& call);
  Result<DuReply> Cancel(const DuInvocation& call);
  Result<DuReply> Baseline(const DuInvocation& call);
  Result<DuReply> Infer(const DuInvocation& call);
  DuSlot& Slot(int du);
  // Blocks until `threads` more fit in the lent threads, or none are in use (true), or
  // `cancel` is set (false).
  bool AcquireTrainingSlot(const std::atomic<bool>* cancel, int threads);
  void ReleaseTrainingSlot(int threads);

  const ProjectLayout layout_;
  const std::unique_ptr<DuInference> inference_;
  std::atomic<int> threads_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::map<int, std::unique_ptr<DuSlot>> slots_;  // guarded by mutex_
  std::mutex data_mutex_;                         // held while loading: one decode at a time
  std::string data_key_;                          // generation + input shape of data_
  std::shared_ptr<const ProblemData> data_;
  std::thread prefetch_;
  bool prefetch_done_ = false;  // guarded by mutex_
  std::condition_variable prefetch_finished_;
  mutable std::mutex training_mutex_;
  std::condition_variable training_slot_freed_;
  int threads_in_use_ = 0;                         // guarded by training_mutex_
  uint64_t next_ticket_ = 0, serving_ticket_ = 0;  // FIFO among waiting trainings
  std::set<uint64_t> abandoned_tickets_;           // cancelled while waiting
};

}  // namespace cloudbook
