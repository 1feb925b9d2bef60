// cloudbook-serve's batching (docs/serve.md): HTTP threads queue their requests' samples and
// wait; one batching thread takes the queued requests together (up to max_batch samples,
// waiting at most max_wait after the oldest arrived), runs them through the backend as one
// batch and hands each request its rows. A request larger than max_batch runs alone, in
// chunks of max_batch. A request that would push the queue over max_queued_samples is refused
// at once (the server answers 503). Thread-safe: Predict from any thread; the backend is only
// ever called from the batching thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/serve/prediction_backend.h"

namespace cloudbook {

struct BatchingOptions {
  int64_t max_batch = 256;                // samples per backend call
  std::chrono::milliseconds max_wait{2};  // an incomplete batch waits this long for more
  int64_t max_queued_samples = 4096;      // beyond: refused (overloaded)
};

// What the queue did so far (for the metadata endpoint and tests).
struct BatchingCounters {
  int64_t requests = 0;  // answered by the backend (well or not)
  int64_t samples = 0;
  int64_t batches = 0;         // batches taken from the queue (a large request: one, in chunks)
  int64_t shared_batches = 0;  // batches that held more than one request
  int64_t largest_batch = 0;   // samples
  int64_t refused = 0;         // requests refused as overloaded
  int64_t queued_samples = 0;  // waiting now
};

struct BatchAnswer {
  Result<ComposedOutputs> result = Status::Internal("not answered");
  bool overloaded = false;  // refused: the queue is full (HTTP 503, Retry-After)
};

class BatchQueue {
 public:
  // `backend` must outlive the queue.
  BatchQueue(PredictionBackend* backend, BatchingOptions options);
  ~BatchQueue();  // Stop()
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Queues `x` ([samples, input_shape...], checked by the caller) and waits for its outputs.
  BatchAnswer Predict(Array x);
  BatchingCounters counters() const;
  const BatchingOptions& options() const { return options_; }
  // Answers whatever is queued with an error and ends the batching thread.
  void Stop();

 private:
  struct Pending;
  void Loop();
  // Runs `batch` (requests in order) and answers each.
  void Run(const std::vector<std::shared_ptr<Pending>>& batch);
  Result<ComposedOutputs> Call(const Array& x);

  PredictionBackend* backend_;
  BatchingOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<std::shared_ptr<Pending>> queue_;
  int64_t queued_samples_ = 0;
  bool stopping_ = false;
  BatchingCounters counters_;
  std::thread thread_;
};

// Rows [begin, end) of composed outputs (outputs and predictions).
ComposedOutputs SliceComposed(const ComposedOutputs& composed, int64_t begin, int64_t end);

}  // namespace cloudbook
