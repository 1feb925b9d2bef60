// cloudbook-predict --labels FILE: the true answers of the input's samples, in any array
// format (IDX, CSV, npy, npz, tensor; guessed as inputs are, with the options of the program's
// test labels when the format is theirs), read as training reads its test labels: class ids
// checked and mapped through data.label_map, regression targets divided by y's scale.
// Pure function; errors name the file and the cause.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

struct Truth {
  std::vector<int64_t> labels;  // classification: one class id per sample
  Array targets;                // regression: [samples, outputs]
  int64_t rows() const {
    return targets.rows() > 0 ? targets.rows() : static_cast<int64_t>(labels.size());
  }
};

// `limit` > 0: the first samples only (as the input's --limit). `samples`: the input's count,
// which the file must match.
Result<Truth> ReadTruth(const RunModel& model, const std::string& path, int64_t limit,
                        int64_t samples);

}  // namespace cloudbook
