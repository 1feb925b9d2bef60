// A real headless Chromium for tests of web pages, driven over the DevTools protocol on
// --remote-debugging-pipe (fd 3: commands in, fd 4: replies and events out, each message a
// JSON text ended by a NUL byte, as Puppeteer's `pipe: true`). One browser, one page, one
// flattened session. Every wait is bounded by the caller's timeout. No GoogleTest here
// beyond the CB_REQUIRE_BROWSER macro, which expands in the test body.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook::testing {

class HeadlessBrowser {
 public:
  // Empty when a Chromium binary is found ($CLOUDBOOK_CHROMIUM, else `chromium` on PATH),
  // else why not and how to fix it.
  static std::string WhyUnavailable();

  // Starts Chromium with a fresh profile under a new folder in `work_dir` (its stderr goes to
  // chromium.log there) and attaches to its page. Waits at most 30 s.
  static Result<std::unique_ptr<HeadlessBrowser>> Launch(const std::string& work_dir);

  // Stops the browser (pipe closed, SIGTERM, SIGKILL after 5 s) and removes the profile.
  ~HeadlessBrowser();
  HeadlessBrowser(const HeadlessBrowser&) = delete;
  HeadlessBrowser& operator=(const HeadlessBrowser&) = delete;

  // Loads `url` and waits for its load event (a same-document navigation returns at once).
  Status Navigate(const std::string& url, std::chrono::milliseconds timeout);
  // The value of a JS expression (promises awaited), returned by value; null for undefined.
  // A thrown exception is an error carrying its text.
  Result<Json> Evaluate(const std::string& expression, std::chrono::milliseconds timeout);
  // Evaluates `js_condition` every 50 ms until it is truthy; the error names the condition
  // and its last value (or exception).
  Status WaitUntil(const std::string& js_condition, std::chrono::milliseconds timeout);
  // A real mouse click (moved, pressed, released) at the centre of the first element that
  // matches `css_selector`, after scrolling it into view. Waits until the element exists, has
  // a size and is what the pointer would hit there (not covered by another element).
  Status Click(const std::string& css_selector, std::chrono::milliseconds timeout);
  // A PNG of the whole page (beyond the viewport) written to `png_path`.
  Status Screenshot(const std::string& png_path);

  // Console calls, uncaught exceptions and browser log entries seen so far, one a line: for
  // failure messages.
  std::string ConsoleMessages() const;
  // The tail of Chromium's stderr log.
  std::string LogTail() const;

  // window.alert/confirm/prompt dialogs are accepted as they open; how many so far.
  int dialogs_accepted() const { return dialogs_accepted_; }
  pid_t pid() const { return pid_; }

 private:
  using Clock = std::chrono::steady_clock;

  HeadlessBrowser() = default;
  Status Start(const std::string& work_dir);
  Status AttachToPage(Clock::time_point deadline);

  // Sends a command (to the page session unless `browser_level`) and returns its result,
  // handling the events that arrive meanwhile.
  Result<Json> Call(const std::string& method, const Json& params, Clock::time_point deadline,
                    bool browser_level = false);
  // Sends a command without waiting for its reply; returns its id.
  Result<int64_t> Send(const std::string& method, const Json& params, bool browser_level,
                       Clock::time_point deadline);
  // Reads and handles messages until `until`; stops early at the reply with id `want_id`
  // (returned), otherwise returns null when `until` passes.
  Result<Json> Pump(Clock::time_point until, int64_t want_id);
  void HandleEvent(const Json& message);
  Status Failed(const std::string& what) const;

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string folder_;
  std::string buffer_;
  std::string session_id_;
  int64_t next_id_ = 1;
  int64_t loads_ = 0;  // Page.loadEventFired count
  int dialogs_accepted_ = 0;
  std::string console_;
};

}  // namespace cloudbook::testing

// In a GoogleTest body: skips when no browser is installed and $CLOUDBOOK_ALLOW_NO_BROWSER is
// 1, fails otherwise (the message says to run scripts/install-deps.sh).
#define CB_REQUIRE_BROWSER()                                                              \
  do {                                                                                    \
    const std::string cb_why_ = ::cloudbook::testing::HeadlessBrowser::WhyUnavailable();  \
    if (!cb_why_.empty()) {                                                               \
      const char* cb_allow_ = std::getenv("CLOUDBOOK_ALLOW_NO_BROWSER");                  \
      if (cb_allow_ != nullptr && std::string(cb_allow_) == "1") GTEST_SKIP() << cb_why_; \
      FAIL() << cb_why_;                                                                  \
    }                                                                                     \
  } while (false)
