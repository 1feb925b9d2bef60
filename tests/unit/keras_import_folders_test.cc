// The importer's image-folder loops (issue 17): a class-folder tree read by a Python loop
// with cv2 or PIL becomes the program format's `images:` source and its class ids, with what
// differs from cloudbook's reader in the summary notes; what differs materially (PIL's
// antialiasing resize, other interpolations, channel-specific steps, sklearn's
// train_test_split) is refused with file:line. tensorflow_datasets' mnist / fashion_mnist
// become the IDX files of keras.datasets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::ImportError;
using keras_test::ImportOrDie;
using keras_test::Replace;
using keras_test::TestProgram;

std::string Notes(const KerasImport& imported) {
  std::string text;
  for (const std::string& note : imported.summary_notes) text += note + "\n";
  return text;
}

// The fixture with `from` replaced by `to`.
std::string Cv2Program(const std::string& from = "", const std::string& to = "") {
  const std::string text = TestProgram("cv2_folder_cnn.py");
  return from.empty() ? text : Replace(text, from, to);
}

TEST(KerasFolders, Cv2LoopBecomesAnImageFolder) {
  const KerasImport imported = ImportOrDie("cv2_folder_cnn.py");
  EXPECT_TRUE(Contains(imported.yaml,
                       "  train:\n    images: {path: \"shapes/train\", color: grayscale, "
                       "scale: 255}\n"))
      << imported.yaml;
  EXPECT_TRUE(Contains(imported.yaml,
                       "  test:\n    images: {path: \"shapes/test\", color: grayscale, "
                       "scale: 255}\n"))
      << imported.yaml;
  EXPECT_TRUE(Contains(imported.yaml, "batch_size: 32")) << imported.yaml;
  const std::string notes = Notes(imported);
  EXPECT_TRUE(Contains(notes,
                       "cv2_folder_cnn.py:17: the image-folder loop reads "
                       "'shapes/train': class ids by sorted sub-folder names"))
      << notes;
  EXPECT_TRUE(Contains(notes, "cv2_folder_cnn.py:23: cv2.resize (INTER_LINEAR)")) << notes;
  EXPECT_TRUE(Contains(notes, "'if img is None: continue' skips unreadable")) << notes;
  EXPECT_FALSE(Contains(notes, "B, G, R")) << notes;
}

TEST(KerasFolders, ColourLoopsCarryBgrWithANote) {
  const std::string rgb_model = "keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3))";
  const std::string colour =
      Replace(Replace(Cv2Program(", cv2.IMREAD_GRAYSCALE)", ")"),
                      "keras.Input(shape=(IMG_SIZE, IMG_SIZE, 1))", rgb_model),
              ".reshape(-1, IMG_SIZE, IMG_SIZE, 1)", "");
  auto imported = ImportKerasProgram(colour, "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_TRUE(Contains(imported->yaml, "images: {path: \"shapes/train\", color: rgb, scale: 255}"))
      << imported->yaml;
  EXPECT_TRUE(Contains(Notes(*imported), "p.py:20: cv2.imread gives the channels in B, G, R"))
      << Notes(*imported);
  // cvtColor(BGR2RGB): the same pixels as cloudbook's, no note.
  auto converted = ImportKerasProgram(
      Replace(
          colour, "            if img is None:",
          "            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)\n            if img is None:"),
      "p.py", "p");
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  EXPECT_FALSE(Contains(Notes(*converted), "B, G, R")) << Notes(*converted);
}

TEST(KerasFolders, UnsortedListdirIsReadInSortedOrderWithANote) {
  auto imported = ImportKerasProgram(
      Replace(Cv2Program("enumerate(sorted(os.listdir(root)))", "enumerate(os.listdir(root))"),
              "sorted(os.listdir(folder))", "os.listdir(folder)"),
      "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  const std::string notes = Notes(*imported);
  EXPECT_TRUE(Contains(notes,
                       "p.py:17: the image-folder loop reads 'shapes/train': the loop "
                       "numbers the classes in os.listdir's order"))
      << notes;
  EXPECT_TRUE(Contains(notes, "files are read in name order")) << notes;
  // classes = os.listdir(root); label = classes.index(name): the same ids.
  auto indexed = ImportKerasProgram(
      Replace(Replace(Cv2Program("    for label, name in enumerate(sorted(os.listdir(root))):\n",
                                 "    classes = sorted(os.listdir(root))\n"
                                 "    for name in classes:\n"),
                      "y.append(label)", "y.append(classes.index(name))"),
              "", ""),
      "p.py", "p");
  ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
  EXPECT_TRUE(Contains(indexed->yaml, "images: {path: \"shapes/train\"")) << indexed->yaml;
}

TEST(KerasFolders, PilLoopsWithConvertAreCarried) {
  const std::string pil =
      Replace(Replace(Cv2Program("import cv2\n", "from PIL import Image\n"),
                      "cv2.imread(os.path.join(folder, f), cv2.IMREAD_GRAYSCALE)",
                      "np.array(Image.open(os.path.join(folder, f)).convert('L'))"),
              "            img = cv2.resize(img, (IMG_SIZE, IMG_SIZE))\n", "");
  auto imported = ImportKerasProgram(pil, "p.py", "p");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_TRUE(Contains(imported->yaml, "images: {path: \"shapes/train\", color: grayscale"))
      << imported->yaml;
  EXPECT_TRUE(Contains(Notes(*imported), "the loop does not resize")) << Notes(*imported);
}

TEST(KerasFolders, WhatDiffersMateriallyIsRefusedWithItsLine) {
  const std::string pil = Replace(Cv2Program("import cv2\n", "from PIL import Image\n"),
                                  "cv2.imread(os.path.join(folder, f), cv2.IMREAD_GRAYSCALE)",
                                  "Image.open(os.path.join(folder, f)).convert('L')");
  for (const auto& [program, expected] : std::vector<std::pair<std::string, std::string>>{
           {Replace(pil, "cv2.resize(img, (IMG_SIZE, IMG_SIZE))",
                    "img.resize((IMG_SIZE, IMG_SIZE))"),
            "p.py:23: 'img.resize((IMG_SIZE, IMG_SIZE))': PIL's Image.resize filters with "
            "BICUBIC"},
           {Replace(Replace(pil, ".convert('L')", ""),
                    "            img = cv2.resize(img, (IMG_SIZE, IMG_SIZE))\n", ""),
            "p.py:23: PIL's Image.open(...) keeps each file's own mode"},
           {Cv2Program("(img, (IMG_SIZE, IMG_SIZE))",
                       "(img, (IMG_SIZE, IMG_SIZE), interpolation=cv2.INTER_AREA)"),
            "p.py:23: 'cv2.resize(img, (IMG_SIZE, IMG_SIZE), interpolation=cv2.INTER_AREA)': "
            "cv2.resize's interpolation INTER_AREA cannot be carried"},
           {Cv2Program("cv2.IMREAD_GRAYSCALE", "cv2.IMREAD_UNCHANGED"),
            "p.py:20: 'cv2.imread(os.path.join(folder, f), cv2.IMREAD_UNCHANGED)': cv2.imread's "
            "flag IMREAD_UNCHANGED cannot be carried"},
           {Cv2Program("            x.append(img)\n", "            x.append(img[:, :, 0])\n"),
            "p.py:24: 'x.append(img[:, :, 0])' is not followed in an image-folder loop"},
           {Cv2Program("            x.append(img)\n", "            x.append(img - 127)\n"),
            "p.py:24: 'img - 127': changes the pixels"}}) {
    const std::string error = ImportError(program);
    EXPECT_TRUE(Contains(error, expected)) << error;
    EXPECT_TRUE(Contains(error, "p.py:")) << error;
  }
}

TEST(KerasFolders, TrainTestSplitIsRefusedWithWhatToWriteInstead) {
  const std::string error = ImportError(Cv2Program(
      "x_test, y_test = load_folder(\"shapes/test\")\n",
      "from sklearn.model_selection import train_test_split\n"
      "x_train, x_test, y_train, y_test = train_test_split(x_train, y_train, test_size=0.2, "
      "random_state=42, stratify=y_train)\n"));
  EXPECT_TRUE(Contains(error,
                       "p.py:33: 'train_test_split(x_train, y_train, test_size=0.2, "
                       "random_state=42, stratify=y_train)': sklearn's train_test_split "
                       "cannot be carried exactly"))
      << error;
  EXPECT_TRUE(Contains(error, "Split the folder beforehand into train/ and test/")) << error;
}

TEST(KerasFolders, LoopImagesNeedTheirOwnLabels) {
  const std::string error =
      ImportError(Cv2Program("model.fit(x_train, y_train,", "model.fit(x_train, y_test[:5],"));
  EXPECT_TRUE(Contains(error, "p.py:51:")) << error;
  EXPECT_TRUE(Contains(error, "class ids")) << error;
}

}  // namespace
}  // namespace cloudbook
