// Suggestions for misspelt words in error messages ("unknown layer 'dens'; did you mean
// 'dense'?"): one edit-distance rule for every parser that names what would be valid.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cloudbook {

std::string LowerCase(std::string text);

// Levenshtein distance: insertions, deletions and substitutions, one each.
size_t EditDistance(const std::string& a, const std::string& b);

// The candidate closest to `word` (case-insensitive), if at most two edits away and fewer edits
// than `word` has letters (so "x" never suggests "mse"); else "". `word` itself is skipped.
std::string ClosestSpelling(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" for ClosestSpelling, or "".
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cloudbook
