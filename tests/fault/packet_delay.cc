// cloudbook_packet_delay: a netem-like "delay D ms" for kernels without sch_netem, for the
// network-fault tests (adapted from ../shared/recipes/nfq_delay.c). It holds every packet that
// iptables sends to NFQUEUE <queue> for D ms, first in first out (so order is kept), then lets
// it through. Run it INSIDE the namespace whose packets it delays (queues are per namespace):
//
//   iptables -A OUTPUT -o eth0 -j NFQUEUE --queue-num 0 --queue-bypass
//   cloudbook_packet_delay 0 20
//
// With --queue-bypass, packets pass undelayed while no program listens (before it starts,
// after it stops). SIGTERM or SIGINT releases what it holds and exits 0, after printing
// "packet_delay: <n> packets delayed" (the tests check the delay really applied).
// Exit codes: 0 stopped by a signal, 1 cannot bind the queue, 2 bad arguments.
#include <arpa/inet.h>  // before linux/netfilter.h
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <string>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
}

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void OnSignal(int) { stop_requested = 1; }

double Now() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct HeldPacket {
  uint32_t id;
  double due;
};

// What the queue callback shares with the loop (libnetfilter_queue's callbacks are C).
struct DelayQueue {
  nfq_q_handle* queue = nullptr;
  double delay_s = 0;
  std::deque<HeldPacket> held;
  unsigned long delayed = 0;
  static constexpr size_t kMaxHeld = 65536;  // beyond this, packets pass at once
};

int OnPacket(nfq_q_handle* queue, nfgenmsg*, nfq_data* packet, void* data) {
  auto* delay = static_cast<DelayQueue*>(data);
  const uint32_t id = ntohl(nfq_get_msg_packet_hdr(packet)->packet_id);
  if (delay->held.size() >= DelayQueue::kMaxHeld) {
    return nfq_set_verdict(queue, id, NF_ACCEPT, 0, nullptr);
  }
  delay->held.push_back({id, Now() + delay->delay_s});
  ++delay->delayed;
  return 0;
}

void ReleaseDue(DelayQueue* delay, bool all) {
  const double now = Now();
  while (!delay->held.empty() && (all || delay->held.front().due <= now)) {
    nfq_set_verdict(delay->queue, delay->held.front().id, NF_ACCEPT, 0, nullptr);
    delay->held.pop_front();
  }
}

bool ParseNumber(const char* text, double* value) {
  char* end = nullptr;
  *value = std::strtod(text, &end);
  return end != text && *end == '\0' && *value >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  double queue_number = 0;
  double delay_ms = 0;
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::printf("usage: %s QUEUE_NUM DELAY_MS\nholds packets of NFQUEUE QUEUE_NUM for DELAY_MS\n",
                argv[0]);
    return 0;
  }
  if (argc != 3 || !ParseNumber(argv[1], &queue_number) || !ParseNumber(argv[2], &delay_ms) ||
      queue_number > 65535 || delay_ms > 10000) {
    std::fprintf(stderr, "usage: %s QUEUE_NUM DELAY_MS (0..65535, 0..10000)\n", argv[0]);
    return 2;
  }
  DelayQueue delay;
  delay.delay_s = delay_ms / 1000.0;
  nfq_handle* handle = nfq_open();
  if (handle == nullptr) {
    std::perror("packet_delay: nfq_open");
    return 1;
  }
  delay.queue = nfq_create_queue(handle, static_cast<uint16_t>(queue_number), &OnPacket, &delay);
  if (delay.queue == nullptr || nfq_set_mode(delay.queue, NFQNL_COPY_META, 0) < 0) {
    std::perror("packet_delay: cannot bind the queue (bound already?)");
    nfq_close(handle);
    return 1;
  }
  nfq_set_queue_maxlen(delay.queue, DelayQueue::kMaxHeld / 2);
  // Fail open: when the kernel's queue is full, packets pass instead of being dropped.
  nfq_set_queue_flags(delay.queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
  nfnl_rcvbufsiz(nfq_nfnlh(handle), 8 << 20);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::fprintf(stderr, "packet_delay: queue %d, %.1f ms\n", static_cast<int>(queue_number),
               delay_ms);
  const int fd = nfq_fd(handle);
  alignas(8) static char buffer[65536];
  while (!stop_requested) {
    int timeout_ms = 100;  // also how soon a signal is noticed
    if (!delay.held.empty()) {
      const double wait = delay.held.front().due - Now();
      timeout_ms = wait <= 0 ? 0 : std::min(100, static_cast<int>(wait * 1000) + 1);
    }
    pollfd readable = {fd, POLLIN, 0};
    if (poll(&readable, 1, timeout_ms) > 0) {
      for (;;) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0 && errno == ENOBUFS) continue;  // the kernel dropped some: go on
        if (n <= 0) break;
        nfq_handle_packet(handle, buffer, static_cast<int>(n));
      }
    }
    ReleaseDue(&delay, false);
  }
  ReleaseDue(&delay, true);
  std::fprintf(stderr, "packet_delay: %lu packets delayed\n", delay.delayed);
  nfq_destroy_queue(delay.queue);
  nfq_close(handle);
  return 0;
}
