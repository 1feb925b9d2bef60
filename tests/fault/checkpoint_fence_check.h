// The check both fault tests end with: after a DU moved away from an owner that was hung or
// cut off, every checkpoint of the DU was written under the new assignment version or later
// (the old owner's writes were fenced off) and holds the final epoch.
#pragma once

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cstdint>
#include <string>

#include "shared/nn/checkpoint.h"

namespace cloudbook::testing {

inline void ExpectFinalCheckpointsFromVersion(const std::string& du_checkpoint_folder,
                                              int64_t moved_version) {
  int checked = 0;
  for (const auto& entry : boost::filesystem::directory_iterator(du_checkpoint_folder)) {
    if (entry.path().extension() != ".pt") continue;
    Result<CheckpointInfo> info = ReadCheckpointInfo(entry.path().string());
    ASSERT_TRUE(info.ok()) << entry.path() << ": " << info.status().ToString();
    EXPECT_GE(info->owner_version, moved_version) << entry.path();
    EXPECT_EQ(info->epoch, info->epochs)
        << "the final epoch, written by the new owner " << entry.path();
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no checkpoint in " << du_checkpoint_folder;
}

}  // namespace cloudbook::testing
