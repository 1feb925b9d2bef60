// The program words of image folders (`train: {images: {path, color, scale}}`) and of
// `data.test_split: {fraction, seed}`: parsed into the program, refused with file and line
// when malformed.
#include <gtest/gtest.h>

#include "maker/program_parser.h"

namespace cloudbook {
namespace {

std::string Program(const std::string& data, const std::string& problem = "multiclass") {
  return "name: flowers\nproblem: " + problem + "\nmetrics: [accuracy]\ndata:\n" + data +
         "vars:\n  _NEURON_1: 3\nmodel:\n  input: [32, 32, 3]\n  layers:\n    - flatten\n"
         "    - dense: {units: _NEURON_1, activation: softmax}\n"
         "train:\n  optimizer: adam\n  loss: sparse_categorical_crossentropy\n  epochs: 1\n";
}

TEST(ProgramImages, ImageFolderAndTestSplitParse) {
  const Result<cloudbook::Program> p = ParseProgramText(
      Program("  train:\n    images: {path: flowers/train, color: rgb, scale: 255}\n"
              "  test_split: {fraction: 0.2, seed: 1}\n"),
      "flowers.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->data.train.images.has_value());
  EXPECT_EQ(p->data.train.images->path, "flowers/train");
  EXPECT_EQ(p->data.train.images->color, "rgb");
  EXPECT_EQ(p->data.train.images->scale, 255);
  EXPECT_FALSE(p->data.test.has_value());
  ASSERT_TRUE(p->data.test_split.has_value());
  EXPECT_EQ(p->data.test_split->fraction, 0.2);
  EXPECT_EQ(p->data.test_split->seed, 1u);

  const Result<cloudbook::Program> defaults = ParseProgramText(
      Program("  train: {images: {path: a}}\n  test: {images: {path: b}}\n"), "f.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->data.train.images->color, "");  // from model.input's channels
  EXPECT_EQ(defaults->data.train.images->scale, 1.0);
  EXPECT_EQ(defaults->data.test->images->path, "b");
}

TEST(ProgramImages, MalformedWordsAreRefusedWithFileAndLine) {
  const struct {
    std::string data, problem, fragment;
  } cases[] = {
      {"  train:\n    images: {path: a, color: rgba}\n", "multiclass",
       "bad.yaml:6: data.train.images.color: unknown value 'rgba'"},
      {"  train:\n    images: {color: rgb}\n", "multiclass", "path"},
      {"  train:\n    images: {path: ../up}\n", "multiclass", "leaves the working_dir"},
      {"  train:\n    images: {path: a, scale: 0}\n", "multiclass", "must be > 0"},
      {"  train:\n    images: {path: a}\n    x: {format: idx, path: x}\n", "multiclass",
       "an image folder (images) gives x and y"},
      {"  train:\n    images: {path: a}\n", "regression", "not regression"},
      {"  train: {images: {path: a}}\n  test_split: {fraction: 1.5, seed: 1}\n", "multiclass",
       "must be in (0, 1)"},
      {"  train: {images: {path: a}}\n  test_split: {fraction: 0.5}\n", "multiclass", "seed"},
      {"  train: {images: {path: a}}\n  test: {images: {path: b}}\n"
       "  test_split: {fraction: 0.5, seed: 1}\n",
       "multiclass", "a program with data.test has no test_split"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.data);
    const Result<cloudbook::Program> p = ParseProgramText(Program(c.data, c.problem), "bad.yaml");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().message().rfind("bad.yaml:", 0), 0u) << p.status().message();
    EXPECT_NE(p.status().message().find(c.fragment), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace cloudbook
