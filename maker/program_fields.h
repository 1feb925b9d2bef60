// What the program parser's sections share: a YAML value with the path and line a message
// points at (Field), and FieldReader, which checks a field's shape and value and words every
// error as "<source>:<line>: <path>: <what>" (an InvalidArgument Status). Not thread-safe: one
// reader per parse. yaml-cpp may throw from node access; ParseProgramText catches it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::program_parsing {

// A value in the document together with what a message needs to point at it.
struct Field {
  YAML::Node node;
  std::string path;  // "model.layers[1] (dense).units"; empty for the document itself
  int line = 0;      // 1-based; 0 when unknown
};

// A mapping's entries in document order (order matters: the first bad one is reported).
using Entries = std::vector<std::pair<std::string, Field>>;

const Field* Find(const Entries& entries, const std::string& key);
// The i-th element of a list; a null element has no useful mark, so it borrows the list's.
Field Element(const Field& list, size_t i);
bool Contains(const std::vector<std::string>& items, const std::string& item);
// "a mapping", "a list", "a single value" or "nothing", for "expected ..., got ..." messages.
const char* KindOf(const YAML::Node& node);
int LineOf(const YAML::Node& node);

class FieldReader {
 public:
  explicit FieldReader(std::string source) : source_(std::move(source)) {}

  // The file path (or the name given in its place) every message starts with.
  const std::string& source() const { return source_; }

  // Every message: "<source>:<line>: <path>: <what>" (line and path left out when unknown).
  Status Error(const Field& at, const std::string& what) const;
  Status Missing(const Field& parent, const std::string& key, const std::string& noun) const;

  // Checks `field` is a mapping whose keys are scalars, unique, and (when `valid` is given)
  // among `valid`; `noun` names a key in messages ("key", "parameter", "top-level key").
  Result<Entries> Mapping(const Field& field, const std::vector<std::string>* valid,
                          const std::string& noun) const;
  Result<std::string> Text(const Field& field, const std::string& expected) const;
  Result<std::string> Word(const Field& field, const std::vector<std::string>& valid) const;
  Result<bool> Bool(const Field& field) const;
  Result<int64_t> Int(const Field& field, int64_t min) const;
  Result<double> Real(const Field& field) const;
  // A literal or the name of a variable defined so far (layer parameters and epochs).
  Result<NumberOrVar> Number(const Field& field, bool integer) const;

  // The vars section defines the variables before the model and train are read.
  void DefineVar(const std::string& name, int64_t value, const Field& field);
  const std::map<std::string, int64_t>& vars() const { return vars_; }
  const Field& VarField(const std::string& name) const { return var_fields_.at(name); }

 private:
  std::string source_;
  std::map<std::string, int64_t> vars_;
  std::map<std::string, Field> var_fields_;
};

}  // namespace cloudbook::program_parsing
