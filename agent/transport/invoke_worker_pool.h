// The threads that run incoming invokes, so training never runs on (or blocks) the transport
// thread. Threads start on demand up to a maximum; a bounded queue holds the rest. Shutdown is
// bounded: a job that does not return within the grace period is left to finish on a detached
// thread (its handler must honour InvokeContext::cancelled()). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cloudbook {

class InvokeWorkerPool {
 public:
  using Job = std::function<void()>;

  InvokeWorkerPool(size_t max_threads, size_t max_queued);
  ~InvokeWorkerPool();  // Shutdown(0) if not done yet
  InvokeWorkerPool(const InvokeWorkerPool&) = delete;
  InvokeWorkerPool& operator=(const InvokeWorkerPool&) = delete;

  // Runs `job` on a worker; false (job not taken) when the queue is full or shutting down.
  bool TrySubmit(Job job);
  // Jobs running or waiting.
  size_t load() const;
  // Drops queued jobs, waits up to `grace` for running ones, detaches threads still busy.
  // Returns how many were detached. Idempotent.
  size_t Shutdown(std::chrono::milliseconds grace);

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable work_ready;
    std::condition_variable worker_exited;
    std::deque<Job> queue;
    size_t idle = 0;
    size_t running = 0;
    size_t alive = 0;
    bool stopping = false;
  };
  static void WorkerLoop(const std::shared_ptr<State>& state);

  const size_t max_threads_;
  const size_t max_queued_;
  std::shared_ptr<State> state_;      // shared with the threads, which may outlive the pool
  std::vector<std::thread> threads_;  // touched only under state_->mutex
  bool shut_down_ = false;            // guarded by state_->mutex
};

}  // namespace cloudbook
