// The SkyNNet markers of an original program: `#SKYNNET:BEGIN_<TYPE>[_ACC|_LOSS|_ACC_LOSS]`
// and `#SKYNNET:END` comments around the network (manual, section 2.1). Found among the
// comment tokens only, so a marker inside a string does not count. Pure function.
#pragma once

#include <string>
#include <vector>

#include "maker/keras_import/python_tokenizer.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::keras_import {

struct SkynnetBlock {
  ProblemType problem = ProblemType::kMulticlass;
  std::string marker;          // the BEGIN comment as written
  std::string metrics_suffix;  // "", "ACC", "LOSS" or "ACC_LOSS"
  int begin_line = 0;          // the BEGIN comment's line
  int end_line = 0;            // the END comment's line
  bool Contains(int line) const { return line > begin_line && line < end_line; }
};

// Exactly one block. Errors: no BEGIN, a BEGIN without END (or the reverse), a second block,
// an unknown problem type or metrics suffix (with the closest valid spelling).
Result<SkynnetBlock> FindSkynnetBlock(const std::vector<Token>& tokens,
                                      const std::string& source_name);

}  // namespace cloudbook::keras_import
