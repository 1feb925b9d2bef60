// Test helper: runs a Python snippet with Debian's python3-numpy (the independent reference
// for the NumPy-compatible readers and shuffles) in a scratch folder, and reads back the
// float32 values it wrote.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace cloudbook::testing {

// Runs `code` with /usr/bin/python3 in `folder` (numpy imported as np); returns its stdout.
inline std::string RunNumpy(const std::string& folder, const std::string& code) {
  WriteFile(folder + "/reference.py", "import numpy as np\n" + code);
  const CommandResult run =
      RunShellMerged("cd '" + folder + "' && timeout 120 /usr/bin/python3 reference.py");
  EXPECT_EQ(run.exit_code, 0) << "python3-numpy reference failed:\n" << run.out;
  return run.out;
}

// The float32 values of a raw little-endian file written by numpy's tobytes().
inline std::vector<float> ReadFloats(const std::string& path) {
  const std::string bytes = ReadFileOrDie(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

}  // namespace cloudbook::testing
