// The image-folder source: Keras' class and file order, values as decoded and resized, the
// per-machine cache (hit, invalidation by a touched file, nothing written after a corrupt
// image), and the loader's checks against the program.
#include "shared/data/image_folder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/filesystem.hpp>

#include "shared/atomic_file.h"
#include "shared/data/dataset_loader.h"
#include "shared/data/image_decode.h"
#include "shared/data/image_resize.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::RunShell;
using testing::ScratchDir;

// Writes each "relative path:value" as a 6x5 RGB PNG (JPEG for .jpg names) whose pixels are
// value + 3 * x + 5 * y + channel.
void WriteImages(const std::string& root, const std::vector<std::string>& specs) {
  std::string script =
      "import sys, os, numpy as np\nfrom PIL import Image\nroot = sys.argv[1]\n"
      "y, x = np.mgrid[0:5, 0:6]\n"
      "for spec in sys.argv[2:]:\n"
      "    name, value = spec.rsplit(':', 1)\n"
      "    a = np.stack([int(value) + 3 * x + 5 * y + c for c in range(3)], -1)\n"
      "    os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)\n"
      "    fmt = 'JPEG' if name.endswith('.jpg') else 'PNG'\n"
      "    Image.fromarray(a.astype(np.uint8), 'RGB').save(os.path.join(root, name), fmt)\n";
  WriteFileAtomically(root + "/.make.py", script);
  std::string command = "timeout 120 /usr/bin/python3 " + root + "/.make.py " + root;
  for (const std::string& spec : specs) command += " '" + spec + "'";
  const auto result = RunShell(command, root + "/.make.err");
  ASSERT_EQ(result.exit_code, 0) << testing::ReadFileOrDie(root + "/.make.err");
  fs::remove(root + "/.make.py");
  fs::remove(root + "/.make.err");
}

std::vector<std::string> Relatives(const ImageFolderListing& listing) {
  std::vector<std::string> names;
  for (const ImageFile& file : listing.files) {
    names.push_back(std::to_string(file.label) + ":" + file.relative);
  }
  return names;
}

std::vector<std::string> CacheFiles(const std::string& cache) {
  std::vector<std::string> names;
  if (!fs::exists(cache)) return names;
  for (const auto& entry : fs::directory_iterator(cache)) {
    if (entry.path().extension() == ".images") names.push_back(entry.path().filename().string());
  }
  return names;
}

// keras/src/utils/dataset_utils.py index_directory: classes = sorted sub-folder names (byte
// order, hidden ones skipped), files per class by sorted os.walk root then sorted names,
// only allowlisted extensions (any case), loose files at the top ignored.
TEST(ImageFolder, ListsClassesAndFilesInKerasOrder) {
  ScratchDir dir;
  const std::string root = dir.Join("flowers");
  WriteImages(root, {"tulip/b.png:1", "tulip/a.PNG:2", "Rose/z.jpg:3", "daisy/sub/x.png:4",
                     "daisy/c.png:5", "daisy/sub b/y.png:6", ".hidden/h.png:7", "loose.png:8"});
  WriteFileAtomically(root + "/daisy/notes.txt", "not an image");
  WriteFileAtomically(root + "/daisy/Thumbs.db", "not an image");
  const Result<ImageFolderListing> listing = ListImageFolder(root);
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  EXPECT_EQ(listing->classes, (std::vector<std::string>{"Rose", "daisy", "tulip"}));
  EXPECT_EQ(Relatives(*listing),
            (std::vector<std::string>{"0:Rose/z.jpg", "1:daisy/c.png", "1:daisy/sub/x.png",
                                      "1:daisy/sub b/y.png", "2:tulip/a.PNG", "2:tulip/b.png"}))
      << "os.walk roots sorted: 'daisy/sub' before 'daisy/sub b'";
}

TEST(ImageFolder, DecodesResizesAndScalesEveryImage) {
  ScratchDir dir;
  const std::string root = dir.Join("imgs");
  WriteImages(root, {"a/one.png:10", "b/two.png:100"});
  ImageFolderOptions options;
  options.height = 3;
  options.width = 4;
  options.channels = 3;
  options.scale = 255;
  const Result<ImageFolderData> data = LoadImageFolder(root, options);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->x.shape, (std::vector<int64_t>{2, 3, 4, 3}));
  EXPECT_EQ(data->labels, (std::vector<int64_t>{0, 1}));
  // Independent of the folder code: decode and resize the second file directly.
  const DecodedImage image = *DecodeImage(*ReadWholeFile(root + "/b/two.png"), 3, "two");
  std::vector<float> expected(3 * 4 * 3);
  ResizeBilinearHalfPixel(image.pixels.data(), 5, 6, 3, expected.data(), 3, 4);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_FLOAT_EQ(data->x.values[expected.size() + i], static_cast<float>(expected[i] / 255.0));
  }
}

void SetModified(const std::string& path, int64_t seconds) {
  const timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(ImageFolder, CacheIsReadUntilTheListingChanges) {
  ScratchDir dir;
  const std::string root = dir.Join("imgs"), cache = dir.Join("cache");
  WriteImages(root, {"a/one.png:10", "b/two.png:20"});
  SetModified(root + "/b/two.png", 1700000000);
  ImageFolderOptions options;
  options.height = 5;
  options.width = 6;
  options.channels = 1;
  options.cache_dir = cache;
  const Result<ImageFolderData> first = LoadImageFolder(root, options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(CacheFiles(cache).size(), 1u);

  // Same name, size and mtime but other pixels: the cache answers (no decode happened).
  const std::string original = *ReadWholeFile(root + "/b/two.png");
  WriteImages(root, {"b/two.png:30"});
  ASSERT_EQ(ReadWholeFile(root + "/b/two.png")->size(), original.size());
  SetModified(root + "/b/two.png", 1700000000);
  const Result<ImageFolderData> cached = LoadImageFolder(root, options);
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  EXPECT_EQ(cached->x.values, first->x.values);

  // Touched: decoded again, the new pixels show, the stale cache file is gone.
  SetModified(root + "/b/two.png", 1700000001);
  const Result<ImageFolderData> fresh = LoadImageFolder(root, options);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->x.values[30], first->x.values[30] + 10) << "the second image, 10 brighter";
  EXPECT_EQ(CacheFiles(cache).size(), 1u);

  // Another target shape is another cache entry of the same folder.
  options.height = 4;
  ASSERT_TRUE(LoadImageFolder(root, options).ok());
}

TEST(ImageFolder, CorruptImageNamesTheFileAndWritesNoCache) {
  ScratchDir dir;
  const std::string root = dir.Join("imgs"), cache = dir.Join("cache");
  WriteImages(root, {"a/one.png:10", "b/two.png:20"});
  const std::string bytes = *ReadWholeFile(root + "/b/two.png");
  WriteFileAtomically(root + "/b/two.png", bytes.substr(0, bytes.size() - 30));
  ImageFolderOptions options;
  options.height = 5;
  options.width = 6;
  options.cache_dir = cache;
  const Result<ImageFolderData> data = LoadImageFolder(root, options);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("b/two.png"), std::string::npos)
      << data.status().message();
  EXPECT_TRUE(CacheFiles(cache).empty());
}

TEST(ImageFolder, FolderWithoutClassesOrImagesIsRefused) {
  ScratchDir dir;
  WriteImages(dir.Join("flat"), {"only.png:1"});
  ImageFolderOptions options;
  options.height = options.width = 2;
  const Result<ImageFolderData> flat = LoadImageFolder(dir.Join("flat"), options);
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.status().message().find("no class folders"), std::string::npos);
  WriteFileAtomically(dir.Join("empty/cls/readme.txt"), "x");
  const Result<ImageFolderData> empty = LoadImageFolder(dir.Join("empty"), options);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no images"), std::string::npos);
}

ProjectProgram ImageProgram(int64_t classes) {
  ProjectProgram program;
  program.problem = ProblemType::kMulticlass;
  program.num_classes = classes;
  DataSplit train;
  train.images = ImageFolderSource{"imgs/train", "", 1.0};
  program.data.train = train;
  return program;
}

TEST(ImageFolder, LoaderShapesToTheInputAndChecksClassesAndColour) {
  ScratchDir dir;
  WriteImages(dir.Join("imgs/train"), {"a/1.png:1", "a/2.png:2", "b/3.png:3", "c/4.png:4"});
  ProjectProgram program = ImageProgram(3);
  const Result<ProblemData> data = LoadProblemData(program, {5, 6}, dir.path());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->train.x.shape, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(data->train.labels, (std::vector<int64_t>{0, 0, 1, 2}));

  const Result<ProblemData> wrong_count = LoadProblemData(ImageProgram(4), {5, 6}, dir.path());
  ASSERT_FALSE(wrong_count.ok());
  EXPECT_NE(wrong_count.status().message().find("3 class folders but the output layer has 4"),
            std::string::npos)
      << wrong_count.status().message();

  program.data.train.images->color = "rgb";
  const Result<ProblemData> wrong_color = LoadProblemData(program, {5, 6, 1}, dir.path());
  ASSERT_FALSE(wrong_color.ok());
  EXPECT_NE(wrong_color.status().message().find("data.train.images: color rgb"), std::string::npos)
      << wrong_color.status().message();

  // A test folder missing a class would shift the ids: refused.
  WriteImages(dir.Join("imgs/test"), {"a/1.png:1", "c/4.png:4"});
  program = ImageProgram(3);
  DataSplit test;
  test.images = ImageFolderSource{"imgs/test", "", 1.0};
  program.data.test = test;
  const Result<ProblemData> shifted = LoadProblemData(program, {5, 6}, dir.path());
  ASSERT_FALSE(shifted.ok());
  EXPECT_NE(shifted.status().message().find("class folders"), std::string::npos);
}

TEST(ImageFolder, TestSplitCutsAStratifiedTestSetFromTheFolder) {
  ScratchDir dir;
  std::vector<std::string> specs;
  for (int i = 0; i < 10; ++i)
    specs.push_back("a/" + std::to_string(i) + ".png:" + std::to_string(i));
  for (int i = 0; i < 5; ++i)
    specs.push_back("b/" + std::to_string(i) + ".png:" + std::to_string(i));
  WriteImages(dir.Join("imgs/train"), specs);
  ProjectProgram program = ImageProgram(2);
  program.data.test_split = TestSplitSpec{0.2, 7};
  const Result<ProblemData> data = LoadProblemData(program, {5, 6}, dir.path());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->test.labels, (std::vector<int64_t>{0, 0, 1}));  // 2 of 10, 1 of 5
  EXPECT_EQ(data->train.rows(), 12);
}

}  // namespace
}  // namespace cloudbook
