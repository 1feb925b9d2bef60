#include "shared/data/label_map.h"

#include <algorithm>
#include <string>

namespace cloudbook {

Status CheckLabelMap(const std::vector<int64_t>& map, int64_t num_classes) {
  std::vector<bool> reached(static_cast<size_t>(std::max<int64_t>(num_classes, 0)), false);
  for (size_t label = 0; label < map.size(); ++label) {
    if (map[label] < 0 || map[label] >= num_classes) {
      return Status::InvalidArgument("data.label_map maps label " + std::to_string(label) + " to " +
                                     std::to_string(map[label]) +
                                     ", outside the output layer's classes 0.." +
                                     std::to_string(num_classes - 1));
    }
    reached[static_cast<size_t>(map[label])] = true;
  }
  for (size_t label = 0; label < reached.size(); ++label) {
    if (!reached[label]) {
      return Status::InvalidArgument(
          "data.label_map gives no label class " + std::to_string(label) +
          ", but the output layer has " + std::to_string(num_classes) +
          " classes: the mapped labels must be 0.." + std::to_string(num_classes - 1));
    }
  }
  return Status::Ok();
}

void ApplyLabelMap(const std::vector<int64_t>& map, std::vector<int64_t>& labels, Array& y) {
  for (size_t i = 0; i < labels.size(); ++i) {
    labels[i] = map[static_cast<size_t>(labels[i])];
    y.values[i] = static_cast<float>(labels[i]);
  }
}

}  // namespace cloudbook
