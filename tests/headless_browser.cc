#include "tests/headless_browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "shared/atomic_file.h"
#include "shared/executable_path.h"

namespace cloudbook::testing {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kLaunchBudget = std::chrono::seconds(30);
constexpr auto kStopBudget = std::chrono::seconds(5);
constexpr auto kCommandBudget = std::chrono::seconds(5);
constexpr auto kScreenshotBudget = std::chrono::seconds(20);
constexpr auto kPollInterval = milliseconds(50);
constexpr int64_t kAnyMessage = -1;
constexpr double kMaxScreenshotSide = 16384;  // Chromium's own texture limit

std::string ChromiumBinary() {
  const char* configured = std::getenv("CLOUDBOOK_CHROMIUM");
  return FindExecutable(configured != nullptr && *configured != '\0' ? configured : "chromium");
}

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Protocol fields read without exceptions: a missing or differently typed field is empty.
const Json& Field(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string Text(const Json& object, const char* key) {
  const Json& value = Field(object, key);
  if (value.is_null()) return "";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A Runtime.RemoteObject as console.log would print it.
std::string RemoteObjectText(const Json& object) {
  const Json& value = Field(object, "value");
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_null()) return value.dump();
  const std::string description = Text(object, "description");
  return description.empty() ? Text(object, "type") : description;
}

// Runtime.ExceptionDetails: the exception's description carries "Error: message" and the
// stack; `text` alone is only "Uncaught".
std::string ExceptionText(const Json& details) {
  const Json& exception = Field(details, "exception");
  if (!exception.is_null()) return Text(details, "text") + " " + RemoteObjectText(exception);
  return Text(details, "text");
}

std::string Abbreviated(const std::string& text) {
  constexpr size_t kMax = 200;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

// True when the child has exited (left unreaped, so its id stays reserved) within `budget`.
bool ExitsWithin(pid_t pid, milliseconds budget) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd ready{pidfd, POLLIN, 0};
    ::poll(&ready, 1, static_cast<int>(budget.count()));
    ::close(pidfd);
  }
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

}  // namespace

std::string HeadlessBrowser::WhyUnavailable() {
  if (!ChromiumBinary().empty()) return "";
  return "no Chromium ($CLOUDBOOK_CHROMIUM, else `chromium` on PATH): run "
         "scripts/install-deps.sh (or set CLOUDBOOK_ALLOW_NO_BROWSER=1 to skip browser tests)";
}

Result<std::unique_ptr<HeadlessBrowser>> HeadlessBrowser::Launch(const std::string& work_dir) {
  std::unique_ptr<HeadlessBrowser> browser(new HeadlessBrowser());
  CB_RETURN_IF_ERROR(browser->Start(work_dir));
  CB_RETURN_IF_ERROR(browser->AttachToPage(Clock::now() + kLaunchBudget));
  return browser;
}

Status HeadlessBrowser::Start(const std::string& work_dir) {
  const std::string binary = ChromiumBinary();
  if (binary.empty()) return Status::NotFound(WhyUnavailable());
  std::string folder = work_dir + "/browser-XXXXXX";
  if (::mkdtemp(folder.data()) == nullptr) return Status::IoError(Errno("mkdtemp " + folder));
  folder_ = folder;
  std::vector<std::string> args = {binary,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--remote-debugging-pipe",
                                   "--user-data-dir=" + folder_ + "/profile",
                                   "--window-size=1280,900",
                                   "about:blank"};
  std::vector<char*> argv;  // built before fork: the child must not allocate
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int commands[2];  // test -> browser (its fd 3)
  int replies[2];   // browser -> test (its fd 4)
  if (::pipe2(commands, O_CLOEXEC) != 0) return Status::IoError(Errno("pipe"));
  if (::pipe2(replies, O_CLOEXEC) != 0) {
    ::close(commands[0]);
    ::close(commands[1]);
    return Status::IoError(Errno("pipe"));
  }
  const std::string log_path = folder_ + "/chromium.log";
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // A write to a browser that died must be an error here, not a SIGPIPE that ends the test.
  ::signal(SIGPIPE, SIG_IGN);
  const pid_t parent = ::getpid();
  const pid_t pid = (log < 0 || null_in < 0) ? -1 : ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test
    if (::getppid() != parent) ::_exit(126);
    ::signal(SIGPIPE, SIG_DFL);
    ::setpgid(0, 0);  // its helpers (zygote, renderers) share a group the destructor can end
    // Every source above fd 9 first, so no dup2 onto 0-4 can clobber another source.
    const int sources[5] = {::fcntl(null_in, F_DUPFD, 10), ::fcntl(log, F_DUPFD, 10),
                            ::fcntl(log, F_DUPFD, 10), ::fcntl(commands[0], F_DUPFD, 10),
                            ::fcntl(replies[1], F_DUPFD, 10)};
    for (int target = 0; target < 5; ++target) {
      if (sources[target] < 0 || ::dup2(sources[target], target) < 0) ::_exit(125);
    }
    for (int source : sources) ::close(source);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  for (int fd : {commands[0], replies[1], log, null_in}) {
    if (fd >= 0) ::close(fd);
  }
  to_browser_ = commands[1];
  from_browser_ = replies[0];
  if (pid < 0) {
    errno = fork_errno;
    return Status::IoError(Errno("starting " + binary + " (log " + log_path + ")"));
  }
  pid_ = pid;
  ::fcntl(to_browser_, F_SETFL, ::fcntl(to_browser_, F_GETFL) | O_NONBLOCK);
  ::fcntl(from_browser_, F_SETFL, ::fcntl(from_browser_, F_GETFL) | O_NONBLOCK);
  return Status::Ok();
}

Status HeadlessBrowser::AttachToPage(Clock::time_point deadline) {
  CB_ASSIGN_OR_RETURN(const Json targets, Call("Target.getTargets", Json::object(), deadline,
                                               /*browser_level=*/true));
  std::string target_id;
  for (const Json& info : Field(targets, "targetInfos")) {
    if (Text(info, "type") == "page") {
      target_id = Text(info, "targetId");
      break;
    }
  }
  if (target_id.empty()) {
    CB_ASSIGN_OR_RETURN(const Json created, Call("Target.createTarget", {{"url", "about:blank"}},
                                                 deadline, /*browser_level=*/true));
    target_id = Text(created, "targetId");
  }
  CB_ASSIGN_OR_RETURN(const Json attached,
                      Call("Target.attachToTarget", {{"targetId", target_id}, {"flatten", true}},
                           deadline, /*browser_level=*/true));
  session_id_ = Text(attached, "sessionId");
  if (session_id_.empty()) return Failed("Target.attachToTarget gave no sessionId");
  for (const char* method : {"Page.enable", "Runtime.enable", "Log.enable"}) {
    CB_RETURN_IF_ERROR(Call(method, Json::object(), deadline).status());
  }
  return Status::Ok();
}

HeadlessBrowser::~HeadlessBrowser() {
  if (to_browser_ >= 0) ::close(to_browser_);  // end of its command pipe: Chromium shuts down
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!ExitsWithin(pid_, kStopBudget)) ::kill(pid_, SIGKILL);
    // Helpers left in its group; the unreaped leader keeps the group id from being reused.
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (from_browser_ >= 0) ::close(from_browser_);
  if (!folder_.empty()) {
    boost::system::error_code ignored;
    fs::remove_all(folder_ + "/profile", ignored);
  }
}

Status HeadlessBrowser::Navigate(const std::string& url, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const int64_t loads_before = loads_;
  CB_ASSIGN_OR_RETURN(const Json result, Call("Page.navigate", {{"url", url}}, deadline));
  const std::string error = Text(result, "errorText");
  if (!error.empty()) return Status::IoError("navigating to " + url + ": " + error);
  if (Field(result, "loaderId").is_null()) return Status::Ok();  // same document: no load
  while (loads_ == loads_before) {
    if (Clock::now() >= deadline) {
      return Status::IoError("navigating to " + url + ": no load event within " +
                             std::to_string(timeout.count()) + " ms\n" + ConsoleMessages());
    }
    CB_RETURN_IF_ERROR(Pump(deadline, kAnyMessage).status());
  }
  return Status::Ok();
}

Result<Json> HeadlessBrowser::Evaluate(const std::string& expression, milliseconds timeout) {
  CB_ASSIGN_OR_RETURN(const Json result, Call("Runtime.evaluate",
                                              {{"expression", expression},
                                               {"returnByValue", true},
                                               {"awaitPromise", true},
                                               {"userGesture", true}},
                                              Clock::now() + timeout));
  const Json& exception = Field(result, "exceptionDetails");
  if (!exception.is_null()) {
    return Status::InvalidArgument("JS exception evaluating `" + Abbreviated(expression) +
                                   "`: " + ExceptionText(exception));
  }
  return Field(Field(result, "result"), "value");  // absent for undefined: null
}

Status HeadlessBrowser::WaitUntil(const std::string& js_condition, milliseconds timeout) {
  // The newlines let the condition end in a // comment.
  const std::string probe = "(async () => { const v = await (\n" + js_condition +
                            "\n); return [!!v, typeof v === 'string' ? JSON.stringify(v) : "
                            "String(v)]; })()";
  const auto deadline = Clock::now() + timeout;
  std::string last = "never evaluated";
  for (;;) {
    const auto budget = std::max(milliseconds(MillisLeft(deadline)), milliseconds(200));
    Result<Json> value = Evaluate(probe, budget);
    if (!value.ok()) {
      last = value.status().message();  // e.g. a context destroyed by a navigation: retry
    } else if (value->is_array() && value->size() == 2) {
      if ((*value)[0] == true) return Status::Ok();
      last = (*value)[1].get<std::string>();
    }
    if (Clock::now() >= deadline) break;
    const auto next = std::min(Clock::now() + kPollInterval, deadline);
    while (Clock::now() < next) CB_RETURN_IF_ERROR(Pump(next, kAnyMessage).status());
  }
  return Status::IoError("still not true after " + std::to_string(timeout.count()) + " ms: `" +
                         Abbreviated(js_condition) + "`; last value: " + last + "\nconsole:\n" +
                         ConsoleMessages());
}

Status HeadlessBrowser::Click(const std::string& css_selector, milliseconds timeout) {
  // Where a real pointer would land, or why it cannot land on the element yet.
  const std::string probe =
      "(() => { const el = document.querySelector(" + Json(css_selector).dump() + R"();
    if (!el) return {error: 'no element matches'};
    el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return {error: 'element has no size (hidden?)'};
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    if (hit !== el && !el.contains(hit))
      return {error: 'covered by ' + (hit ? hit.outerHTML.slice(0, 120) : 'nothing')};
    if (el.disabled) return {error: 'element is disabled'};
    return {x, y};
  })())";
  const auto deadline = Clock::now() + timeout;
  Json point;
  std::string last = "never probed";
  for (;;) {
    const auto budget = std::max(milliseconds(MillisLeft(deadline)), milliseconds(200));
    Result<Json> probed = Evaluate(probe, budget);
    if (!probed.ok()) {
      last = probed.status().message();
    } else if (Field(*probed, "x").is_number() && Field(*probed, "y").is_number()) {
      point = *probed;
      break;
    } else {
      last = Text(*probed, "error");
    }
    if (Clock::now() >= deadline) {
      return Status::IoError("cannot click `" + css_selector + "` within " +
                             std::to_string(timeout.count()) + " ms: " + last + "\nconsole:\n" +
                             ConsoleMessages());
    }
    const auto next = std::min(Clock::now() + kPollInterval, deadline);
    while (Clock::now() < next) CB_RETURN_IF_ERROR(Pump(next, kAnyMessage).status());
  }
  // The release's reply waits for the page's handler, which may open a dialog first (it is
  // accepted while we wait).
  const auto input_deadline = std::max(deadline, Clock::now() + kCommandBudget);
  Json event = {{"x", point["x"]}, {"y", point["y"]}, {"button", "none"}};
  event["type"] = "mouseMoved";
  CB_RETURN_IF_ERROR(Call("Input.dispatchMouseEvent", event, input_deadline).status());
  event["button"] = "left";
  event["clickCount"] = 1;
  for (const char* type : {"mousePressed", "mouseReleased"}) {
    event["type"] = type;
    event["buttons"] = std::string(type) == "mousePressed" ? 1 : 0;
    CB_RETURN_IF_ERROR(Call("Input.dispatchMouseEvent", event, input_deadline)
                           .status()
                           .WithContext("clicking `" + css_selector + "`"));
  }
  return Status::Ok();
}

Status HeadlessBrowser::Screenshot(const std::string& png_path) {
  const auto deadline = Clock::now() + kScreenshotBudget;
  CB_ASSIGN_OR_RETURN(const Json metrics, Call("Page.getLayoutMetrics", Json::object(), deadline));
  const Json& size = Field(metrics, "cssContentSize");
  Json params = {{"format", "png"}, {"captureBeyondViewport", true}};
  if (Field(size, "width").is_number() && Field(size, "height").is_number()) {
    const double width = std::min(size["width"].get<double>(), kMaxScreenshotSide);
    const double height = std::min(size["height"].get<double>(), kMaxScreenshotSide);
    if (width >= 1 && height >= 1) {
      params["clip"] = {{"x", 0}, {"y", 0}, {"width", width}, {"height", height}, {"scale", 1}};
    }
  }
  CB_ASSIGN_OR_RETURN(const Json shot, Call("Page.captureScreenshot", params, deadline));
  const std::string base64 = Text(shot, "data");
  std::string png(base64.size() / 4 * 3 + 3, '\0');
  size_t png_size = 0;
  if (base64.empty() ||
      ::sodium_base642bin(reinterpret_cast<unsigned char*>(png.data()), png.size(), base64.data(),
                          base64.size(), nullptr, &png_size, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::Corruption("Page.captureScreenshot returned no valid base64 PNG");
  }
  png.resize(png_size);
  return WriteFileAtomically(png_path, png);
}

std::string HeadlessBrowser::ConsoleMessages() const { return console_; }

std::string HeadlessBrowser::LogTail() const {
  constexpr std::streamoff kTail = 4000;
  std::ifstream in(folder_ + "/chromium.log", std::ios::binary);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size <= 0) return "";
  in.seekg(std::max<std::streamoff>(0, size - kTail));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<Json> HeadlessBrowser::Call(const std::string& method, const Json& params,
                                   Clock::time_point deadline, bool browser_level) {
  CB_ASSIGN_OR_RETURN(const int64_t id, Send(method, params, browser_level, deadline));
  CB_ASSIGN_OR_RETURN(const Json reply, Pump(deadline, id));
  if (reply.is_null()) return Status::IoError("Chromium did not answer " + method + " in time");
  const Json& error = Field(reply, "error");
  if (!error.is_null()) {
    return Status::Internal(method + " failed: " + Text(error, "message") + " " +
                            Text(error, "data"));
  }
  const Json& result = Field(reply, "result");
  return result.is_null() ? Json::object() : result;
}

Result<int64_t> HeadlessBrowser::Send(const std::string& method, const Json& params,
                                      bool browser_level, Clock::time_point deadline) {
  const int64_t id = next_id_++;
  Json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!browser_level) message["sessionId"] = session_id_;
  std::string bytes = message.dump();
  bytes.push_back('\0');
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(to_browser_, bytes.data() + written, bytes.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return Failed(Errno("sending " + method + " to Chromium"));
    pollfd writable{to_browser_, POLLOUT, 0};
    if (::poll(&writable, 1, MillisLeft(deadline)) == 0) {
      return Failed("Chromium did not read " + method + " in time");
    }
  }
  return id;
}

Result<Json> HeadlessBrowser::Pump(Clock::time_point until, int64_t want_id) {
  for (;;) {
    bool handled = false;
    for (size_t end; (end = buffer_.find('\0')) != std::string::npos;) {
      const Json message = Json::parse(buffer_.begin(), buffer_.begin() + end, nullptr, false);
      buffer_.erase(0, end + 1);
      if (!message.is_object()) continue;  // also a discarded (unparsable) one
      if (message.contains("id")) {
        if (message["id"] == want_id) return message;
        continue;  // the late reply of a command whose wait timed out, or of a dialog
      }
      HandleEvent(message);
      handled = true;
    }
    if (want_id == kAnyMessage && handled) return Json(nullptr);
    pollfd readable{from_browser_, POLLIN, 0};
    const int ready = ::poll(&readable, 1, MillisLeft(until));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Failed(Errno("poll"));
    if (ready == 0) return Json(nullptr);
    char chunk[1 << 16];
    const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      return Failed("Chromium closed its DevTools pipe (did it exit?)");
    } else if (errno != EAGAIN && errno != EINTR) {
      return Failed(Errno("reading from Chromium"));
    }
  }
}

void HeadlessBrowser::HandleEvent(const Json& message) {
  const std::string method = Text(message, "method");
  const Json& params = Field(message, "params");
  if (method == "Page.loadEventFired") {
    ++loads_;
  } else if (method == "Page.javascriptDialogOpening") {
    // Pages may confirm() before an action; the test means to go ahead.
    ++dialogs_accepted_;
    console_ += "dialog " + Text(params, "type") + " accepted: " + Text(params, "message") + "\n";
    const Status sent = Send("Page.handleJavaScriptDialog", {{"accept", true}}, false,
                             Clock::now() + kCommandBudget)
                            .status();
    if (!sent.ok()) console_ += "could not accept the dialog: " + sent.message() + "\n";
  } else if (method == "Runtime.consoleAPICalled") {
    std::string line = "console." + Text(params, "type") + ":";
    for (const Json& arg : Field(params, "args")) line += " " + RemoteObjectText(arg);
    console_ += line + "\n";
  } else if (method == "Runtime.exceptionThrown") {
    console_ += "uncaught: " + ExceptionText(Field(params, "exceptionDetails")) + "\n";
  } else if (method == "Log.entryAdded") {
    const Json& entry = Field(params, "entry");
    const std::string url = Text(entry, "url");
    console_ += "log." + Text(entry, "level") + ": " + Text(entry, "text") +
                (url.empty() ? "" : " (" + url + ")") + "\n";
  }
}

Status HeadlessBrowser::Failed(const std::string& what) const {
  return Status::IoError(what + "\nChromium log tail:\n" + LogTail());
}

}  // namespace cloudbook::testing
