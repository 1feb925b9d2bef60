// The dashboard's model panel (docs/dashboard.md "Model") over a real finished local run
// (cloudbook-maker --local --baseline on a Fashion-MNIST slice): the run's results carry the
// composed and baseline confusion matrices, the model route its facts, the samples route raw
// test samples, and the "try it" route forwards a sample or a picture to the model server the
// shared folder announces, or says clearly that none is up and how to start one.
// The model server here is a stand-in (cpp-httplib in the test, answering TF Serving's
// documented shape); the real cloudbook-serve is checked end to end elsewhere.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <thread>

#include "shared/formats/run_model.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/tunables.h"
#include "tests/headless_browser.h"
#include "tests/integration/dashboard_fixture.h"

namespace cloudbook::testing {
namespace {

using std::chrono::seconds;

constexpr int64_t kTestSamples = 300;

// A model server stand-in on 127.0.0.1: answers POST /v1/models/<name>:predict with
// {"predictions": [[...]]} (class 7 most likely) and keeps the last request body. A request
// whose instance is the string "bad" gets TF Serving's 400 {"error": ...}.
class StandInServer {
 public:
  StandInServer() {
    server_.Post(R"(/v1/models/([^/:]+):predict)", [this](const httplib::Request& request,
                                                          httplib::Response& response) {
      Json body = Json::parse(request.body, nullptr, false);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last_ = body;
        model_ = request.matches[1].str();
      }
      if (body.is_object() && body["instances"][0] == "bad") {
        response.status = 400;
        response.set_content(R"({"error": "wrong shape: [2]"})", "application/json");
        return;
      }
      Json probabilities = Json::array();
      for (int c = 0; c < 10; ++c) probabilities.push_back(c == 7 ? 0.91 : 0.01);
      response.set_content(Json({{"predictions", {probabilities}}}).dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~StandInServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  Json last() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }
  std::string model() {
    std::lock_guard<std::mutex> lock(mutex_);
    return model_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  Json last_;
  std::string model_;
};

class DashboardModel : public DashboardTest {
 protected:
  void SetUp() override {
    DashboardTest::SetUp();
    if (!SetUpFashionMlpProject(project_.path())) GTEST_SKIP() << "Fashion-MNIST is missing";
  }

  // A finished local run with its baseline; false (with the log) when the maker failed.
  void RunLocally(const std::string& run) {
    const CommandResult made =
        RunShell(std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker " + P() +
                     " --subnets 3 --train-limit 2000 --test-limit " +
                     std::to_string(kTestSamples) + " --local --baseline --run-name " + run,
                 scratch_.Join("maker.err"));
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  }

  void Announce(const std::string& run, int port) {
    ServeEndpoint endpoint;
    endpoint.url = "http://127.0.0.1:" + std::to_string(port);
    endpoint.model_name = run;
    endpoint.run = run;
    endpoint.mode = "local";
    endpoint.host = "127.0.0.1";
    endpoint.port = port;
    endpoint.pid = getpid();
    ASSERT_TRUE(
        WriteServeEndpoint(SharedFolderLayout(project_.Join("distributed")), endpoint).ok());
  }
};

// The status the dashboard answers to a POST head announcing `length` body bytes (none sent);
// -1 without an answer within 10 s.
int StatusOfHead(int port, const std::string& path, size_t length) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval wait{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  int status = -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string head = "POST " + path +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Content-Length: " +
                             std::to_string(length) + "\r\n\r\n";
    char answer[64] = {};
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()) &&
        ::recv(fd, answer, sizeof answer - 1, 0) > 12) {
      status = std::atoi(answer + 9);  // "HTTP/1.1 413 ..."
    }
  }
  ::close(fd);
  return status;
}

int64_t Sum(const Json& matrix) {
  int64_t total = 0;
  for (const Json& row : matrix) {
    for (const Json& count : row) total += count.get<int64_t>();
  }
  return total;
}

TEST_F(DashboardModel, AFinishedRunShowsItsMatricesAndForwardsTryItToTheAnnouncedServer) {
  RunLocally("tried");
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");

  // The results carry both confusion matrices ([true][predicted], every test sample once).
  const Reply detail = Call("GET", "/api/v1/runs/tried");
  ASSERT_EQ(detail.status, 200) << detail.body;
  for (const char* model : {"composed", "baseline"}) {
    const Json& section = detail.body["results"][model];
    ASSERT_TRUE(section.contains("confusion")) << model << ": " << section.dump().substr(0, 400);
    ASSERT_EQ(section["confusion"].size(), 10u) << model;
    EXPECT_EQ(section["confusion"][0].size(), 10u) << model;
    EXPECT_EQ(Sum(section["confusion"]), kTestSamples) << model;
    ASSERT_EQ(section["per_class"].size(), 10u) << model;
    int64_t support = 0, correct = 0;
    for (size_t c = 0; c < 10; ++c) {
      support += section["per_class"][c]["support"].get<int64_t>();
      correct += section["confusion"][c][c].get<int64_t>();
    }
    EXPECT_EQ(support, kTestSamples) << model;
    // The diagonal is the accuracy the run reported.
    EXPECT_NEAR(static_cast<double>(correct) / kTestSamples,
                section["metrics"]["accuracy"].get<double>(), 1e-9)
        << model;
  }

  // The model's facts, and no server yet.
  const Reply facts = Call("GET", "/api/v1/runs/tried/model");
  ASSERT_EQ(facts.status, 200) << facts.body;
  EXPECT_EQ(facts.body["composition"], "product");
  EXPECT_EQ(facts.body["input_shape"], Json::parse("[28, 28]"));
  EXPECT_EQ(facts.body["image"], true);
  EXPECT_EQ(facts.body["subnets"], 3);
  EXPECT_EQ(facts.body["model"], detail.body["results"]["model"]);
  EXPECT_TRUE(facts.body["servers"].empty());
  EXPECT_EQ(Call("GET", "/api/v1/runs/nothing/model").status, 404);

  // A test sample, raw as the IDX file holds it (0..255, not divided by data.x.scale).
  const Reply sample = Call("GET", "/api/v1/runs/tried/samples/3");
  ASSERT_EQ(sample.status, 200) << sample.body;
  ASSERT_EQ(sample.body["values"].size(), 784u);
  float high = 0;
  for (const Json& value : sample.body["values"]) high = std::max(high, value.get<float>());
  EXPECT_GT(high, 1.5f) << "raw pixels, not scaled";
  EXPECT_LE(high, 255.0f);
  EXPECT_EQ(sample.body["samples"], kTestSamples);
  EXPECT_TRUE(sample.body["label"].is_number_integer());
  const Reply beyond = Call("GET", "/api/v1/runs/tried/samples/" + std::to_string(kTestSamples));
  EXPECT_EQ(beyond.status, 400);
  EXPECT_NE(beyond.body.dump().find("0.." + std::to_string(kTestSamples - 1)), std::string::npos)
      << beyond.body;

  // No server announced: a clear 503 saying how to start one.
  Reply tried = Call("POST", "/api/v1/runs/tried/try", {{"sample", 3}});
  EXPECT_EQ(tried.status, 503) << tried.body;
  EXPECT_NE(tried.body.value("error", "").find("no model server is up for run tried"),
            std::string::npos)
      << tried.body;
  EXPECT_NE(
      tried.body.value("start", "").find("cloudbook-serve --project-folder " + project_.path()),
      std::string::npos)
      << tried.body;

  // Announced but gone (nothing listens): still 503, naming the server that did not answer.
  const uint16_t closed_port = [] {
    httplib::Server probe;
    return static_cast<uint16_t>(probe.bind_to_any_port("127.0.0.1"));
  }();
  Announce("tried", closed_port);
  tried = Call("POST", "/api/v1/runs/tried/try", {{"sample", 3}});
  EXPECT_EQ(tried.status, 503) << tried.body;
  EXPECT_NE(tried.body.value("error", "").find("did not answer"), std::string::npos) << tried.body;
  ASSERT_EQ(::unlink(SharedFolderLayout(project_.Join("distributed"))
                         .serve_endpoint_file("127.0.0.1", closed_port)
                         .c_str()),
            0);

  // A server up: the sample goes as one TF Serving instance nested in the input shape.
  StandInServer server;
  Announce("tried", server.port());
  tried = Call("POST", "/api/v1/runs/tried/try", {{"sample", 3}});
  ASSERT_EQ(tried.status, 200) << tried.body << Log("dashboard.log");
  EXPECT_EQ(tried.body["class"], 7);
  EXPECT_EQ(tried.body["top"].size(), 5u);
  EXPECT_DOUBLE_EQ(tried.body["top"][0]["probability"].get<double>(), 0.91);
  EXPECT_EQ(server.model(), "tried");
  const Json sent = server.last()["instances"][0];
  ASSERT_EQ(sent.size(), 28u);
  ASSERT_EQ(sent[0].size(), 28u);
  EXPECT_EQ(sent[0][0], sample.body["values"][0]);
  EXPECT_EQ(sent[27][27], sample.body["values"][783]);
  EXPECT_EQ(sent[3][5], sample.body["values"][3 * 28 + 5]);

  // A picture goes as {"b64": ...}; it may be larger than an action's body cap.
  const std::string picture(GetTunables().max_request_body_bytes + 4000, 'A');
  tried = Call("POST", "/api/v1/runs/tried/try", {{"image", picture}});
  ASSERT_EQ(tried.status, 200) << tried.body;
  EXPECT_EQ(server.last()["instances"][0], Json({{"b64", picture}}));
  // ... but an action's body may not, and a picture has its own cap (refused on the head).
  EXPECT_EQ(StatusOfHead(port_, "/api/v1/agents", GetTunables().max_request_body_bytes + 1), 413);
  EXPECT_EQ(StatusOfHead(port_, "/api/v1/runs/tried/try", GetTunables().max_try_body_bytes + 1),
            413);

  // Bad requests get 400 with the reason; the server's own refusal is passed on.
  EXPECT_EQ(Call("POST", "/api/v1/runs/tried/try", {{"image", "not base64!"}}).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/runs/tried/try", Json::object()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/runs/tried/try", {{"sample", -1}}).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/runs/nothing/try", {{"sample", 0}}).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/runs/tried/try", {{"sample", 0}}, "text/plain").status, 415);

  // A server announced with a token is not sent one (the announcement is not signed).
  ServeEndpoint guarded;
  guarded.url = "http://127.0.0.1:" + std::to_string(server.port());
  guarded.model_name = "tried";
  guarded.run = "tried";
  guarded.host = "127.0.0.1";
  guarded.port = server.port();
  guarded.token_required = true;
  ASSERT_TRUE(WriteServeEndpoint(SharedFolderLayout(project_.Join("distributed")), guarded).ok());
  tried = Call("POST", "/api/v1/runs/tried/try", {{"sample", 3}});
  EXPECT_EQ(tried.status, 503) << tried.body;
  EXPECT_NE(tried.body.value("error", "").find("requires a token"), std::string::npos)
      << tried.body;

  // The real server (cloudbook-serve --local): the box gets the answer the server gives.
  const SharedFolderLayout shared(project_.Join("distributed"));
  ASSERT_EQ(::unlink(shared.serve_endpoint_file("127.0.0.1", server.port()).c_str()), 0);
  const pid_t real =
      Spawn({std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-serve", "--project-folder",
             project_.path(), "--run", "tried", "--local", "--listen", "127.0.0.1:0"},
            "serve.log");
  int real_port = 0;
  WaitFor(
      [&] {
        for (const ServeEndpoint& found : ReadServeEndpoints(shared)) {
          if (found.pid == real) real_port = found.port;
        }
        return real_port > 0;
      },
      60 * TestTimeScale());
  ASSERT_GT(real_port, 0) << Log("serve.log");
  tried = Call("POST", "/api/v1/runs/tried/try", {{"sample", 3}});
  ASSERT_EQ(tried.status, 200) << tried.body << Log("serve.log");
  httplib::Client direct("127.0.0.1", real_port);
  auto answer = direct.Post("/v1/models/fashion_mlp:predict",
                            Json{{"instances", Json::array({sample.body["values"]})}}.dump(),
                            "application/json");
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  ASSERT_EQ(answer->status, 200) << answer->body;
  const Json probabilities = Json::parse(answer->body)["predictions"][0];
  const auto best = std::max_element(probabilities.begin(), probabilities.end(),
                                     [](const Json& a, const Json& b) {
                                       return a.get<double>() < b.get<double>();
                                     }) -
                    probabilities.begin();
  EXPECT_EQ(tried.body["class"], best) << tried.body << answer->body;
  EXPECT_NEAR(tried.body["top"][0]["probability"].get<double>(),
              probabilities[static_cast<size_t>(best)].get<double>(), 1e-6);
  EXPECT_EQ(::kill(real, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(real, 30), 0) << Log("serve.log");
}

TEST_F(DashboardModel, ThePageDrawsTheConfusionHeatMapsWithClassNamesAndTriesASample) {
  CB_REQUIRE_BROWSER();
  RunLocally("shown");
  // Class names as an image-folder run keeps them (Fashion-MNIST's IDX files have none).
  const std::string model_file = project_.Join("distributed/models/shown/model.json");
  Result<Json> model = ReadJsonFile(model_file);
  ASSERT_TRUE(model.ok());
  (*model)["class_names"] = {"tshirt", "trouser", "pullover", "dress", "coat",
                             "sandal", "shirt",   "sneaker",  "bag",   "boot"};
  WriteFile(model_file, model->dump());
  StandInServer server;
  Announce("shown", server.port());
  ASSERT_TRUE(StartDashboard()) << Log("dashboard.log");

  Result<std::unique_ptr<HeadlessBrowser>> browser = HeadlessBrowser::Launch(scratch_.path());
  ASSERT_TRUE(browser.ok()) << browser.status().ToString();
  ASSERT_TRUE(
      (*browser)->Navigate("http://127.0.0.1:" + std::to_string(port_) + "/", seconds(30)).ok());
  auto failure = [&] {
    return "\nconsole:\n" + (*browser)->ConsoleMessages() + "\ndashboard log:\n" +
           Log("dashboard.log");
  };
  // Two 10 x 10 heat maps, labelled with the model's class names; the per-class table.
  Status shown = (*browser)->WaitUntil(
      "document.querySelectorAll('#confusion-composed svg rect.cell').length === 100 && "
      "document.querySelectorAll('#confusion-baseline svg rect.cell').length === 100 && "
      "[...document.querySelectorAll('#confusion-composed svg text.class-label')]"
      ".some(t => t.textContent === 'sneaker') && "
      "document.querySelectorAll('#per-class tbody tr').length === 10",
      seconds(60));
  ASSERT_TRUE(shown.ok()) << shown.ToString() << failure();
  // Try it: the sample is drawn and the server's answer shown as bars.
  ASSERT_TRUE((*browser)->Click("#try-send", seconds(10)).ok()) << failure();
  shown = (*browser)->WaitUntil(
      "document.querySelectorAll('#try-answer .prob-row').length === 5 && "
      "document.querySelector('#try-answer').textContent.includes('7 sneaker') && "
      "!document.querySelector('#try-picture').hidden",
      seconds(30));
  EXPECT_TRUE(shown.ok()) << shown.ToString() << failure();
  const std::string artifacts = std::string(CLOUDBOOK_BIN_DIR) + "/../test-artifacts";
  fs::create_directories(artifacts);
  EXPECT_TRUE((*browser)->Screenshot(artifacts + "/dashboard-model.png").ok());
}

}  // namespace
}  // namespace cloudbook::testing
