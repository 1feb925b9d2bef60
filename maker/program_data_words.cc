#include "maker/program_data_words.h"

#include <limits>

#include "shared/data/row_selection.h"
#include "shared/data/sequence_reader.h"

namespace cloudbook::program_parsing {
namespace {

constexpr int64_t kMaxSeed = std::numeric_limits<uint32_t>::max();  // numpy's RandomState

Result<uint32_t> Seed(const FieldReader& reader, const Field& field) {
  CB_ASSIGN_OR_RETURN(const int64_t seed, reader.Int(field, 0));
  if (seed > kMaxSeed) {
    return reader.Error(field, "must be at most 4294967295 (numpy's seeds are 32-bit), got " +
                                   std::to_string(seed));
  }
  return static_cast<uint32_t>(seed);
}

Result<RowSlice> Slice(const FieldReader& reader, const Field& field) {
  CB_ASSIGN_OR_RETURN(const std::string text,
                      reader.Text(field, "a quoted Python slice such as \"0:5000\" or \"-10:\""));
  Result<RowSlice> slice = ParseRowSlice(text);
  if (!slice.ok()) return reader.Error(field, slice.status().message());
  return slice;
}

}  // namespace

const std::vector<std::string>& ArraySourceWordKeys() {
  static const auto* keys = new std::vector<std::string>{
      "key", "maxlen", "padding", "truncating", "value", "num_words", "oov"};
  return *keys;
}

Status ParseArraySourceWords(const FieldReader& reader, const Field& field, const Entries& entries,
                             ArraySource* source) {
  const bool npz = source->format == "npz", sequences = source->format == "sequences";
  for (const std::string& key : ArraySourceWordKeys()) {
    const Field* word = Find(entries, key);
    if (word != nullptr && (key == "key" ? !npz : !sequences)) {
      return reader.Error(*word, std::string("only applies to format ") +
                                     (key == "key" ? "npz" : "sequences") + " (this source is " +
                                     source->format + ")");
    }
  }
  if (npz) {
    const Field* key = Find(entries, "key");
    if (key == nullptr) return reader.Missing(field, "key", "key");
    CB_ASSIGN_OR_RETURN(source->key, reader.Text(*key, "the array's name, e.g. x_train"));
    if (source->key.empty()) return reader.Error(*key, "must not be empty");
  }
  if (!sequences) return Status::Ok();
  if (const Field* scale = Find(entries, "scale")) {
    return reader.Error(*scale, "does not apply to token ids (format sequences)");
  }
  SequenceOptions& options = source->sequences;
  if (const Field* maxlen = Find(entries, "maxlen")) {
    CB_ASSIGN_OR_RETURN(options.maxlen, reader.Int(*maxlen, 1));
  }
  if (const Field* padding = Find(entries, "padding")) {
    CB_ASSIGN_OR_RETURN(const std::string word, reader.Word(*padding, {"pre", "post"}));
    options.padding_post = word == "post";
  }
  if (const Field* truncating = Find(entries, "truncating")) {
    CB_ASSIGN_OR_RETURN(const std::string word, reader.Word(*truncating, {"pre", "post"}));
    options.truncating_post = word == "post";
  }
  if (const Field* value = Find(entries, "value")) {
    CB_ASSIGN_OR_RETURN(options.value, reader.Int(*value, -kMaxSequenceId));
    if (options.value > kMaxSequenceId) {
      return reader.Error(*value, "must be at most " + std::to_string(kMaxSequenceId));
    }
  }
  if (const Field* num_words = Find(entries, "num_words")) {
    CB_ASSIGN_OR_RETURN(options.num_words, reader.Int(*num_words, 1));
  }
  if (const Field* oov = Find(entries, "oov")) {
    CB_ASSIGN_OR_RETURN(options.oov, reader.Int(*oov, 0));
    if (options.oov > kMaxSequenceId) {
      return reader.Error(*oov, "must be at most " + std::to_string(kMaxSequenceId));
    }
  }
  return Status::Ok();
}

const std::vector<std::string>& DataWordKeys() {
  static const auto* keys = new std::vector<std::string>{"train_rows", "test_rows", "shuffle",
                                                         "train_subset", "label_map"};
  return *keys;
}

Status ParseDataWords(const FieldReader& reader, const Entries& entries, ProblemType problem,
                      DataSpec* data) {
  if (const Field* rows = Find(entries, "train_rows")) {
    CB_ASSIGN_OR_RETURN(data->train_rows, Slice(reader, *rows));
  }
  if (const Field* rows = Find(entries, "test_rows")) {
    if (!data->test) return reader.Error(*rows, "needs a test split (data.test)");
    CB_ASSIGN_OR_RETURN(data->test_rows, Slice(reader, *rows));
  }
  if (const Field* shuffle = Find(entries, "shuffle")) {
    static const auto* keys = new std::vector<std::string>{"seed"};
    CB_ASSIGN_OR_RETURN(const Entries words, reader.Mapping(*shuffle, keys, "key"));
    const Field* seed = Find(words, "seed");
    if (seed == nullptr) return reader.Missing(*shuffle, "seed", "key");
    CB_ASSIGN_OR_RETURN(data->shuffle_seed, Seed(reader, *seed));
  }
  if (const Field* subset = Find(entries, "train_subset")) {
    static const auto* keys = new std::vector<std::string>{"count", "seed"};
    CB_ASSIGN_OR_RETURN(const Entries words, reader.Mapping(*subset, keys, "key"));
    const Field* count = Find(words, "count");
    const Field* seed = Find(words, "seed");
    if (count == nullptr) return reader.Missing(*subset, "count", "key");
    if (seed == nullptr) return reader.Missing(*subset, "seed", "key");
    TrainSubset drawn;
    CB_ASSIGN_OR_RETURN(drawn.count, reader.Int(*count, 1));
    CB_ASSIGN_OR_RETURN(drawn.seed, Seed(reader, *seed));
    data->train_subset = drawn;
  }
  if (const Field* map = Find(entries, "label_map")) {
    if (problem == ProblemType::kRegression) {
      return reader.Error(*map, "needs class labels (problem multiclass or binary)");
    }
    if (!map->node.IsSequence() || map->node.size() == 0) {
      return reader.Error(*map, std::string("expected a non-empty list of new labels (the new "
                                            "label of original label 0, 1, ...), got ") +
                                    KindOf(map->node));
    }
    for (size_t i = 0; i < map->node.size(); ++i) {
      CB_ASSIGN_OR_RETURN(const int64_t label, reader.Int(Element(*map, i), 0));
      data->label_map.push_back(label);
    }
  }
  return Status::Ok();
}

}  // namespace cloudbook::program_parsing
