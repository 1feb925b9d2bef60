// maker/program_fields.h: how every program parser message points at a file, line and key.
#include "maker/program_fields.h"

#include <gtest/gtest.h>

#include <string>

namespace cloudbook::program_parsing {
namespace {

constexpr char kDoc[] = R"(vars:
  _NEURON_1: 10
train:
  epochs: _NEURON_2
  threads: two
)";

TEST(ProgramFields, MessagesNameSourceLineAndPath) {
  const YAML::Node root = YAML::Load(kDoc);
  FieldReader reader("prog.yaml");
  const Result<Entries> top = reader.Mapping({root, "", 0}, nullptr, "top-level key");
  ASSERT_TRUE(top.ok());
  const Field* train = Find(*top, "train");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->path, "train");
  EXPECT_EQ(train->line, 3);

  const std::vector<std::string> keys{"epochs", "threads"};
  const Result<Entries> entries = reader.Mapping(*train, &keys, "key");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(reader.Int(*Find(*entries, "threads"), 1).status().message(),
            "prog.yaml:5: train.threads: expected an integer, got 'two'");

  reader.DefineVar("_NEURON_1", 10, *Find(*top, "vars"));
  EXPECT_EQ(reader.Number(*Find(*entries, "epochs"), true).status().message(),
            "prog.yaml:4: train.epochs: unknown variable '_NEURON_2' (define it under vars); "
            "defined: _NEURON_1");
  EXPECT_EQ(reader.Missing({root, "", 0}, "name", "top-level key").message(),
            "prog.yaml: missing required top-level key 'name'");

  const std::vector<std::string> one{"epochs"};
  EXPECT_EQ(reader.Mapping(*train, &one, "key").status().message(),
            "prog.yaml:5: train: unknown key 'threads'; valid: epochs");
}

TEST(ProgramFields, ElementsBorrowTheListLineWhenNull) {
  const YAML::Node list = YAML::Load("[1, ~, 3]");
  const Field field{list, "model.input", 7};
  EXPECT_EQ(Element(field, 1).path, "model.input[1]");
  EXPECT_EQ(Element(field, 1).line, 7);
  EXPECT_STREQ(KindOf(list), "a list");
}

}  // namespace
}  // namespace cloudbook::program_parsing
