// Reads integer token sequences (format "sequences"): a text file, one sample per line, ids
// separated by spaces and/or single commas. Ids >= num_words become `oov` (imdb.load_data's
// num_words), then every sequence is padded and truncated to maxlen as Keras' pad_sequences
// does. Errors name file:line and the offending text. Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

// Ids are stored as float32 values: larger ones would not stay exact.
inline constexpr int64_t kMaxSequenceId = int64_t{1} << 24;

// `limit`: read at most this many samples (0 = all). Result: [samples, maxlen].
Result<Array> ReadSequenceFile(const std::string& path, const SequenceOptions& options,
                               int64_t limit = 0);

// pad_sequences on parsed sequences (maxlen 0 = longest), after the num_words/oov mapping.
Array PadSequences(const std::vector<std::vector<int64_t>>& sequences,
                   const SequenceOptions& options);

}  // namespace cloudbook
