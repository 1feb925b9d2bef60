// How the binary deconstruction splits the training samples between its two subnets.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace cloudbook {

// A seeded shuffle of the sample indices, stratified by label, into two disjoint halves
// (each sorted ascending). Each label's samples are split as evenly as possible; odd counts
// alternate which half gets the extra sample, so the halves differ in size by at most 1.
// The original split by position, which broke on data sorted by label.
std::pair<std::vector<int64_t>, std::vector<int64_t>> StratifiedHalves(
    const std::vector<int64_t>& labels, uint64_t seed);

}  // namespace cloudbook
