// Transport benchmark (bench/README.md, "Transport benchmark"): PeerTransport on loopback
// against a raw TCP socket (the practical limit) and against the original system's HTTP POST
// of a JSON list (bench/http_json_reference.py). One run prints a table, PASS/MISS lines and
// writes JSON (default bench/results/transport.json).
//
//   build/bin/cloudbook_transport_bench [--out bench/results/transport.json]
//       [--http-reference bench/http_json_reference.py] [--python /usr/bin/python3]
//       [--latency-calls 2000] [--quick]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "agent/transport/curve_keys.h"
#include "agent/transport/invoke_context.h"
#include "agent/transport/peer_transport.h"
#include "shared/wire/wire_message.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using cloudbook::CurveKeyPair;
using cloudbook::InvokeContext;
using cloudbook::PeerTransport;
using cloudbook::PeerTransportOptions;
using cloudbook::Result;
using cloudbook::WireMessage;

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "transport_bench: %s\n", what.c_str());
  std::exit(2);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

std::string SizeName(size_t bytes) {
  if (bytes >= kMiB) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes / kKiB) + " KiB";
}

// ---------------------------------------------------------------------------------------------
// PeerTransport pair: "bench-a" calls "bench-b"; b's handler answers with an empty result.

struct Pair {
  std::unique_ptr<PeerTransport> a;
  std::unique_ptr<PeerTransport> b;
};

Pair StartPair(bool plaintext) {
  CurveKeyPair keys_a;
  CurveKeyPair keys_b;
  if (!plaintext) {
    Result<CurveKeyPair> ka = cloudbook::GenerateCurveKeyPair();
    Result<CurveKeyPair> kb = cloudbook::GenerateCurveKeyPair();
    if (!ka.ok() || !kb.ok()) Die("GenerateCurveKeyPair failed (libzmq without CURVE?)");
    keys_a = *ka;
    keys_b = *kb;
  }
  auto known = std::make_shared<std::map<std::string, std::string>>();
  (*known)[keys_a.public_key] = "bench-a";
  (*known)[keys_b.public_key] = "bench-b";
  auto authorizer = [known](const std::string& key, std::string* agent_id) {
    const auto found = known->find(key);
    if (found == known->end()) return false;
    *agent_id = found->second;
    return true;
  };
  auto logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto options = [&](const std::string& id, const CurveKeyPair& keys) {
    PeerTransportOptions o;
    o.agent_id = id;
    o.plaintext = plaintext;
    o.keys = keys;
    o.authorizer = authorizer;
    o.logger = logger;
    // Defaults otherwise (heartbeat 1 s, peer timeout 3 s, HWM 4): what an agent runs with.
    // A 256 MiB CURVE round trip must not read as a lost peer.
    o.peer_timeout = 10000ms;
    return o;
  };
  auto empty_result = [](InvokeContext& context) -> Result<WireMessage> {
    WireMessage result;
    // Touch the tensor (as a real handler would read it in place) without copying.
    if (!context.request().tensor_frames.empty()) {
      volatile const char first = *static_cast<const char*>(context.request().tensor_frames[0].data());
      (void)first;
    }
    return result;
  };
  Pair pair;
  auto b = PeerTransport::Start(options("bench-b", keys_b), empty_result);
  if (!b.ok()) Die("start b: " + b.status().message());
  pair.b = std::move(b).value();
  auto a = PeerTransport::Start(options("bench-a", keys_a), empty_result);
  if (!a.ok()) Die("start a: " + a.status().message());
  pair.a = std::move(a).value();
  const cloudbook::Status added = pair.a->AddPeer("bench-b", pair.b->endpoint(), keys_b.public_key);
  if (!added.ok()) Die("AddPeer: " + added.message());
  if (!pair.a->WaitForPeer("bench-b", 5000ms)) Die("peer bench-b not alive after 5 s");
  return pair;
}

WireMessage MakeInvoke(const std::shared_ptr<std::vector<float>>& tensor) {
  WireMessage invoke;
  invoke.header.function = "bench.sink";
  if (tensor) {
    cloudbook::TensorDescriptor d;
    d.name = "t";
    d.dtype = cloudbook::WireDtype::kFloat32;
    d.shape = {static_cast<int64_t>(tensor->size())};
    d.byte_count = tensor->size() * sizeof(float);
    invoke.header.tensors.push_back(d);
    // Zero-copy: the same buffer is sent every time and kept alive by the frame.
    invoke.tensor_frames.push_back(
        cloudbook::FrameFromBuffer(tensor->data(), d.byte_count, tensor));
  }
  return invoke;
}

double CallOnce(PeerTransport& a, const std::shared_ptr<std::vector<float>>& tensor) {
  WireMessage invoke = MakeInvoke(tensor);
  const auto start = Clock::now();
  Result<WireMessage> result = a.Call("bench-b", std::move(invoke), 120000ms);
  const double seconds = Seconds(Clock::now() - start);
  if (!result.ok()) Die("Call: " + result.status().message());
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// Raw TCP: 8-byte length prefix + payload, 1-byte ack; receiver on its own thread.

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
bool ReadAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::recv(fd, p, size, 0);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

class RawTcp {
 public:
  RawTcp() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) Die("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    if (::listen(listener, 1) != 0) Die("listen");
    receiver_ = std::thread([listener] {
      const int fd = ::accept(listener, nullptr, nullptr);
      ::close(listener);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::vector<char> buffer;
      for (;;) {
        uint64_t size = 0;
        if (!ReadAll(fd, &size, sizeof size)) break;
        if (buffer.size() < size) buffer.resize(size);
        if (!ReadAll(fd, buffer.data(), size)) break;
        const char ack = 1;
        if (!WriteAll(fd, &ack, 1)) break;
      }
      ::close(fd);
    });
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawTcp() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    receiver_.join();
  }
  double RoundTrip(const void* data, uint64_t size) {
    const auto start = Clock::now();
    char ack = 0;
    if (!WriteAll(fd_, &size, sizeof size) || !WriteAll(fd_, data, size) || !ReadAll(fd_, &ack, 1)) {
      Die("raw tcp round trip failed");
    }
    return Seconds(Clock::now() - start);
  }

 private:
  int fd_ = -1;
  std::thread receiver_;
};

// ---------------------------------------------------------------------------------------------

struct Row {
  size_t bytes = 0;
  int reps = 0;
  double raw_s = 0;        // median round-trip seconds
  double plain_s = 0;
  double curve_s = 0;
  double Mbps(double s) const { return s > 0 ? static_cast<double>(bytes) / s / 1e6 : 0; }
};

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

struct HttpReference {
  bool ok = false;
  double median_s = 0;
  double min_s = 0;
  int reps = 0;
  std::string error;
};

HttpReference RunHttpReference(const std::string& python, const std::string& script, int reps) {
  HttpReference ref;
  const std::string command =
      python + " " + script + " --floats 1048576 --repeat " + std::to_string(reps) + " --json 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ref.error = "popen failed";
    return ref;
  }
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int rc = ::pclose(pipe);
  auto number = [&](const std::string& key, double* out) {
    const size_t at = output.rfind("\"" + key + "\":");
    if (at == std::string::npos) return false;
    *out = std::strtod(output.c_str() + at + key.size() + 3, nullptr);
    return true;
  };
  double r = 0;
  if (rc != 0 || !number("median_seconds", &ref.median_s) || !number("min_seconds", &ref.min_s) ||
      !number("repeat", &r)) {
    ref.error = "reference failed (rc " + std::to_string(rc) + "): " + output;
    return ref;
  }
  ref.reps = static_cast<int>(r);
  ref.ok = true;
  return ref;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = "bench/results/transport.json";
  std::string script = "bench/http_json_reference.py";
  std::string python = "/usr/bin/python3";
  int latency_calls = 2000;
  int http_reps = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--out") out_path = next();
    else if (arg == "--http-reference") script = next();
    else if (arg == "--python") python = next();
    else if (arg == "--latency-calls") latency_calls = std::stoi(next());
    else if (arg == "--http-repeat") http_reps = std::stoi(next());
    else if (arg == "--quick") quick = true;
    else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--out FILE] [--http-reference SCRIPT] [--python PY] [--latency-calls N]\n"
          "          [--http-repeat N] [--quick]\n", argv[0]);
      return 0;
    } else {
      Die("unknown argument " + arg);
    }
  }
  const auto run_start = Clock::now();

  // size, repetitions (fewer for big messages; the whole run stays well under 2 minutes).
  std::vector<std::pair<size_t, int>> sizes = {
      {1 * kKiB, 2000}, {64 * kKiB, 500}, {1 * kMiB, 100}, {4 * kMiB, 40}, {16 * kMiB, 15},
      {256 * kMiB, 4}};
  if (quick) {
    for (auto& s : sizes) s.second = std::max(2, s.second / 10);
    latency_calls = std::min(latency_calls, 500);
  }

  std::vector<Row> rows(sizes.size());
  {
    RawTcp raw;
    Pair plain = StartPair(true);
    Pair curve = StartPair(false);
    for (size_t i = 0; i < sizes.size(); ++i) {
      const size_t bytes = sizes[i].first;
      const int reps = sizes[i].second;
      auto tensor = std::make_shared<std::vector<float>>(bytes / sizeof(float));
      for (size_t k = 0; k < tensor->size(); ++k) (*tensor)[k] = static_cast<float>(k % 1000) * 0.001F;
      const int warmup = std::max(1, std::min(reps / 10, 20));
      std::vector<double> raw_t, plain_t, curve_t;
      // Interleave the three per repetition so machine drift hits all alike.
      for (int r = -warmup; r < reps; ++r) {
        const double t_raw = raw.RoundTrip(tensor->data(), bytes);
        const double t_plain = CallOnce(*plain.a, tensor);
        const double t_curve = CallOnce(*curve.a, tensor);
        if (r < 0) continue;
        raw_t.push_back(t_raw);
        plain_t.push_back(t_plain);
        curve_t.push_back(t_curve);
      }
      rows[i] = Row{bytes, reps, Percentile(raw_t, 0.5), Percentile(plain_t, 0.5),
                    Percentile(curve_t, 0.5)};
      std::fprintf(stderr, "  %-8s raw %9.1f MB/s  plaintext %9.1f MB/s  curve %9.1f MB/s\n",
                   SizeName(bytes).c_str(), rows[i].Mbps(rows[i].raw_s), rows[i].Mbps(rows[i].plain_s),
                   rows[i].Mbps(rows[i].curve_s));
    }

    // Empty-invoke latency (no tensors), interleaved plaintext / CURVE.
    std::vector<double> lat_plain, lat_curve;
    for (int r = -200; r < latency_calls; ++r) {
      const double tp = CallOnce(*plain.a, nullptr);
      const double tc = CallOnce(*curve.a, nullptr);
      if (r < 0) continue;
      lat_plain.push_back(tp * 1e6);
      lat_curve.push_back(tc * 1e6);
    }
    const double p50_plain = Percentile(lat_plain, 0.5), p99_plain = Percentile(lat_plain, 0.99);
    const double p50_curve = Percentile(lat_curve, 0.5), p99_curve = Percentile(lat_curve, 0.99);
    // Raw TCP 1-byte payload round trip, for context.
    std::vector<double> lat_raw;
    const char one = 0;
    for (int r = -200; r < latency_calls; ++r) {
      const double t = raw.RoundTrip(&one, 1);
      if (r >= 0) lat_raw.push_back(t * 1e6);
    }
    const double p50_raw = Percentile(lat_raw, 0.5), p99_raw = Percentile(lat_raw, 0.99);
    plain.a.reset();
    curve.a.reset();

    // HTTP + JSON reference (4 MiB = 1,048,576 floats).
    const HttpReference http = RunHttpReference(python, script, http_reps);
    const Row* row4 = nullptr;
    for (const Row& row : rows) {
      if (row.bytes == 4 * kMiB) row4 = &row;
    }

    // ------------------------------------------------------------------------------------------
    std::printf("\nTransport benchmark, loopback 127.0.0.1, median round trip per size\n");
    std::printf("(one float32 tensor in an invoke, empty result back; raw TCP: 8-byte length + payload, 1-byte ack)\n\n");
    std::printf("%-8s %5s | %10s | %10s %7s | %10s %7s\n", "size", "reps", "raw MB/s", "plain MB/s",
                "/raw", "CURVE MB/s", "/raw");
    std::printf("---------------+------------+--------------------+-------------------\n");
    bool throughput_pass = true;
    double worst_ratio = 1e9;
    for (const Row& row : rows) {
      const double rp = row.Mbps(row.plain_s) / row.Mbps(row.raw_s);
      const double rc = row.Mbps(row.curve_s) / row.Mbps(row.raw_s);
      std::printf("%-8s %5d | %10.1f | %10.1f %6.0f%% | %10.1f %6.0f%%\n", SizeName(row.bytes).c_str(),
                  row.reps, row.Mbps(row.raw_s), row.Mbps(row.plain_s), rp * 100, row.Mbps(row.curve_s),
                  rc * 100);
      if (row.bytes >= kMiB) {
        worst_ratio = std::min(worst_ratio, rp);
        if (rp < 0.70) throughput_pass = false;
      }
    }
    std::printf("\nEmpty invoke round trip (%d calls each): plaintext p50 %.1f us p99 %.1f us; "
                "CURVE p50 %.1f us p99 %.1f us; raw TCP 1-byte p50 %.1f us p99 %.1f us\n",
                latency_calls, p50_plain, p99_plain, p50_curve, p99_curve, p50_raw, p99_raw);
    double speedup_plain = 0, speedup_curve = 0;
    if (http.ok && row4 != nullptr) {
      speedup_plain = http.median_s / row4->plain_s;
      speedup_curve = http.median_s / row4->curve_s;
      std::printf("\n4 MiB tensor (1,048,576 floats): HTTP POST + JSON list (Python http.server) %.3f s "
                  "(median of %d)\n  PeerTransport plaintext %.3f ms -> %.0fx faster; CURVE %.3f ms -> %.0fx faster\n",
                  http.median_s, http.reps, row4->plain_s * 1e3, speedup_plain, row4->curve_s * 1e3,
                  speedup_curve);
    } else {
      std::printf("\nHTTP+JSON reference failed: %s\n", http.error.c_str());
    }
    const bool latency_pass = p50_curve < 100 && p50_plain < 100;
    const bool http_pass = http.ok && speedup_curve >= 50 && speedup_plain >= 50;
    std::printf("\n%s  throughput >= 70%% of raw TCP from 1 MiB up, CURVE off (worst %.0f%%)\n",
                throughput_pass ? "PASS" : "MISS", worst_ratio * 100);
    std::printf("%s  empty-invoke p50 < 100 us (plaintext %.1f us, CURVE %.1f us)\n",
                latency_pass ? "PASS" : "MISS", p50_plain, p50_curve);
    std::printf("%s  >= 50x faster than HTTP+JSON for a 4 MiB tensor (plaintext %.0fx, CURVE %.0fx)\n",
                http_pass ? "PASS" : "MISS", speedup_plain, speedup_curve);
    const double total_s = Seconds(Clock::now() - run_start);
    std::printf("\nTotal run %.1f s\n", total_s);

    // JSON ------------------------------------------------------------------------------------
    std::ostringstream j;
    j << "{\n  \"benchmark\": \"transport\",\n  \"host\": \"loopback 127.0.0.1\",\n"
      << "  \"method\": \"median round trip; invoke carrying one float32 tensor, empty result; raw TCP = 8-byte length prefix + payload, 1-byte ack\",\n"
      << "  \"throughput\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& row = rows[i];
      j << "    {\"bytes\": " << row.bytes << ", \"reps\": " << row.reps
        << ", \"raw_tcp_seconds\": " << Fmt("%.9f", row.raw_s)
        << ", \"plaintext_seconds\": " << Fmt("%.9f", row.plain_s)
        << ", \"curve_seconds\": " << Fmt("%.9f", row.curve_s)
        << ", \"raw_tcp_MBps\": " << Fmt("%.1f", row.Mbps(row.raw_s))
        << ", \"plaintext_MBps\": " << Fmt("%.1f", row.Mbps(row.plain_s))
        << ", \"curve_MBps\": " << Fmt("%.1f", row.Mbps(row.curve_s))
        << ", \"plaintext_ratio_to_raw\": " << Fmt("%.3f", row.Mbps(row.plain_s) / row.Mbps(row.raw_s))
        << ", \"curve_ratio_to_raw\": " << Fmt("%.3f", row.Mbps(row.curve_s) / row.Mbps(row.raw_s)) << "}"
        << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    j << "  ],\n  \"empty_invoke_latency_us\": {\"calls\": " << latency_calls
      << ", \"plaintext_p50\": " << Fmt("%.2f", p50_plain) << ", \"plaintext_p99\": " << Fmt("%.2f", p99_plain)
      << ", \"curve_p50\": " << Fmt("%.2f", p50_curve) << ", \"curve_p99\": " << Fmt("%.2f", p99_curve)
      << ", \"raw_tcp_1byte_p50\": " << Fmt("%.2f", p50_raw) << ", \"raw_tcp_1byte_p99\": " << Fmt("%.2f", p99_raw)
      << "},\n  \"http_json_reference\": {\"ok\": " << (http.ok ? "true" : "false")
      << ", \"floats\": 1048576, \"repeat\": " << http.reps
      << ", \"median_seconds\": " << Fmt("%.6f", http.median_s) << ", \"min_seconds\": " << Fmt("%.6f", http.min_s)
      << ", \"plaintext_4MiB_seconds\": " << Fmt("%.9f", row4 ? row4->plain_s : 0)
      << ", \"curve_4MiB_seconds\": " << Fmt("%.9f", row4 ? row4->curve_s : 0)
      << ", \"speedup_plaintext\": " << Fmt("%.1f", speedup_plain)
      << ", \"speedup_curve\": " << Fmt("%.1f", speedup_curve) << "},\n"
      << "  \"targets\": {\"throughput_70pct_raw_from_1MiB_plaintext\": " << (throughput_pass ? "\"PASS\"" : "\"MISS\"")
      << ", \"worst_plaintext_ratio_from_1MiB\": " << Fmt("%.3f", worst_ratio)
      << ", \"empty_invoke_p50_under_100us\": " << (latency_pass ? "\"PASS\"" : "\"MISS\"")
      << ", \"http_json_speedup_50x\": " << (http_pass ? "\"PASS\"" : "\"MISS\"") << "},\n"
      << "  \"total_run_seconds\": " << Fmt("%.1f", total_s) << "\n}\n";
    std::ofstream file(out_path);
    if (!file) Die("cannot write " + out_path);
    file << j.str();
    std::printf("Wrote %s\n", out_path.c_str());
  }
  return 0;
}
