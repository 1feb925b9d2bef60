// Pure pieces of talking to rclone's remote-control API (rclone 1.60, `rclone rcd`): what an
// error reply means, how a folder of a remote is named, how a name is quoted in a filter rule
// or a URL. No I/O here, so each piece has a unit test.
#pragma once

#include <cstdint>
#include <string>

namespace cloudbook {

// What a failed rc call says about the remote, from the reply's HTTP status and its "error"
// text (rclone answers 404 for a missing file or folder, 400 for a bad parameter, 500 for
// everything else, with the back end's own message).
enum class RcloneErrorKind {
  kNotFound,       // no such file or folder
  kNotADirectory,  // a path goes through a file ("is a file not a directory")
  kIsADirectory,   // a file operation on a folder
  kNotEmpty,       // rmdir of a folder with entries
  kNoSuchRemote,   // "didn't find section in config file": the user has no such remote
  kTransient,      // the network, the service or rclone itself: try again later
  kOther,          // any other answer about the request: trying again gives the same answer
};
RcloneErrorKind ClassifyRcloneError(int http_status, const std::string& error_text);

// Messages of errors that go away by themselves: connection refused or reset, timeouts, rate
// limits (Drive's rateLimitExceeded / userRateLimitExceeded, HTTP 429), server errors (5xx).
bool IsTransientRcloneMessage(const std::string& error_text);

// The rclone "fs" string of `folder` (a shared-folder name, "" for the root) inside
// `location`: "gdrive:" + "a/b" -> "gdrive:a/b", "onedrive:p" + "a" -> "onedrive:p/a".
std::string RcloneFsFor(const std::string& location, const std::string& folder);

// A location split into the remote ("gdrive:", ":webdav,url=\"http://h:1\":" — up to the
// ':' that ends it, quotes respected) and the path inside it ("a/b", "" for the remote's
// root).
struct RcloneLocationParts {
  std::string remote;
  std::string path;
};
RcloneLocationParts SplitRcloneLocation(const std::string& location);

// Where a write of `name` goes through: an rclone root one level above the file's folder,
// and the file's folder as seen from there ("" when the folder is the remote's own root, then
// the root is the folder itself). rclone keeps one client per root, with its own request
// pacer: reads, rooted at the file's folder, then never queue behind writes (or the other
// way round) on a remote that paces requests (WebDAV 10 ms, Drive 100 ms apart).
struct RcloneWriteRoot {
  std::string fs;
  std::string folder;  // relative to fs, "" or without a trailing '/'
};
RcloneWriteRoot RcloneWriteRootFor(const std::string& location, const std::string& folder);

// `location` for logs and messages: the values of connection-string parameters that hold
// secrets (pass, password, token, secret, key: ":sftp,user=u,pass=XXX:p" -> "pass=***")
// are hidden; named remotes ("gdrive:x") keep theirs in the rclone config and are unchanged.
std::string RedactRcloneLocation(const std::string& location);

// `name` as a literal in an rclone filter rule (glob): * ? [ ] { } and \ escaped.
std::string EscapeRcloneGlob(const std::string& name);

// RFC 3986 percent-encoding of everything but unreserved characters (for a URL query value).
std::string PercentEncode(const std::string& text);

// The port of rcd's "Serving remote control on http://127.0.0.1:PORT/" log line; 0 when
// `line` is not that line.
int ParseServingPort(const std::string& line);

// RFC 3339 with nanoseconds, UTC ("2026-01-02T03:04:05.000000123Z"), and back (any offset,
// any number of fraction digits, as rclone's lsjson prints ModTime). Parse returns false on
// a malformed time.
std::string FormatRcloneTime(int64_t unix_ns);
bool ParseRcloneTime(const std::string& text, int64_t* unix_ns);

}  // namespace cloudbook
