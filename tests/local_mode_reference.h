// Local mode (`cloudbook-maker --local`, its defaults) as the reference a distributed run must
// match bit for bit: a DU's result depends only on its DU file and data (issue 15), whatever
// the placement, moves, resumes, faults or clocks of the run.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "shared/json_io.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

// Runs local mode on `project` with the maker options `slice` (the same data slice the DUs
// were made with) as run "local"; its results JSON, or null after a failed expectation.
inline Json LocalModeResults(const std::string& project, const std::string& slice,
                             const std::string& err_path) {
  const CommandResult local =
      RunShell(std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker --project-folder " + project +
                   " " + slice + " --local --run-name local",
               err_path);
  EXPECT_EQ(local.exit_code, 0) << local.out << local.err;
  Result<Json> results = ReadJsonFile(project + "/distributed/results/local.json");
  EXPECT_TRUE(results.ok()) << results.status().ToString();
  return results.ok() ? *results : Json();
}

// `results` holds exactly `reference`'s composed metrics and, subnet by subnet, its test
// metrics and the losses of every epoch the run saw trained.
inline void ExpectSameBitsAs(const Json& results, const Json& reference) {
  ASSERT_TRUE(reference.contains("composed")) << reference.dump(2);
  EXPECT_EQ(results["composed"]["metrics"], reference["composed"]["metrics"])
      << results["composed"].dump(2) << reference["composed"].dump(2);
  // Both kept the run's model (distributed/models/<run>/, issue 18) with the composed figures.
  EXPECT_TRUE(results.contains("model")) << results.value("model_error", "no model entry");
  EXPECT_TRUE(reference.contains("model")) << reference.value("model_error", "no model entry");
    ASSERT_EQ(results["subnets"].size(), reference["subnets"].size());
  for (size_t i = 0; i < reference["subnets"].size(); ++i) {
    const Json& ours = results["subnets"][i];
    const Json& theirs = reference["subnets"][i];
    for (const auto& [name, value] : ours["test_metrics"].items()) {  // a subset of local's
      EXPECT_EQ(value, theirs["test_metrics"][name]) << "subnet " << i << " " << name;
    }
    EXPECT_FALSE(ours["history"].empty()) << "subnet " << i;
    for (const Json& epoch : ours["history"]) {  // the epochs this run saw trained
      const auto e = epoch["epoch"].get<size_t>();
      ASSERT_LE(e, theirs["history"].size()) << "subnet " << i;
      EXPECT_EQ(epoch["train_loss"], theirs["history"][e - 1]["loss"])
          << "subnet " << i << " epoch " << e;
    }
  }
}

}  // namespace cloudbook::testing
