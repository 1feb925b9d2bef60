// Status and Result<T>: errors cross module borders as values with a message a user can
// act on (LevelDB style). Thread-compatible value types.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace cloudbook {

class Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kIoError, kCorruption, kInternal };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cloudbook

// Propagates a non-ok Status from an expression returning Status.
#define CB_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::cloudbook::Status cb_status_ = (expr); \
    if (!cb_status_.ok()) return cb_status_; \
  } while (false)

#define CB_CONCAT_INNER(a, b) a##b
#define CB_CONCAT(a, b) CB_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning expression, or returns its Status.
#define CB_ASSIGN_OR_RETURN(lhs, expr)                                                        \
  auto CB_CONCAT(cb_result_, __LINE__) = (expr);                                              \
  if (!CB_CONCAT(cb_result_, __LINE__).ok()) return CB_CONCAT(cb_result_, __LINE__).status(); \
  lhs = std::move(CB_CONCAT(cb_result_, __LINE__)).value()
