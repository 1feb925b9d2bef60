#include "agent/serve/fast_instances.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

namespace cloudbook {

namespace {

// Deeper samples are left to the general path (which also bounds the body's nesting).
constexpr size_t kMaxDepth = 8;

class Scanner {
 public:
  explicit Scanner(const std::string& text) : p_(text.data()), end_(text.data() + text.size()) {}

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Take(char c) {
    SkipSpace();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool TakeLiteral(const char* literal) {
    SkipSpace();
    const size_t n = std::strlen(literal);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, literal, n) != 0) return false;
    p_ += n;
    return true;
  }
  char Peek() {
    SkipSpace();
    return p_ < end_ ? *p_ : '\0';
  }
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }
  // A JSON number (RFC 8259 grammar) as the general parser reads it: the nearest double
  // (integers convert exactly, as nlohmann's int64 does). False for anything else, or a value
  // beyond double's range, which the general parser judges.
  bool Number(double* value) {
    SkipSpace();
    const char* q = p_;
    auto digits = [&] {
      const char* from = q;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
      return q > from;
    };
    if (q < end_ && *q == '-') ++q;
    if (q < end_ && *q == '0') {
      ++q;
    } else if (!digits()) {
      return false;
    }
    if (q < end_ && *q == '.') {
      ++q;
      if (!digits()) return false;
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (!digits()) return false;
    }
    auto [next, error] = std::from_chars(p_, q, *value);
    if (error != std::errc() || next != q || !std::isfinite(*value)) return false;
    p_ = q;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// A list at nesting `level` of one sample: its numbers appended (divided by `scale` in double,
// rounded to float, as the data readers divide). `shape[level]` is set by the first list of
// that level and every other must match (-1: not seen yet); numbers sit at one level only,
// `*leaf`. False when the sample is anything else: another value kind, ragged, empty, deeper
// than `max_depth`.
bool List(Scanner& in, size_t level, size_t max_depth, double scale, std::vector<int64_t>* shape,
          int* leaf, std::vector<float>* values) {
  if (level >= max_depth || !in.Take('[')) return false;
  const char first = in.Peek();
  if (first == ']') return false;
  const bool lists = first == '[';
  int64_t count = 0;
  for (;;) {
    if (lists) {
      if (!List(in, level + 1, max_depth, scale, shape, leaf, values)) return false;
    } else {
      double number = 0;
      if (!in.Number(&number)) return false;
      values->push_back(static_cast<float>(number / scale));
    }
    ++count;
    if (in.Take(',')) continue;
    if (in.Take(']')) break;
    return false;
  }
  if (shape->size() <= level) shape->resize(level + 1, -1);
  if ((*shape)[level] == -1) (*shape)[level] = count;
  if ((*shape)[level] != count) return false;
  if (!lists) {
    if (*leaf == -1) *leaf = static_cast<int>(level);
    if (*leaf != static_cast<int>(level)) return false;
  }
  return true;
}

}  // namespace

bool ParsePlainInstances(const std::string& body, const RunModel& model, double scale,
                         int64_t max_instances, Array* x) {
  Scanner in(body);
  if (!in.Take('{') || !in.TakeLiteral("\"instances\"") || !in.Take(':') || !in.Take('[')) {
    return false;
  }
  int64_t per_sample = 1;
  for (int64_t size : model.input_shape) per_sample *= size;
  std::vector<float> values;
  values.reserve(static_cast<size_t>(per_sample) * 16);
  std::vector<int64_t> shape;
  int64_t samples = 0;
  for (;;) {
    const size_t before = values.size();
    shape.clear();
    int leaf = -1;
    if (!List(in, 0, kMaxDepth, scale, &shape, &leaf, &values)) return false;
    if (static_cast<int>(shape.size()) != leaf + 1) return false;
    const int64_t count = static_cast<int64_t>(values.size() - before);
    const bool flat = shape.size() == 1;
    if (count != per_sample || !(flat || shape == model.input_shape)) return false;
    if (++samples > max_instances) return false;
    if (in.Take(',')) continue;
    if (in.Take(']')) break;
    return false;
  }
  if (!in.Take('}') || !in.AtEnd()) return false;
  x->shape = {samples};
  x->shape.insert(x->shape.end(), model.input_shape.begin(), model.input_shape.end());
  x->values = std::move(values);
  return true;
}

}  // namespace cloudbook
