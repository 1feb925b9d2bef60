#include "dashboard/request_gate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "shared/printable.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

using Clock = std::chrono::steady_clock;

// Refused and expired connections are counted and logged at most every gate_log_interval_ms
// (no log floods).
constexpr size_t kReadChunkBytes = 16 * 1024;

int MillisecondsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 60'000)));
}

std::string AddressOf(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text,
              sizeof text);
  }
  return text[0] ? text : "unknown";
}

bool SameNameIgnoringCase(const std::string& line, const char* name) {
  const size_t length = std::strlen(name);
  if (line.size() <= length || line[length] != ':') return false;
  return strncasecmp(line.c_str(), name, length) == 0;
}

// A short answer the gate gives itself, sent without waiting (best effort), before closing.
void Refuse(int fd, int status, const char* reason, const std::string& message) {
  const std::string body = "{\"error\": \"" + message + "\"}";
  const std::string answer = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                             "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             "Content-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body;
  [[maybe_unused]] const ssize_t sent =
      ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// A connection whose request is still arriving.
struct Pending {
  int fd = -1;
  std::string client;
  Clock::time_point deadline;
  std::string buffer;
  size_t head_end = std::string::npos;  // offset of the blank line ending the head
  size_t total = std::string::npos;     // head + body bytes, once the head is known
};

}  // namespace

using BodyLimit = RequestGate::BodyLimit;

class RequestGate::Impl {
 public:
  Impl(int listen_fd, int port, BodyLimit max_body_bytes)
      : listen_fd_(listen_fd), port_(port), max_body_bytes_(std::move(max_body_bytes)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  ~Impl() {
    Stop();
    if (stop_fd_ >= 0) close(stop_fd_);
  }

  int port() const { return port_; }

  void Start(int backend_port) {
    backend_port_ = backend_port;
    thread_ = std::thread([this] { Loop(); });
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t woken = ::write(stop_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    std::unique_lock<std::mutex> lock(mutex_);
    forwards_done_.wait(lock, [this] { return forwarding_ == 0; });
    lock.unlock();
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
  }

 private:
  void Loop();
  void Accept();
  // Reads what arrived; false when the connection is finished with (closed or refused).
  bool Read(Pending& connection);
  // True once the whole request is in the buffer; refuses malformed or oversized ones (and
  // sets `refused`).
  bool Complete(Pending& connection, bool& refused);
  void Release(const std::string& client);
  void Forward(int client_fd, std::string request, std::string client);
  // Waits until `fd` is ready for `events`; false at the deadline or when the gate stops.
  bool WaitReady(int fd, short events, Clock::time_point deadline) const;
  bool SendAll(int fd, const std::string& bytes, Clock::time_point deadline) const;
  void LogCounts(bool force);

  int listen_fd_;
  const int port_;
  const BodyLimit max_body_bytes_;
  int stop_fd_ = -1;
  int backend_port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
  std::list<Pending> pending_;  // the loop thread's

  std::mutex mutex_;  // guards the counts below
  std::map<std::string, int> per_client_;
  int connections_ = 0;
  int forwarding_ = 0;
  std::condition_variable forwards_done_;

  // Loop thread only: what to log at the next interval.
  int refused_ = 0;
  int expired_ = 0;
  std::string last_refused_client_;
  Clock::time_point last_log_ = Clock::now();
};

void RequestGate::Impl::Loop() {
  std::vector<pollfd> polled;
  while (!stopped_) {
    polled.clear();
    polled.push_back({stop_fd_, POLLIN, 0});
    polled.push_back({listen_fd_, POLLIN, 0});
    Clock::time_point next = Clock::now() + GetTunables().gate_log_interval_ms;
    for (const Pending& connection : pending_) {
      polled.push_back({connection.fd, POLLIN, 0});
      next = std::min(next, connection.deadline);
    }
    if (::poll(polled.data(), polled.size(), MillisecondsUntil(next) + 1) < 0 && errno != EINTR) {
      spdlog::error("dashboard gate: poll: {}", std::strerror(errno));
      break;
    }
    if (polled[0].revents != 0) break;
    if (polled[1].revents & POLLIN) Accept();
    const Clock::time_point now = Clock::now();
    size_t index = 2;
    for (auto connection = pending_.begin(); connection != pending_.end(); ++index) {
      const bool ready = index < polled.size() && polled[index].revents != 0;
      bool keep = true;
      if (ready) keep = Read(*connection);
      if (keep && now >= connection->deadline) {
        ++expired_;
        keep = false;
        close(connection->fd);
        Release(connection->client);
      }
      connection = keep ? std::next(connection) : pending_.erase(connection);
    }
    LogCounts(false);
  }
  for (Pending& connection : pending_) {
    close(connection.fd);
    Release(connection.client);
  }
  pending_.clear();
  LogCounts(true);
}

void RequestGate::Impl::Accept() {
  for (;;) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: none left; EMFILE and others: next round
    const std::string client = AddressOf(address);
    bool admitted = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      int& count = per_client_[client];
      if (count < GetTunables().max_connections_per_client &&
          connections_ < GetTunables().max_connections) {
        ++count;
        ++connections_;
        admitted = true;
      } else if (count == 0) {
        per_client_.erase(client);
      }
    }
    if (!admitted) {
      Refuse(fd, 429, "Too Many Requests", "too many connections from this address");
      close(fd);
      ++refused_;
      last_refused_client_ = client;
      continue;
    }
    Pending connection;
    connection.fd = fd;
    connection.client = client;
    connection.deadline = Clock::now() + GetTunables().request_deadline_ms;
    pending_.push_back(std::move(connection));
  }
}

bool RequestGate::Impl::Read(Pending& connection) {
  char chunk[kReadChunkBytes];
  bool complete = false;
  bool refused = false;
  while (!complete && !refused) {
    const ssize_t got = ::recv(connection.fd, chunk, sizeof chunk, 0);
    if (got > 0) {
      connection.buffer.append(chunk, static_cast<size_t>(got));
      complete = Complete(connection, refused);
    } else if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else if (got == 0 || errno != EINTR) {
      break;  // closed by the client, or an error
    }
  }
  if (!complete) {
    close(connection.fd);
    Release(connection.client);
    return false;
  }
  std::string request = connection.buffer.substr(0, connection.total);
  const size_t first_line_end = request.find("\r\n");
  request.insert(first_line_end + 2,
                 std::string(kClientHeader) + ": " + connection.client + "\r\n");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++forwarding_;
  }
  std::thread(&Impl::Forward, this, connection.fd, std::move(request), connection.client).detach();
  return false;
}

bool RequestGate::Impl::Complete(Pending& connection, bool& refused) {
  if (connection.head_end == std::string::npos) {
    connection.head_end = connection.buffer.find("\r\n\r\n");
    if (connection.head_end == std::string::npos) {
      if (connection.buffer.size() > GetTunables().max_request_head_bytes) {
        Refuse(connection.fd, 431, "Request Header Fields Too Large", "request head too large");
        refused = true;
      }
      return false;
    }
    if (connection.head_end > GetTunables().max_request_head_bytes) {
      Refuse(connection.fd, 431, "Request Header Fields Too Large", "request head too large");
      refused = true;
      return false;
    }
    size_t body = 0;
    size_t start = connection.buffer.find("\r\n") + 2;
    const std::string request_line = connection.buffer.substr(0, start - 2);
    const size_t target_begin = request_line.find(' ') + 1;  // npos + 1 = 0: the whole line
    const size_t max_body = max_body_bytes_(
        request_line.substr(target_begin, request_line.find(' ', target_begin) - target_begin));
    while (start < connection.head_end + 2) {
      const size_t end = connection.buffer.find("\r\n", start);
      const std::string line = connection.buffer.substr(start, end - start);
      start = end + 2;
      if (SameNameIgnoringCase(line, "transfer-encoding")) {
        Refuse(connection.fd, 411, "Length Required", "send the body with a Content-Length");
        refused = true;
        return false;
      }
      if (SameNameIgnoringCase(line, "content-length")) {
        const std::string value = line.substr(line.find(':') + 1);
        const size_t digits = value.find_first_not_of(' ');
        const std::string number = digits == std::string::npos ? "" : value.substr(digits);
        if (number.empty() || number.size() > 12 ||
            number.find_first_not_of("0123456789 ") != std::string::npos ||
            std::stoull(number) > max_body) {
          Refuse(connection.fd, 413, "Payload Too Large", "request body too large");
          refused = true;
          return false;
        }
        body = std::stoull(number);
      }
    }
    connection.total = connection.head_end + 4 + body;
  }
  return connection.buffer.size() >= connection.total;
}

void RequestGate::Impl::Release(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  --connections_;
  auto found = per_client_.find(client);
  if (found != per_client_.end() && --found->second <= 0) per_client_.erase(found);
}

bool RequestGate::Impl::WaitReady(int fd, short events, Clock::time_point deadline) const {
  while (!stopped_) {
    if (Clock::now() >= deadline) return false;
    pollfd polled[2] = {{fd, events, 0}, {stop_fd_, POLLIN, 0}};
    const int ready = ::poll(polled, 2, MillisecondsUntil(deadline) + 1);
    if (ready < 0 && errno != EINTR) return false;
    if (polled[1].revents != 0) return false;
    if (polled[0].revents != 0) return true;
  }
  return false;
}

bool RequestGate::Impl::SendAll(int fd, const std::string& bytes,
                                Clock::time_point deadline) const {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t wrote =
        ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (wrote > 0) {
      sent += static_cast<size_t>(wrote);
    } else if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!WaitReady(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

void RequestGate::Impl::Forward(int client_fd, std::string request, std::string client) {
  const Clock::time_point deadline = Clock::now() + GetTunables().forward_deadline_ms;
  std::string response;
  const int backend = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(backend_port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected =
      backend >= 0 &&
      (::connect(backend, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 ||
       (errno == EINPROGRESS && WaitReady(backend, POLLOUT, deadline)));
  int error = 0;
  socklen_t error_size = sizeof error;
  if (connected && getsockopt(backend, SOL_SOCKET, SO_ERROR, &error, &error_size) == 0 &&
      error != 0) {
    connected = false;
  }
  if (connected && SendAll(backend, request, deadline)) {
    char chunk[kReadChunkBytes];
    while (response.size() < GetTunables().max_response_bytes) {
      const ssize_t got = ::recv(backend, chunk, sizeof chunk, 0);
      if (got > 0) {
        response.append(chunk, static_cast<size_t>(got));
      } else if (got == 0) {
        break;  // the server answered and closed (one request per connection)
      } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        if (!WaitReady(backend, POLLIN, deadline)) break;
      } else {
        break;
      }
    }
  }
  if (backend >= 0) close(backend);
  if (response.empty()) {
    Refuse(client_fd, 502, "Bad Gateway", "the dashboard did not answer");
  } else if (SendAll(client_fd, response, deadline)) {
    ::shutdown(client_fd, SHUT_WR);
  }
  close(client_fd);
  Release(client);
  std::lock_guard<std::mutex> lock(mutex_);
  if (--forwarding_ == 0) forwards_done_.notify_all();
}

void RequestGate::Impl::LogCounts(bool force) {
  if (refused_ == 0 && expired_ == 0) return;
  if (!force && Clock::now() - last_log_ < GetTunables().gate_log_interval_ms) return;
  if (refused_ > 0) {
    spdlog::warn("refused {} connection(s) over {} per client address (last from {})", refused_,
                 GetTunables().max_connections_per_client, Printable(last_refused_client_));
  }
  if (expired_ > 0) {
    spdlog::warn("closed {} connection(s) that did not send a whole request within {} s", expired_,
                 GetTunables().request_deadline_ms.count() / 1000.0);
  }
  refused_ = 0;
  expired_ = 0;
  last_log_ = Clock::now();
}

Result<std::unique_ptr<RequestGate>> RequestGate::Bind(const std::string& address, int port,
                                                       BodyLimit max_body_bytes) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(address.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return Status::IoError("cannot resolve " + address);
  }
  int fd = -1;
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    fd = ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  candidate->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only allows a restart over TIME_WAIT; no SO_REUSEPORT: a second
    // dashboard on a taken port must fail, not share the traffic.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) == 0 &&
        ::listen(fd, SOMAXCONN) == 0) {
      break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) return Status::IoError("cannot listen on " + address + ":" + service);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                        : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  return std::unique_ptr<RequestGate>(
      new RequestGate(std::make_unique<Impl>(fd, bound_port, std::move(max_body_bytes))));
}

RequestGate::RequestGate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RequestGate::~RequestGate() { Stop(); }
int RequestGate::port() const { return impl_->port(); }
void RequestGate::Start(int backend_port) { impl_->Start(backend_port); }
void RequestGate::Stop() { impl_->Stop(); }

}  // namespace cloudbook
