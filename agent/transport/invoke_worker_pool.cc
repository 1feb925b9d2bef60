#include "agent/transport/invoke_worker_pool.h"

#include <utility>

namespace cloudbook {

InvokeWorkerPool::InvokeWorkerPool(size_t max_threads, size_t max_queued)
    : max_threads_(max_threads == 0 ? 1 : max_threads),
      max_queued_(max_queued),
      state_(std::make_shared<State>()) {}

InvokeWorkerPool::~InvokeWorkerPool() { Shutdown(std::chrono::milliseconds(0)); }

bool InvokeWorkerPool::TrySubmit(Job job) {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopping) return false;
    const size_t waiting = state_->queue.size();
    const bool thread_free = state_->idle > waiting;
    if (!thread_free && threads_.size() < max_threads_) {
      ++state_->alive;
      threads_.emplace_back([state = state_] { WorkerLoop(state); });
    } else if (!thread_free && waiting >= max_queued_) {
      return false;
    }
    state_->queue.push_back(std::move(job));
  }
  // Outside the lock: the woken worker does not run straight into a held mutex.
  state_->work_ready.notify_one();
  return true;
}

size_t InvokeWorkerPool::load() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->running + state_->queue.size();
}

void InvokeWorkerPool::WorkerLoop(const std::shared_ptr<State>& state) {
  std::unique_lock<std::mutex> lock(state->mutex);
  while (true) {
    ++state->idle;
    state->work_ready.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
    --state->idle;
    if (state->stopping) break;
    Job job = std::move(state->queue.front());
    state->queue.pop_front();
    ++state->running;
    lock.unlock();
    job();
    job = nullptr;  // release what the job holds before reporting idle
    lock.lock();
    --state->running;
  }
  --state->alive;
  state->worker_exited.notify_all();
}

size_t InvokeWorkerPool::Shutdown(std::chrono::milliseconds grace) {
  std::vector<std::thread> threads;
  size_t still_running = 0;
  {
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (shut_down_) return 0;
    shut_down_ = true;
    state_->stopping = true;
    state_->queue.clear();
    state_->work_ready.notify_all();
    state_->worker_exited.wait_for(lock, grace, [&] { return state_->alive == 0; });
    still_running = state_->alive;
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) {
    if (still_running == 0) {
      thread.join();
    } else {
      thread.detach();  // the thread holds its own reference to the state
    }
  }
  return still_running;
}

}  // namespace cloudbook
