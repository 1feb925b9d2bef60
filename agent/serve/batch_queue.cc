#include "agent/serve/batch_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace cloudbook {

struct BatchQueue::Pending {
  Array x;
  std::chrono::steady_clock::time_point arrived;
  bool done = false;
  Result<ComposedOutputs> result = Status::Internal("not answered");
  std::condition_variable answered;
};

namespace {

// Appends rows of `part` to `whole` (same columns).
void AppendComposed(ComposedOutputs* whole, const ComposedOutputs& part) {
  if (whole->outputs.shape.empty()) {
    *whole = part;
    return;
  }
  whole->outputs.shape[0] += part.outputs.rows();
  whole->outputs.values.insert(whole->outputs.values.end(), part.outputs.values.begin(),
                               part.outputs.values.end());
  whole->predictions.insert(whole->predictions.end(), part.predictions.begin(),
                            part.predictions.end());
}

}  // namespace

ComposedOutputs SliceComposed(const ComposedOutputs& composed, int64_t begin, int64_t end) {
  ComposedOutputs part;
  part.outputs = composed.outputs.SliceRows(begin, end);
  if (static_cast<int64_t>(composed.predictions.size()) >= end) {
    part.predictions.assign(composed.predictions.begin() + begin,
                            composed.predictions.begin() + end);
  }
  return part;
}

BatchQueue::BatchQueue(PredictionBackend* backend, BatchingOptions options)
    : backend_(backend), options_(options) {
  options_.max_batch = std::max<int64_t>(1, options_.max_batch);
  thread_ = std::thread([this] { Loop(); });
}

BatchQueue::~BatchQueue() { Stop(); }

void BatchQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  arrived_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::shared_ptr<Pending>& pending : queue_) {
    pending->result = Status::Internal("the server is stopping");
    pending->done = true;
    pending->answered.notify_all();
  }
  queue_.clear();
  queued_samples_ = 0;
}

BatchingCounters BatchQueue::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  BatchingCounters counters = counters_;
  counters.queued_samples = queued_samples_;
  return counters;
}

BatchAnswer BatchQueue::Predict(Array x) {
  auto pending = std::make_shared<Pending>();
  const int64_t samples = x.rows();
  pending->x = std::move(x);
  pending->arrived = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) return {Status::Internal("the server is stopping"), true};
  // An empty queue takes any request (a large one runs alone, in chunks).
  if (queued_samples_ > 0 && queued_samples_ + samples > options_.max_queued_samples) {
    ++counters_.refused;
    return {Status::Internal(std::to_string(queued_samples_) +
                             " samples are waiting already; try again shortly"),
            true};
  }
  queue_.push_back(pending);
  queued_samples_ += samples;
  arrived_.notify_all();
  pending->answered.wait(lock, [&] { return pending->done; });
  return {std::move(pending->result), false};
}

void BatchQueue::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    arrived_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // Wait for a full batch or until the oldest request has waited max_wait.
    const auto deadline = queue_.front()->arrived + options_.max_wait;
    arrived_.wait_until(lock, deadline,
                        [&] { return stopping_ || queued_samples_ >= options_.max_batch; });
    if (stopping_) return;
    std::vector<std::shared_ptr<Pending>> batch;
    int64_t samples = 0;
    while (!queue_.empty()) {
      const int64_t next = queue_.front()->x.rows();
      if (!batch.empty() && samples + next > options_.max_batch) break;
      batch.push_back(queue_.front());
      queue_.pop_front();
      samples += next;
      queued_samples_ -= next;
    }
    lock.unlock();
    Run(batch);
    lock.lock();
    ++counters_.batches;
    counters_.requests += static_cast<int64_t>(batch.size());
    counters_.samples += samples;
    counters_.shared_batches += batch.size() > 1;
    counters_.largest_batch = std::max(counters_.largest_batch, samples);
    for (const std::shared_ptr<Pending>& pending : batch) {
      pending->done = true;
      pending->answered.notify_all();
    }
  }
}

Result<ComposedOutputs> BatchQueue::Call(const Array& x) {
  // Chunks of max_batch: a large request runs alone, one backend call per chunk.
  ComposedOutputs whole;
  for (int64_t begin = 0; begin < x.rows(); begin += options_.max_batch) {
    const int64_t end = std::min(x.rows(), begin + options_.max_batch);
    Result<ComposedOutputs> part = Status::Internal("no answer");
    try {
      part = backend_->Predict(begin == 0 && end == x.rows() ? x : x.SliceRows(begin, end));
    } catch (const std::exception& error) {
      part = Status::Internal(std::string("prediction failed: ") + error.what());
    }
    if (!part.ok()) return part.status();
    if (part->outputs.rows() != end - begin) {
      return Status::Internal("the backend answered " + std::to_string(part->outputs.rows()) +
                              " rows for " + std::to_string(end - begin) + " samples");
    }
    AppendComposed(&whole, *part);
  }
  return whole;
}

void BatchQueue::Run(const std::vector<std::shared_ptr<Pending>>& batch) {
  if (batch.size() == 1) {
    batch[0]->result = Call(batch[0]->x);
    return;
  }
  Array x = batch[0]->x;
  for (size_t i = 1; i < batch.size(); ++i) {
    x.shape[0] += batch[i]->x.rows();
    x.values.insert(x.values.end(), batch[i]->x.values.begin(), batch[i]->x.values.end());
  }
  Result<ComposedOutputs> all = Call(x);
  if (!all.ok()) {
    // One request's fault must not fail the others: each alone says whose it is.
    spdlog::debug("a batch of {} requests failed ({}); answering each alone", batch.size(),
                  all.status().message());
    for (const std::shared_ptr<Pending>& pending : batch) pending->result = Call(pending->x);
    return;
  }
  int64_t row = 0;
  for (const std::shared_ptr<Pending>& pending : batch) {
    pending->result = SliceComposed(*all, row, row + pending->x.rows());
    row += pending->x.rows();
  }
}

}  // namespace cloudbook
