// cloudbook-serve --local as a real process on loopback (docs/serve.md): after a local run on a
// Fashion-MNIST slice it answers TF Serving's predict call with exactly the classes
// ModelPredictor gives, batches concurrent clients, refuses bad requests with a 4xx and a JSON
// message and keeps running, announces itself while it runs, and off loopback wants its token.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <zlib.h>

#include <cmath>
#include <thread>

#include "shared/data/project_data.h"
#include "shared/formats/run_model.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/json_io.h"
#include "shared/nn/model_predictor.h"
#include "shared/project_layout.h"
#include "tests/integration/agent_process.h"

namespace cloudbook {
namespace {

class ServeTest : public testing::AgentProcessTest {
 protected:
  void SetUp() override {
    AgentProcessTest::SetUp();
    if (!MakeFashionMlpDus("--subnets 3 --train-limit 600 --test-limit 200 --local")) {
      GTEST_SKIP() << "Fashion-MNIST is missing or the local run failed";
    }
    auto model = OpenRunModel(Shared(), "");
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = *model;
    auto predictor = ModelPredictor::Load(model_);
    ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
    auto data =
        LoadProjectData(ProjectLayout(project_.path()), model_.program(), model_.input_shape);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    test_x_ = data->test.x;
    auto composed = (*predictor)->Predict(test_x_);
    ASSERT_TRUE(composed.ok()) << composed.status().ToString();
    expected_ = composed->predictions;
  }

  SharedFolderLayout Shared() const { return SharedFolderLayout(project_.Join("distributed")); }

  // Starts cloudbook-serve and waits for its announcement: its port.
  int StartServer(const std::vector<std::string>& options) {
    std::vector<std::string> arguments = {std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-serve",
                                          "--project-folder", project_.path()};
    arguments.insert(arguments.end(), options.begin(), options.end());
    server_ = Spawn(arguments, "serve.log");
    int port = 0;
    WaitFor(
        [&] {
          const std::vector<ServeEndpoint> found = ReadServeEndpoints(Shared());
          if (!found.empty()) {
            endpoint_ = found[0];
            port = found[0].port;
          }
          return port > 0;
        },
        60 * testing::TestTimeScale());
    EXPECT_GT(port, 0) << Log("serve.log");
    return port;
  }

  // Raw values (0..255) of test samples [begin, end) as JSON instances of shape [28, 28].
  Json Instances(int64_t begin, int64_t end) const {
    Json instances = Json::array();
    for (int64_t i = begin; i < end; ++i) {
      Json rows = Json::array();
      for (int64_t r = 0; r < 28; ++r) {
        Json row = Json::array();
        for (int64_t c = 0; c < 28; ++c) {
          row.push_back(
              std::lround(test_x_.values[static_cast<size_t>(i * 784 + r * 28 + c)] * 255.0));
        }
        rows.push_back(std::move(row));
      }
      instances.push_back(std::move(rows));
    }
    return instances;
  }

  std::vector<int64_t> Expected(int64_t begin, int64_t end) const {
    return std::vector<int64_t>(expected_.begin() + begin, expected_.begin() + end);
  }

  static std::unique_ptr<httplib::Client> Client(int port) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(std::chrono::milliseconds(testing::Scaled(std::chrono::seconds(60))));
    return client;
  }

  std::string Path(const std::string& rest = "") const { return "/v1/models/fashion_mlp" + rest; }

  RunModel model_;
  Array test_x_;
  std::vector<int64_t> expected_;
  ServeEndpoint endpoint_;
  pid_t server_ = -1;
};

// The status code and error message of a raw request (a Content-Length no client library
// would send with a short body).
std::pair<int, std::string> RawRequest(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return {-1, "connect failed"};
  }
  (void)!write(fd, request.data(), request.size());
  std::string answer;
  char buffer[4096];
  for (ssize_t got; (got = read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, got);
  close(fd);
  const size_t space = answer.find(' ');
  const int status = space == std::string::npos ? -1 : std::atoi(answer.c_str() + space + 1);
  const size_t body = answer.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : answer.substr(body + 4)};
}

// A grayscale 8-bit PNG of `pixels` (rows of `width`), zlib-compressed, as any image tool
// writes one.
std::string GrayPng(const std::vector<uint8_t>& pixels, uint32_t width, uint32_t height) {
  const auto big_endian = [](uint32_t value) {
    return std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                       static_cast<char>(value >> 8), static_cast<char>(value)};
  };
  const auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    const uLong crc =
        crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    return big_endian(static_cast<uint32_t>(data.size())) + body +
           big_endian(static_cast<uint32_t>(crc));
  };
  std::string rows;
  for (uint32_t y = 0; y < height; ++y) {
    rows += '\0';  // filter: none
    rows.append(reinterpret_cast<const char*>(pixels.data() + y * width), width);
  }
  std::string packed(compressBound(static_cast<uLong>(rows.size())), '\0');
  uLongf packed_size = static_cast<uLongf>(packed.size());
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
           reinterpret_cast<const Bytef*>(rows.data()), static_cast<uLong>(rows.size()));
  packed.resize(packed_size);
  const std::string header =
      big_endian(width) + big_endian(height) + std::string("\x08\0\0\0\0", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", header) + chunk("IDAT", packed) +
         chunk("IEND", "");
}

std::string Base64(const std::string& bytes) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 2]);
    text += kDigits[(group >> 18) & 63];
    text += kDigits[(group >> 12) & 63];
    text += i + 1 < bytes.size() ? kDigits[(group >> 6) & 63] : '=';
    text += i + 2 < bytes.size() ? kDigits[group & 63] : '=';
  }
  return text;
}

TEST_F(ServeTest, LocalServerAnswersLikeThePredictorBatchesAndRefusesBadRequests) {
  const int port = StartServer({"--local", "--listen", "127.0.0.1:0", "--max-wait-ms", "20"});
  ASSERT_GT(port, 0);
  EXPECT_EQ(endpoint_.mode, "local");
  EXPECT_EQ(endpoint_.run, model_.run);
  EXPECT_FALSE(endpoint_.token_required);
  EXPECT_NE(Log("serve.log")
                .find("at http://127.0.0.1:" + std::to_string(port) + "/v1/models/fashion_mlp"),
            std::string::npos)
      << Log("serve.log");
  auto client = Client(port);

  auto status = client->Get(Path());
  ASSERT_TRUE(status) << httplib::to_string(status.error());
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(Json::parse(status->body)["model_version_status"][0]["state"], "AVAILABLE");
  auto metadata = client->Get(Path("/metadata"));
  ASSERT_TRUE(metadata);
  const Json info = Json::parse(metadata->body)["cloudbook"];
  EXPECT_EQ(info["input_shape"], Json({28, 28}));
  EXPECT_EQ(info["run"], model_.run);
  EXPECT_EQ(info["mode"], "local");

  // One request of 60 samples (nested lists; ~100 KB sent as `curl -d` sends it, form-encoded),
  // and one columnar and flat.
  auto predicted = client->Post(Path(":predict"), Json{{"instances", Instances(0, 60)}}.dump(),
                                "application/x-www-form-urlencoded");
  ASSERT_TRUE(predicted);
  ASSERT_EQ(predicted->status, 200) << predicted->body;
  const Json answer = Json::parse(predicted->body);
  EXPECT_EQ(answer["classes"].get<std::vector<int64_t>>(), Expected(0, 60));
  ASSERT_EQ(answer["predictions"].size(), 60u);
  double sum = 0;
  for (const Json& p : answer["predictions"][0]) sum += p.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-5);
  Json flat = Json::array();
  const Json sample = Instances(60, 61)[0];
  for (const Json& row : sample) {
    for (const Json& value : row) flat.push_back(value);
  }
  auto columnar =
      client->Post(Path(":predict"), Json{{"inputs", Json::array({flat})}}.dump(), "text/plain");
  ASSERT_TRUE(columnar);
  ASSERT_EQ(columnar->status, 200) << columnar->body;
  EXPECT_EQ(Json::parse(columnar->body)["classes"].get<std::vector<int64_t>>(), Expected(60, 61));
  EXPECT_TRUE(Json::parse(columnar->body).contains("outputs"));

  // The same samples as PNG files: decoded (and resized, here 28 -> 28) as image folders are,
  // the same answer (to float rounding: a matrix product's last bits depend on the batch size).
  Json images = Json::array();
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<uint8_t> pixels;
    const Json image = Instances(i, i + 1)[0];
    for (const Json& row : image) {
      for (const Json& value : row) pixels.push_back(static_cast<uint8_t>(value.get<int>()));
    }
    images.push_back(Json{{"b64", Base64(GrayPng(pixels, 28, 28))}});
  }
  auto decoded =
      client->Post(Path(":predict"), Json{{"instances", images}}.dump(), "application/json");
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->status, 200) << decoded->body;
  EXPECT_EQ(Json::parse(decoded->body)["classes"].get<std::vector<int64_t>>(), Expected(0, 3));
  for (size_t i = 0; i < 3; ++i) {
    for (size_t c = 0; c < 10; ++c) {
      EXPECT_NEAR(Json::parse(decoded->body)["predictions"][i][c].get<double>(),
                  answer["predictions"][i][c].get<double>(), 1e-5);
    }
  }

  // One sample at a time on one connection from Python's http.client (what TF Serving users'
  // scripts use): milliseconds, not the 40 ms of a delayed ACK waiting on Nagle (the listening
  // socket sets TCP_NODELAY).
  testing::WriteFile(scratch_.Join("one_by_one.py"), R"(import http.client, json, sys, time
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
body = json.dumps({"instances": [[0] * 784]})
times = []
for _ in range(21):
    start = time.perf_counter()
    connection.request("POST", "/v1/models/fashion_mlp:predict", body)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status
    times.append((time.perf_counter() - start) * 1000)
print(sorted(times)[10])
)");
  const testing::CommandResult python = testing::RunShell(
      "timeout 120 /usr/bin/python3 " + scratch_.Join("one_by_one.py") + " " + std::to_string(port),
      scratch_.Join("python.err"));
  ASSERT_EQ(python.exit_code, 0) << python.err;
  EXPECT_LT(std::stod(python.out), 30 * testing::TestTimeScale()) << "median of 21, ms";

  // Eight clients at once, five requests of five samples each: every answer right, and
  // requests shared batches.
  std::vector<std::thread> clients;
  std::vector<std::string> failures(8);
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      auto own = Client(port);
      for (int r = 0; r < 5; ++r) {
        const int64_t begin = 70 + (t * 5 + r) * 3;
        auto got =
            own->Post(Path(":predict"), Json{{"instances", Instances(begin, begin + 3)}}.dump(),
                      "application/json");
        if (!got || got->status != 200) {
          failures[t] = got ? got->body : httplib::to_string(got.error());
          return;
        }
        if (Json::parse(got->body)["classes"].get<std::vector<int64_t>>() !=
            Expected(begin, begin + 3)) {
          failures[t] = "wrong classes for samples from " + std::to_string(begin);
          return;
        }
      }
    });
  }
  for (std::thread& thread : clients) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  const Json batching = Json::parse(client->Get(Path("/metadata"))->body)["cloudbook"]["batching"];
  EXPECT_EQ(batching["requests"], 64) << batching.dump();
  EXPECT_GT(batching["shared_batches"].get<int>(), 0) << batching.dump();
  EXPECT_LT(batching["batches"].get<int>(), 64) << batching.dump();

  // Bad requests: 4xx with a JSON message naming the fault; the server stays up.
  const auto refused = [&](const std::string& method, const std::string& path,
                           const std::string& body, int expected_status,
                           const std::string& expected_words) {
    auto got = method == "GET" ? client->Get(path) : client->Post(path, body, "application/json");
    ASSERT_TRUE(got) << path;
    EXPECT_EQ(got->status, expected_status) << got->body;
    const Json error = Json::parse(got->body, nullptr, false);
    ASSERT_TRUE(error.is_object() && error.contains("error")) << got->body;
    EXPECT_NE(error["error"].get<std::string>().find(expected_words), std::string::npos)
        << got->body;
  };
  refused("POST", Path(":predict"), R"({"instances": [[1, 2, 3]]})", 400,
          "the model takes [28, 28]");
  refused("POST", Path(":predict"), R"({"instances": [["a"]]})", 400, "a string");
  refused("POST", Path(":predict"), R"({"instances": [true]})", 400, "a boolean");
  refused("POST", Path(":predict"), R"({"instances": [[1, 2)", 400, "invalid JSON");
  refused("POST", Path(":predict"), R"({"examples": []})", 400, "missing \"instances\"");
  refused("POST", Path(":predict"), std::string(100000, '['), 400, "nests deeper");
  refused("POST", "/v1/models/other:predict", R"({"instances": []})", 404, "Servable not found");
  refused("GET", Path(":predict"), "", 405, "use POST");
  refused("POST", Path(), "{}", 405, "use GET");
  const auto huge = RawRequest(port, "POST " + Path(":predict") +
                                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                                         "1000000000\r\nConnection: close\r\n\r\n{");
  EXPECT_EQ(huge.first, 413) << huge.second;
  EXPECT_NE(huge.second.find("serve_max_body_bytes"), std::string::npos) << huge.second;
  auto still = client->Get(Path());
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);

  // SIGTERM: a clean stop that takes the announcement away.
  ::kill(server_, SIGTERM);
  EXPECT_EQ(WaitForExit(server_, 30 * testing::TestTimeScale()), 0) << Log("serve.log");
  EXPECT_TRUE(ReadServeEndpoints(Shared()).empty());
}

TEST_F(ServeTest, OffLoopbackEveryCallNeedsTheToken) {
  const int port = StartServer({"--local", "--listen", "0.0.0.0:0"});
  ASSERT_GT(port, 0);
  EXPECT_TRUE(endpoint_.token_required);
  auto token = ReadJsonFile(project_.Join("dashboard/token.json"));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto client = Client(port);
  auto without = client->Get(Path());
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 401);
  EXPECT_NE(without->body.find("token"), std::string::npos);
  auto wrong = client->Post(Path(":predict"), httplib::Headers{{"Authorization", "Bearer nope"}},
                            Json{{"instances", Instances(0, 1)}}.dump(), "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  const httplib::Headers bearer = {
      {"Authorization", "Bearer " + (*token)["token"].get<std::string>()}};
  auto with = client->Post(Path(":predict"), bearer, Json{{"instances", Instances(0, 2)}}.dump(),
                           "application/json");
  ASSERT_TRUE(with);
  ASSERT_EQ(with->status, 200) << with->body;
  EXPECT_EQ(Json::parse(with->body)["classes"].get<std::vector<int64_t>>(), Expected(0, 2));
}

}  // namespace
}  // namespace cloudbook
