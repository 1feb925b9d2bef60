// An image-folder program end to end: a real cloudbook-maker process deconstructs a small CNN
// whose data is a folder of PNG class sub-folders (no test folder: data.test_split), trains
// its subnets locally and composes them; the decoded images land in the machine's cache
// (P/cache/images) and the next run reads them from there.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "tests/shapes_project.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }

TEST(ImageFolderRun, MakerTrainsAndComposesFromAnImageFolderAndCachesTheDecode) {
  ScratchDir project;
  WriteFileAtomically(project.Join("original/shapes.yaml"), testing::kShapesProgram);
  ASSERT_NO_FATAL_FAILURE(testing::WriteShapes(project.Join("distributed/working_dir/shapes")));
  const auto run = [&](const std::string& name) {
    return testing::RunShellMerged(Maker() + " -p " + project.path() +
                                   " --subnets 3 --local --threads 1 --run-name " + name);
  };
  const testing::CommandResult first = run("first");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("decoded 160 images"), std::string::npos) << first.out;
  const auto results = ReadJsonFile(project.Join("distributed/results/first.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString() << "\n" << first.out;
  EXPECT_GT((*results)["composed"]["metrics"]["accuracy"].get<double>(), 0.8) << "chance is 0.25\n"
                                                                              << first.out;
  ASSERT_EQ((*results)["subnets"].size(), 3u);

  int cache_files = 0;
  for (const auto& entry : fs::directory_iterator(project.Join("cache/images"))) {
    cache_files += entry.path().extension() == ".images";
  }
  EXPECT_EQ(cache_files, 1);
  const testing::CommandResult second = run("second");
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out.find("decoded 160 images"), std::string::npos)
      << "the second run reads the cache\n"
      << second.out;
}

}  // namespace
}  // namespace cloudbook
