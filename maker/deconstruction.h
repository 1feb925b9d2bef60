// The SkyNNet deconstruction (docs/design/deconstruction.md): how many subnets,
// which classes, samples or output columns each learns, and every tagged width divided by
// F. Pure functions, no I/O and no libtorch, so each rule has its own test.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shared/data/sample_split.h"
#include "shared/program.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

// A half-open range [begin, end) of class ids or output columns.
struct IndexRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const IndexRange& other) const {
    return begin == other.begin && end == other.end;
  }
};

// Multiclass: the largest g >= 2 with g(g-1)/2 <= n and g <= num_classes. n < 3 is an error
// that lists the possible n. Closed form: no recursion, any number of classes.
Result<int64_t> MulticlassGroups(int64_t requested_subnets, int64_t num_classes);
inline int64_t TriangularSubnets(int64_t groups) { return groups * (groups - 1) / 2; }

// Contiguous ascending groups of class ids 0..N-1: sizes N div g, the first N mod g one more.
std::vector<IndexRange> ClassGroups(int64_t num_classes, int64_t groups);
// Unordered pairs of groups in lexicographic order: (0,1), (0,2), ..., (g-2,g-1).
std::vector<std::pair<int64_t, int64_t>> GroupPairs(int64_t groups);
// S_i for a pair: the union of both groups, sorted.
std::vector<int64_t> PairClasses(const std::vector<IndexRange>& groups,
                                 std::pair<int64_t, int64_t> pair);

// Regression: D columns cut into n contiguous blocks, the first D mod n of ceil(D/n).
std::vector<IndexRange> ColumnBlocks(int64_t columns, int64_t blocks);

// The reduced width ceil(v / F), computed exactly for F given as a fraction
// (numerator / denominator). Error when v / F < 2; the message names the variable, its
// value, F and `largest_working_hint` (e.g. "the largest n that works is 6").
Result<int64_t> ReduceWidth(const std::string& name, int64_t value, int64_t factor_numerator,
                            int64_t factor_denominator, const std::string& largest_working_hint);

// How the maker will cut a program, before any data is read.
struct DeconstructionPlan {
  int64_t subnets = 0;           // k
  int64_t groups = 0;            // multiclass g
  int64_t factor_numerator = 1;  // F = numerator / denominator (g/2 for multiclass)
  int64_t factor_denominator = 1;
  double factor() const { return static_cast<double>(factor_numerator) / factor_denominator; }
  std::vector<std::string> notes;  // things the user should be told (e.g. binary k=2)
};

// Chooses k, g and F for the program's problem and the requested n.
Result<DeconstructionPlan> PlanDeconstruction(const Program& program, int64_t requested_subnets);

// The highest-k _NEURON_ variable: the output layer (number of classes or output columns).
std::string OutputVariable(const Program& program);

// Resolves the program into k subnets: widths reduced, epochs per the policy, each subnet's
// classes / half / columns and its output width. `total_train_samples` (0 when unknown)
// feeds the cost estimate.
Result<std::vector<SubnetSpec>> DeconstructProgram(const Program& program,
                                                   const DeconstructionPlan& plan,
                                                   int64_t total_train_samples = 0);

// The original network with every variable at its value (the baseline, F = 1).
Result<SubnetSpec> ResolveOriginal(const Program& program, int64_t total_train_samples = 0);

}  // namespace cloudbook
