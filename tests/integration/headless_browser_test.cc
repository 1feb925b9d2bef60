// HeadlessBrowser against a real cpp-httplib server on 127.0.0.1: a real mouse click that
// makes the page POST, a confirm() dialog, JS exceptions, a full-page screenshot.
#include "tests/headless_browser.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/loopback_servers.h"
#include "tests/test_support.h"

namespace cloudbook::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A spacer pushes the buttons below the 900 px viewport: Click must scroll, and the
// screenshot must reach beyond the viewport. The POST body says whether the click event was
// a trusted (real input) one.
constexpr char kPage[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>browser test</title></head>
<body style="margin:0;font-family:sans-serif">
<h1>Headless browser test</h1>
<div style="height:1500px;background:#eef">spacer</div>
<button id="press">Press</button>
<button id="guarded">Guarded</button>
<p id="status">idle</p>
<script>
async function post(path, event) {
  const reply = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                   body: JSON.stringify({trusted: event.isTrusted})});
  const body = await reply.json();
  document.getElementById('status').textContent = 'pressed ' + body.count;
}
document.getElementById('press').addEventListener('click', (e) => post('/api/press', e));
document.getElementById('guarded').addEventListener('click', (e) => {
  if (confirm('Really press?')) post('/api/guarded', e);
  else document.getElementById('status').textContent = 'declined';
});
console.log('page ready');
</script></body></html>)";

class HeadlessBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CB_REQUIRE_BROWSER();
    for (const char* path : {"/api/press", "/api/guarded"}) {
      server_.Post(path, [this, path](const httplib::Request& request, httplib::Response& reply) {
        std::lock_guard<std::mutex> lock(mutex_);
        posts_.push_back(std::string(path) + " " + request.body);
        reply.set_content("{\"count\": " + std::to_string(posts_.size()) + "}", "application/json");
      });
    }
    server_.Get("/", [](const httplib::Request&, httplib::Response& reply) {
      reply.set_content(kPage, "text/html");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listener runs would be lost; the socket is bound, so this is quick.
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(server_.is_running());
    Result<std::unique_ptr<HeadlessBrowser>> launched = HeadlessBrowser::Launch(scratch_.path());
    ASSERT_TRUE(launched.ok()) << launched.status().ToString();
    browser_ = std::move(launched).value();
  }

  void TearDown() override {
    browser_.reset();
    if (listener_.joinable()) {
      server_.stop();
      listener_.join();
    }
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::vector<std::string> Posts() {
    std::lock_guard<std::mutex> lock(mutex_);
    return posts_;
  }
  // Evaluate or fail the test with the console so far.
  Json Eval(const std::string& expression) {
    Result<Json> value = browser_->Evaluate(expression, seconds(5));
    EXPECT_TRUE(value.ok()) << value.status().ToString() << "\n" << browser_->ConsoleMessages();
    return value.ok() ? *value : Json();
  }

  ScratchDir scratch_;
  httplib::Server server_;
  int port_ = 0;
  std::thread listener_;
  std::mutex mutex_;
  std::vector<std::string> posts_;
  std::unique_ptr<HeadlessBrowser> browser_;
};

TEST_F(HeadlessBrowserTest, ClickPostsToTheServerAndTheScreenshotIsAFullPagePng) {
  ASSERT_TRUE(browser_->Navigate(Url(), seconds(10)).ok());
  EXPECT_EQ(Eval("document.title"), "browser test");
  EXPECT_EQ(Eval("window.scrollY"), 0);

  const Status clicked = browser_->Click("#press", seconds(5));
  ASSERT_TRUE(clicked.ok()) << clicked.ToString();
  const Status updated = browser_->WaitUntil(
      "document.getElementById('status').textContent === 'pressed 1'", seconds(5));
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  EXPECT_EQ(Posts(), std::vector<std::string>{"/api/press {\"trusted\":true}"});
  EXPECT_GT(Eval("window.scrollY").get<double>(), 0) << "the button was not scrolled into view";

  EXPECT_EQ(Eval("1 + 2"), 3);
  EXPECT_EQ(Eval("Promise.resolve({a: [1, 'x']})"), Json::parse(R"({"a": [1, "x"]})"));
  EXPECT_TRUE(Eval("undefined").is_null());
  EXPECT_NE(browser_->ConsoleMessages().find("console.log: page ready"), std::string::npos)
      << browser_->ConsoleMessages();

  const std::string png_path = scratch_.Join("shots/page.png");
  const Status shot = browser_->Screenshot(png_path);
  ASSERT_TRUE(shot.ok()) << shot.ToString();
  const std::string png = ReadFileOrDie(png_path);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto big_endian = [&png](size_t at) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<unsigned char>(png[at + i]);
    return value;
  };
  EXPECT_GE(big_endian(16), 1000u);  // IHDR width
  EXPECT_GT(big_endian(20), 1500u);  // IHDR height: the whole page, not the 900 px viewport
}

TEST_F(HeadlessBrowserTest, ConfirmDialogIsAcceptedBeforeTheFetch) {
  ASSERT_TRUE(browser_->Navigate(Url(), seconds(10)).ok());
  const Status clicked = browser_->Click("#guarded", seconds(5));
  ASSERT_TRUE(clicked.ok()) << clicked.ToString();
  const Status updated = browser_->WaitUntil(
      "document.getElementById('status').textContent === 'pressed 1'", seconds(5));
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  EXPECT_EQ(Posts(), std::vector<std::string>{"/api/guarded {\"trusted\":true}"});
  EXPECT_EQ(browser_->dialogs_accepted(), 1);
  EXPECT_NE(browser_->ConsoleMessages().find("accepted: Really press?"), std::string::npos)
      << browser_->ConsoleMessages();
}

TEST_F(HeadlessBrowserTest, ErrorsCarryTheirCause) {
  ASSERT_TRUE(browser_->Navigate(Url(), seconds(10)).ok());

  Result<Json> thrown =
      browser_->Evaluate("(() => { throw new Error('boom from page'); })()", seconds(5));
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.status().message().find("boom from page"), std::string::npos)
      << thrown.status().ToString();
  Result<Json> rejected = browser_->Evaluate("Promise.reject(new Error('async boom'))", seconds(5));
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.status().message().find("async boom"), std::string::npos)
      << rejected.status().ToString();
  Result<Json> undefined_name = browser_->Evaluate("noSuchVariable.field", seconds(5));
  ASSERT_FALSE(undefined_name.ok());
  EXPECT_NE(undefined_name.status().message().find("noSuchVariable is not defined"),
            std::string::npos)
      << undefined_name.status().ToString();

  const Status never = browser_->WaitUntil("document.title === 'other'", milliseconds(300));
  ASSERT_FALSE(never.ok());
  EXPECT_NE(never.message().find("document.title === 'other'"), std::string::npos);
  EXPECT_NE(never.message().find("last value: false"), std::string::npos) << never.ToString();

  const Status missing = browser_->Click("#absent", milliseconds(300));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no element matches"), std::string::npos) << missing.ToString();
  EXPECT_TRUE(Posts().empty());

  const uint16_t closed_port = FreeLoopbackPort();  // nothing listens there
  ASSERT_NE(closed_port, 0);
  const Status refused =
      browser_->Navigate("http://127.0.0.1:" + std::to_string(closed_port) + "/", seconds(10));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("ERR_CONNECTION_REFUSED"), std::string::npos)
      << refused.ToString();
}

}  // namespace
}  // namespace cloudbook::testing
