// Issue 15, item 9: clients that send their request head one line a second, from one address
// and in numbers above the HTTP server's workers, must not keep a legitimate request from
// being answered; their connections are capped per address and closed at the request
// deadline (dashboard/request_gate.h). A real dashboard process, real sockets on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "dashboard/request_gate.h"
#include "shared/tunables.h"
#include "tests/integration/dashboard_fixture.h"

namespace cloudbook::testing {
namespace {

using Clock = std::chrono::steady_clock;

// cpp-httplib's worker threads on this machine (max(8, cores - 1)).
constexpr int kHttplibWorkers = 8;
// How long a legitimate request may take while the slow clients hold their connections.
constexpr std::chrono::seconds kAnswerBound{3};
// The attackers' pace: one header line per connection this often.
constexpr std::chrono::milliseconds kSlowLineEvery{1000};

// A TCP connection to 127.0.0.1:port from `source` (any 127/8 address).
int ConnectFrom(const std::string& source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sends until it closes or `limit` passes.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  std::string got;
  char chunk[4096];
  while (Clock::now() < deadline) {
    pollfd polled{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&polled, 1, static_cast<int>(std::max<int64_t>(1, left))) <= 0) continue;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    got.append(chunk, static_cast<size_t>(n));
  }
  return got;
}

// A whole GET from `source`: the status line of the answer ("" when none within `limit`).
std::string Get(const std::string& source, int port, const std::string& path,
                std::chrono::milliseconds limit) {
  const int fd = ConnectFrom(source, port);
  if (fd < 0) return "";
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nConnection: close\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string answer = ReadUntilClosed(fd, limit);
  close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

// Connections that send a request line, then one header line per kSlowLineEvery, never the
// blank line that ends the head; each remembers when the server closed it.
class SlowClients {
 public:
  ~SlowClients() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (const Slow& slow : slow_) close(slow.fd);
  }

  // Opens `count` more from 127.0.0.1; the number that connected.
  int Open(int count, int port) {
    std::lock_guard<std::mutex> lock(mutex_);
    int opened = 0;
    for (int i = 0; i < count; ++i) {
      const int fd = ConnectFrom("127.0.0.1", port);
      if (fd < 0) continue;
      const std::string line = "GET /api/v1/agents HTTP/1.1\r\n";
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      slow_.push_back({fd, Clock::now(), Clock::time_point()});
      ++opened;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { Drip(); });
    return opened;
  }

  // How many the server has closed, and the longest any stayed open.
  std::pair<int, Clock::duration> Closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    int closed = 0;
    Clock::duration longest{};
    for (const Slow& slow : slow_) {
      if (slow.closed == Clock::time_point()) continue;
      ++closed;
      longest = std::max(longest, slow.closed - slow.opened);
    }
    return {closed, longest};
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return slow_.size();
  }

 private:
  struct Slow {
    int fd;
    Clock::time_point opened;
    Clock::time_point closed;  // zero while open
  };

  void Drip() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (int line = 0; !stop_; ++line) {
      for (Slow& slow : slow_) {
        if (slow.closed != Clock::time_point()) continue;
        // Closed, or answered (a refusal: the head never ends): either way, done with.
        char probe;
        const ssize_t peeked = ::recv(slow.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        const std::string header = "X-Slow-" + std::to_string(line) + ": 1\r\n";
        if (peeked >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
            ::send(slow.fd, header.data(), header.size(), MSG_NOSIGNAL) < 0) {
          slow.closed = Clock::now();
        }
      }
      wake_.wait_for(lock, kSlowLineEvery, [this] { return stop_; });
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<Slow> slow_;
  std::thread thread_;
};

TEST_F(DashboardTest, SlowHeaderClientsDoNotStarveALegitimateRequest) {
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");
  ASSERT_EQ(Get("127.0.0.1", port_, "/api/v1/overview", Scaled(kAnswerBound)).find("200"), 9u);
  SlowClients slow;
  // More slow connections than the HTTP server has workers, under the per-address cap: a
  // request from the same address is still answered at once.
  ASSERT_EQ(slow.Open(kHttplibWorkers + 4, port_), kHttplibWorkers + 4);
  Clock::time_point start = Clock::now();
  std::string status = Get("127.0.0.1", port_, "/api/v1/overview", Scaled(kAnswerBound));
  EXPECT_EQ(status, "HTTP/1.1 200 OK") << Log("dashboard.log");
  const auto same_address_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  // Past the cap, new connections from that address are refused at once; another address is
  // still served.
  slow.Open(GetTunables().max_connections_per_client, port_);
  const int over_cap = static_cast<int>(slow.size()) - GetTunables().max_connections_per_client;
  EXPECT_TRUE(WaitFor([&] { return slow.Closed().first >= over_cap; }, 5 * TestTimeScale()));
  // The legitimate request's connection may still count for its address for a moment after
  // its answer arrived (the server releases it once its worker has closed it): one more
  // refusal is then right. The admitted slow connections all stay open.
  EXPECT_GE(slow.Closed().first, over_cap);
  EXPECT_LE(slow.Closed().first, over_cap + 1);
  start = Clock::now();
  status = Get("127.0.0.2", port_, "/api/v1/overview", Scaled(kAnswerBound));
  EXPECT_EQ(status, "HTTP/1.1 200 OK") << Log("dashboard.log");
  const auto other_address_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  // The admitted slow connections are closed at the request deadline, although they kept
  // sending a line a second.
  ASSERT_TRUE(WaitFor(
      [&] { return slow.Closed().first == static_cast<int>(slow.size()); },
      std::chrono::duration<double>(Scaled(GetTunables().request_deadline_ms + kAnswerBound))
          .count()))
      << slow.Closed().first << " of " << slow.size() << " closed";
  const auto longest_s = std::chrono::duration<double>(slow.Closed().second).count();
  EXPECT_LT(longest_s,
            std::chrono::duration<double>(Scaled(GetTunables().request_deadline_ms + kAnswerBound))
                .count());
  std::cout << "answered in " << same_address_ms << " ms (same address) and " << other_address_ms
            << " ms (another address) beside " << slow.size()
            << " slow connections; the last slow one closed after " << longest_s << " s\n";
  EXPECT_EQ(Get("127.0.0.1", port_, "/api/v1/overview", Scaled(kAnswerBound)), "HTTP/1.1 200 OK");
  EXPECT_NE(Log("dashboard.log").find("did not send a whole request within"), std::string::npos);
}

}  // namespace
}  // namespace cloudbook::testing
