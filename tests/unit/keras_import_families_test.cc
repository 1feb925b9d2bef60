// End to end per family of issue 17 (keras.io-style programs under tests/testdata/keras/):
// each is imported (the YAML parsed back by the maker's own parser), and its subnets are
// planned and built as the maker does (PlanDeconstruction, DeconstructProgram), with the
// words the data and layer work added (these pass once those words are merged: the
// importer alone cannot parse its YAML back).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/deconstruction.h"
#include "maker/keras_import/keras_import.h"
#include "tests/keras_import_test_programs.h"

namespace cloudbook {
namespace {

using keras_test::Contains;
using keras_test::ImportOrDie;
using keras_test::Subnets;

TEST(KerasFamilies, TransformerOnTokenSequences) {
  const KerasImport imported = ImportOrDie("transformer_text.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  ASSERT_EQ(program.model.layers.size(), 7u);
  EXPECT_EQ(program.model.layers[0].type, "token_position_embedding");
  EXPECT_EQ(program.model.layers[1].type, "transformer_block");
  EXPECT_EQ(program.data.train.x.format, "sequences");
  EXPECT_EQ(program.data.train.x.path, "imdb/train.txt");
  EXPECT_EQ(program.model.input_dtype, "int64");
  EXPECT_EQ(Subnets(program, 2).size(), 2u);
}

TEST(KerasFamilies, VisionTransformerOnPatches) {
  const KerasImport imported = ImportOrDie("vit_patches.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  EXPECT_EQ(program.model.layers[0].type, "patches");
  EXPECT_EQ(program.model.layers[1].type, "patch_encoder");
  EXPECT_TRUE(Contains(imported.yaml, "name: patch_encoder_1}")) << imported.yaml;
  EXPECT_EQ(Subnets(program, 3).size(), 3u);
  EXPECT_FALSE(imported.summary_notes.empty());
}

TEST(KerasFamilies, ImageFolderCnn) {
  const KerasImport imported = ImportOrDie("image_folder_cnn.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  EXPECT_EQ(imported.program.model.layers[3].type, "global_maxpool2d");
  EXPECT_EQ(Subnets(imported.program, 3).size(), 3u);
}

TEST(KerasFamilies, ImageFolderReadByACv2Loop) {
  const KerasImport imported = ImportOrDie("cv2_folder_cnn.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  ASSERT_TRUE(program.data.train.images.has_value());
  EXPECT_EQ(program.data.train.images->path, "shapes/train");
  EXPECT_EQ(program.data.train.images->color, "grayscale");
  EXPECT_EQ(program.data.train.images->scale, 255);
  ASSERT_TRUE(program.data.test.has_value());
  ASSERT_TRUE(program.data.test->images.has_value());
  EXPECT_EQ(program.data.test->images->path, "shapes/test");
  EXPECT_EQ(program.model.input_shape, (std::vector<int64_t>{28, 28, 1}));
  EXPECT_EQ(Subnets(program, 3).size(), 3u);
}

TEST(KerasFamilies, AutoencoderWithValidationData) {
  const KerasImport imported = ImportOrDie("autoencoder_validation.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  EXPECT_TRUE(Contains(imported.yaml, "  validation:\n")) << imported.yaml;
  EXPECT_TRUE(Contains(imported.yaml, "  train_subset: {count: 2000, seed: 7}\n")) << imported.yaml;
  EXPECT_EQ(Subnets(program, 2).size(), 2u);
}

TEST(KerasFamilies, BinaryWithALabelMap) {
  const KerasImport imported = ImportOrDie("binary_label_map.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  EXPECT_TRUE(Contains(imported.yaml, "  label_map: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]\n"))
      << imported.yaml;
  EXPECT_TRUE(Contains(imported.yaml, "  train_rows: \"0:6000\"\n")) << imported.yaml;
  EXPECT_EQ(Subnets(program, 2).size(), 2u);
}

TEST(KerasFamilies, TensorflowDatasetsMnistTutorial) {
  const KerasImport imported = ImportOrDie("tfds_mnist.py");
  ASSERT_FALSE(imported.program.model.layers.empty()) << "the import failed";
  const Program& program = imported.program;
  ASSERT_EQ(program.model.layers.size(), 3u);
  EXPECT_EQ(program.model.layers[0].type, "flatten");
  EXPECT_EQ(program.data.train.x.format, "idx");
  EXPECT_EQ(program.data.train.x.path, "mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(program.data.train.x.scale, 255);
  EXPECT_EQ(program.data.train.y.path, "mnist/train-labels-idx1-ubyte.gz");
  ASSERT_TRUE(program.data.validation.has_value());
  EXPECT_EQ(program.data.validation->x.path, "mnist/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(program.data.validation->x.scale, 255);
  EXPECT_EQ(program.train.batch_size, 128);
  EXPECT_EQ(Subnets(program, 3).size(), 3u);  // 10 classes: g(g-1)/2 subnets
  bool order_noted = false;
  for (const std::string& note : imported.summary_notes) {
    order_noted = order_noted || Contains(note, "tfds.load's records come in another order");
  }
  EXPECT_TRUE(order_noted);
}

}  // namespace
}  // namespace cloudbook
