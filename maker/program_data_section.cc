#include "maker/program_data_section.h"

#include <cctype>
#include <string>
#include <vector>

#include "maker/program_data_words.h"
#include "shared/text.h"

namespace cloudbook::program_parsing {
namespace {

Result<std::string> ParseRelativePath(const FieldReader& reader, const Field& path) {
  CB_ASSIGN_OR_RETURN(const std::string p, reader.Text(path, "a relative path"));
  if (p.empty()) return reader.Error(path, "must not be empty");
  const bool drive = p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':';
  if (p[0] == '/' || p[0] == '\\' || drive) {
    return reader.Error(path, "'" + p + "' is absolute; paths are relative to the working_dir");
  }
  // Paths must stay inside the working_dir: no ".." component.
  std::string component;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/' || p[i] == '\\') {
      if (component == "..") {
        return reader.Error(path,
                            "'" + p + "' leaves the working_dir (no '..' components allowed)");
      }
      component.clear();
    } else {
      component += p[i];
    }
  }
  return p;
}

Result<ArraySource> ParseArraySource(const FieldReader& reader, const Field& field, bool target,
                                     ProblemType problem) {
  ArraySource source;
  // An autoencoder's target is its input: `y: same_as_x` or `y: {same_as: x}`.
  const bool same_as_x = target && ((field.node.IsScalar() && field.node.Scalar() == "same_as_x") ||
                                    (field.node.IsMap() && field.node["same_as"].IsDefined()));
  if (same_as_x) {
    if (field.node.IsMap()) {
      static const auto* keys = new std::vector<std::string>{"same_as"};
      CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
      CB_RETURN_IF_ERROR(reader.Word(*Find(entries, "same_as"), {"x"}).status());
    }
    if (problem != ProblemType::kRegression) {
      return reader.Error(field, std::string("same_as_x (an autoencoder's target) needs problem: "
                                             "regression, not ") +
                                     ProblemTypeName(problem));
    }
    source.format = "same_as_x";
    return source;
  }
  if (!field.node.IsMap()) {
    return reader.Error(field, std::string("expected a mapping like {format: idx, path: ...}") +
                                   (target ? " or same_as_x" : "") + ", got " + KindOf(field.node));
  }
  static const auto* keys = [] {
    auto* all =
        new std::vector<std::string>{"format", "path", "scale", "columns", "header", "delimiter"};
    all->insert(all->end(), ArraySourceWordKeys().begin(), ArraySourceWordKeys().end());
    return all;
  }();
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  const Field* format = Find(entries, "format");
  const Field* path = Find(entries, "path");
  if (format == nullptr) return reader.Missing(field, "format", "key");
  if (path == nullptr) return reader.Missing(field, "path", "key");
  CB_ASSIGN_OR_RETURN(source.format,
                      reader.Word(*format, {"idx", "csv", "tensor", "npy", "npz", "sequences"}));

  CB_ASSIGN_OR_RETURN(source.path, ParseRelativePath(reader, *path));

  if (const Field* scale = Find(entries, "scale")) {
    CB_ASSIGN_OR_RETURN(source.scale, reader.Real(*scale));
    if (!(source.scale > 0)) {
      return reader.Error(*scale, "must be > 0, got " + NumberText(source.scale));
    }
  }
  for (const char* csv_key : {"columns", "header", "delimiter"}) {
    const Field* csv_field = Find(entries, csv_key);
    if (csv_field != nullptr && source.format != "csv") {
      return reader.Error(*csv_field,
                          "only applies to format csv (this source is " + source.format + ")");
    }
  }
  if (const Field* columns = Find(entries, "columns")) {
    if (!columns->node.IsSequence() || columns->node.size() == 0) {
      return reader.Error(*columns,
                          std::string("expected a non-empty list of column names or 0-based "
                                      "indices, got ") +
                              KindOf(columns->node));
    }
    for (size_t i = 0; i < columns->node.size(); ++i) {
      CB_ASSIGN_OR_RETURN(const std::string column,
                          reader.Text(Element(*columns, i), "a column name or index"));
      if (column.empty()) return reader.Error(Element(*columns, i), "must not be empty");
      source.columns.push_back(column);
    }
  }
  if (const Field* header = Find(entries, "header")) {
    CB_ASSIGN_OR_RETURN(source.header, reader.Bool(*header));
  }
  if (const Field* delimiter = Find(entries, "delimiter")) {
    CB_ASSIGN_OR_RETURN(const std::string text, reader.Text(*delimiter, "a single character"));
    if (text.size() != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r') {
      return reader.Error(
          *delimiter,
          "expected a single character other than a quote or newline, got '" + text + "'");
    }
    source.delimiter = text[0];
  }
  CB_RETURN_IF_ERROR(ParseArraySourceWords(reader, field, entries, &source));
  return source;
}

// `images: {path, color, scale}`: an image folder, one sub-folder per class.
Result<ImageFolderSource> ParseImageFolder(const FieldReader& reader, const Field& field,
                                           ProblemType problem) {
  if (problem == ProblemType::kRegression) {
    return reader.Error(field,
                        "an image folder gives class labels; it needs problem: "
                        "multiclass or binary, not regression");
  }
  static const auto* keys = new std::vector<std::string>{"path", "color", "scale"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  ImageFolderSource source;
  const Field* path = Find(entries, "path");
  if (path == nullptr) return reader.Missing(field, "path", "key");
  CB_ASSIGN_OR_RETURN(source.path, ParseRelativePath(reader, *path));
  if (const Field* color = Find(entries, "color")) {
    CB_ASSIGN_OR_RETURN(source.color, reader.Word(*color, {"grayscale", "rgb"}));
  }
  if (const Field* scale = Find(entries, "scale")) {
    CB_ASSIGN_OR_RETURN(source.scale, reader.Real(*scale));
    if (!(source.scale > 0)) {
      return reader.Error(*scale, "must be > 0, got " + NumberText(source.scale));
    }
  }
  return source;
}

Result<DataSplit> ParseSplit(const FieldReader& reader, const Field& field, ProblemType problem) {
  static const auto* keys = new std::vector<std::string>{"x", "y", "images"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  DataSplit split;
  if (const Field* images = Find(entries, "images")) {
    for (const char* other : {"x", "y"}) {
      if (const Field* given = Find(entries, other)) {
        return reader.Error(*given, "an image folder (images) gives x and y; remove this key");
      }
    }
    CB_ASSIGN_OR_RETURN(split.images, ParseImageFolder(reader, *images, problem));
    return split;
  }
  const Field* x = Find(entries, "x");
  const Field* y = Find(entries, "y");
  if (x == nullptr) return reader.Missing(field, "x", "key");
  if (y == nullptr) return reader.Missing(field, "y", "key");
  CB_ASSIGN_OR_RETURN(split.x, ParseArraySource(reader, *x, /*target=*/false, problem));
  CB_ASSIGN_OR_RETURN(split.y, ParseArraySource(reader, *y, /*target=*/true, problem));
  return split;
}
// `test_split: {fraction, seed}`: a seeded, stratified test set cut from the train source.
Result<TestSplitSpec> ParseTestSplit(const FieldReader& reader, const Field& field) {
  static const auto* keys = new std::vector<std::string>{"fraction", "seed"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  const Field* fraction = Find(entries, "fraction");
  const Field* seed = Find(entries, "seed");
  if (fraction == nullptr) return reader.Missing(field, "fraction", "key");
  if (seed == nullptr) return reader.Missing(field, "seed", "key");
  TestSplitSpec split;
  CB_ASSIGN_OR_RETURN(split.fraction, reader.Real(*fraction));
  if (!(split.fraction > 0 && split.fraction < 1)) {
    return reader.Error(*fraction, "must be in (0, 1), got " + NumberText(split.fraction));
  }
  CB_ASSIGN_OR_RETURN(const int64_t value, reader.Int(*seed, 0));
  split.seed = static_cast<uint64_t>(value);
  return split;
}

}  // namespace

Status ParseDataSection(const FieldReader& reader, const Field& field, ProblemType problem,
                        DataSpec* data) {
  static const auto* keys = [] {
    auto* all = new std::vector<std::string>{"train",       "test",       "validation_split",
                                             "train_limit", "test_limit", "validation", "test_split"};
    all->insert(all->end(), DataWordKeys().begin(), DataWordKeys().end());
    return all;
  }();
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  const Field* train = Find(entries, "train");
  if (train == nullptr) return reader.Missing(field, "train", "key");
  CB_ASSIGN_OR_RETURN(data->train, ParseSplit(reader, *train, problem));
  if (const Field* test = Find(entries, "test")) {
    CB_ASSIGN_OR_RETURN(data->test, ParseSplit(reader, *test, problem));
  }
  if (const Field* test_split = Find(entries, "test_split")) {
    if (data->test) return reader.Error(*test_split, "a program with data.test has no test_split");
    CB_ASSIGN_OR_RETURN(data->test_split, ParseTestSplit(reader, *test_split));
  }
  if (const Field* split = Find(entries, "validation_split")) {
    CB_ASSIGN_OR_RETURN(data->validation_split, reader.Real(*split));
    if (!(data->validation_split >= 0 && data->validation_split < 1)) {
      return reader.Error(*split, "must be in [0, 1), got " + NumberText(data->validation_split));
    }
  }
  if (const Field* limit = Find(entries, "train_limit")) {
    CB_ASSIGN_OR_RETURN(data->train_limit, reader.Int(*limit, 0));
  }
  if (const Field* limit = Find(entries, "test_limit")) {
    CB_ASSIGN_OR_RETURN(data->test_limit, reader.Int(*limit, 0));
  }
  if (const Field* validation = Find(entries, "validation")) {
    if (data->validation_split > 0) {
      return reader.Error(*validation,
                          "excludes validation_split (Keras' validation_data "
                          "overrides it): keep one");
    }
    CB_ASSIGN_OR_RETURN(data->validation, ParseSplit(reader, *validation, problem));
  }
  CB_RETURN_IF_ERROR(ParseDataWords(reader, entries, problem, data));
  return Status::Ok();
}

}  // namespace cloudbook::program_parsing
