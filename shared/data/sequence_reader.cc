#include "shared/data/sequence_reader.h"

#include <algorithm>
#include <cctype>

#include "shared/atomic_file.h"

namespace cloudbook {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// One line: ids separated by blanks and/or one comma ("1 2 3", "1,2,3", "1, 2, 3").
Result<std::vector<int64_t>> ParseLine(const std::string& line, const std::string& where) {
  std::vector<int64_t> ids;
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < line.size() && IsBlank(line[i])) ++i;
  };
  skip_blanks();
  bool need_id = false;  // after a comma, another id must follow
  while (i < line.size() || need_id) {
    const size_t start = i;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    if (i == start) {
      const std::string found =
          start < line.size()
              ? "'" + line.substr(start, std::min<size_t>(12, line.size() - start)) + "'"
              : "the end of the line";
      return Status::InvalidArgument(where + ": expected a token id (an integer >= 0) at column " +
                                     std::to_string(start + 1) + ", found " + found);
    }
    if (i - start > 9 || std::stoll(line.substr(start, i - start)) > kMaxSequenceId) {
      return Status::InvalidArgument(where + ": token id " + line.substr(start, i - start) +
                                     " is above " + std::to_string(kMaxSequenceId) +
                                     " (ids are stored as float32)");
    }
    ids.push_back(std::stoll(line.substr(start, i - start)));
    skip_blanks();
    need_id = false;
    if (i < line.size() && line[i] == ',') {
      ++i;
      skip_blanks();
      need_id = true;
    }
  }
  return ids;
}

}  // namespace

Array PadSequences(const std::vector<std::vector<int64_t>>& sequences,
                   const SequenceOptions& options) {
  // keras/src/utils/sequence_utils.py pad_sequences: np.full((n, maxlen), value);
  // truncating "pre" keeps s[-maxlen:], "post" s[:maxlen]; padding "pre" right-aligns.
  int64_t maxlen = options.maxlen;
  if (maxlen <= 0) {
    maxlen = 0;
    for (const auto& s : sequences) maxlen = std::max<int64_t>(maxlen, s.size());
  }
  Array array;
  array.shape = {static_cast<int64_t>(sequences.size()), maxlen};
  array.values.assign(sequences.size() * static_cast<size_t>(maxlen),
                      static_cast<float>(options.value));
  for (size_t row = 0; row < sequences.size(); ++row) {
    const std::vector<int64_t>& s = sequences[row];
    const auto kept = std::min<int64_t>(maxlen, s.size());
    const size_t first = options.truncating_post ? 0 : s.size() - static_cast<size_t>(kept);
    float* out = array.values.data() + row * maxlen + (options.padding_post ? 0 : maxlen - kept);
    for (int64_t k = 0; k < kept; ++k) {
      int64_t id = s[first + static_cast<size_t>(k)];
      // keras/src/datasets/imdb.py load_data: [w if skip_top <= w < num_words else oov_char].
      if (options.num_words > 0 && id >= options.num_words) id = options.oov;
      out[k] = static_cast<float>(id);
    }
  }
  return array;
}

Result<Array> ReadSequenceFile(const std::string& path, const SequenceOptions& options,
                               int64_t limit) {
  CB_RETURN_IF_ERROR(CheckReadOptions(path, 1.0, limit));
  CB_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path));
  std::vector<std::vector<int64_t>> sequences;
  size_t start = 0;
  int line_number = 0;
  while (start < text.size() && (limit == 0 || static_cast<int64_t>(sequences.size()) < limit)) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_number;
    CB_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                        ParseLine(line, path + ":" + std::to_string(line_number)));
    sequences.push_back(std::move(ids));
    start = end + 1;
  }
  return PadSequences(sequences, options);
}

}  // namespace cloudbook
