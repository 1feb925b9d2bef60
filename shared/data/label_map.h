// data.label_map: the new label of each original label, applied to every split's labels
// (np.where(y % 2 == 0, 0, 1) on labels 0..9 is [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]). Labels the
// map does not cover are refused where the labels are read. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

// The mapped labels must be exactly the model's classes: every value in 0..num_classes-1 and
// every class some label's image (else the output layer would not match the data).
Status CheckLabelMap(const std::vector<int64_t>& map, int64_t num_classes);

// labels[i] = map[labels[i]] and y alike; every label must be < map.size() (checked before).
void ApplyLabelMap(const std::vector<int64_t>& map, std::vector<int64_t>& labels, Array& y);

}  // namespace cloudbook
