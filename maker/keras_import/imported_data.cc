#include "maker/keras_import/imported_data.h"

#include <sstream>

#include "maker/keras_import/program_yaml_writer.h"

namespace cloudbook::keras_import {
namespace {

// A double-quoted YAML scalar (paths and slices come from the user's program).
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Source(const ImportedSource& source) {
  if (source.format == "same_as_x") return "same_as_x";
  std::string text = "{format: " + source.format + ", path: " + Quoted(source.path);
  if (!source.key.empty()) text += ", key: " + Quoted(source.key);
  if (source.format == "sequences") {
    const SequenceParams& s = source.sequences;
    text += ", maxlen: " + std::to_string(s.maxlen) + ", padding: " + s.padding +
            ", truncating: " + s.truncating + ", value: " + std::to_string(s.value);
    if (s.num_words > 0) text += ", num_words: " + std::to_string(s.num_words);
    text += ", oov: " + std::to_string(s.oov);
  }
  if (source.scale != 1.0) text += ", scale: " + FormatYamlNumber(source.scale);
  return text + "}";
}

void Split(std::ostringstream& out, const std::string& name, const ImportedSplit& split) {
  out << "  " << name << ":\n";
  if (split.images) {
    out << "    images: {path: " << Quoted(split.images_path) << ", color: " << split.images->color;
    if (split.images_scale != 1.0) out << ", scale: " << FormatYamlNumber(split.images_scale);
    out << "}\n";
    return;
  }
  out << "    x: " << Source(split.x) << "\n";
  out << "    y: " << Source(split.y) << "\n";
}

}  // namespace

std::string DataYaml(const ImportedData& data) {
  std::ostringstream out;
  out << "data:\n";
  Split(out, "train", data.train);
  if (data.test) Split(out, "test", *data.test);
  if (data.validation) {
    Split(out, "validation", *data.validation);
  } else if (data.validation_split > 0) {
    out << "  validation_split: " << FormatYamlNumber(data.validation_split) << "\n";
  }
  if (!data.train_rows.empty()) out << "  train_rows: " << Quoted(data.train_rows) << "\n";
  if (!data.test_rows.empty()) out << "  test_rows: " << Quoted(data.test_rows) << "\n";
  if (data.shuffle_seed) out << "  shuffle: {seed: " << *data.shuffle_seed << "}\n";
  if (data.train_subset) {
    out << "  train_subset: {count: " << data.train_subset->first
        << ", seed: " << data.train_subset->second << "}\n";
  }
  if (!data.label_map.empty()) {
    out << "  label_map: [";
    for (size_t i = 0; i < data.label_map.size(); ++i) out << (i ? ", " : "") << data.label_map[i];
    out << "]\n";
  }
  return out.str();
}

}  // namespace cloudbook::keras_import
