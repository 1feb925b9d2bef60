// maker/tagged_variables.h: the one reading of _NEURON_<k> & co. that the program parser, the
// deconstruction and the Keras importer share.
#include "maker/tagged_variables.h"

#include <gtest/gtest.h>

#include <string>

#include "shared/text.h"

namespace cloudbook {
namespace {

TEST(TaggedVariables, IndexIsKOfAWellFormedName) {
  EXPECT_EQ(TaggedIndex("_NEURON_1", kNeuronFamily), 1);
  EXPECT_EQ(TaggedIndex("_NEURON_10", kNeuronFamily), 10);
  EXPECT_EQ(TaggedIndex("_FILTERS_3", "_FILTERS_"), 3);
  EXPECT_EQ(TaggedIndex("_NEURON_123456789", kNeuronFamily), 123456789) << "up to 9 digits";
  for (const std::string bad : {"_NEURON_", "_NEURON_0", "_NEURON_01", "_NEURON_1a",
                                "_NEURON_1234567890", "_FILTERS_1", "NEURON_1"}) {
    EXPECT_EQ(TaggedIndex(bad, kNeuronFamily), 0) << bad;
  }
}

TEST(TaggedVariables, EveryFamilyAndEpochsAreTagged) {
  EXPECT_EQ(Join(TaggedFamilies()), "_NEURON_, _FILTERS_, _EMBEDDING_, _CELL_");
  for (const std::string name : {"_NEURON_2", "_FILTERS_1", "_EMBEDDING_4", "_CELL_7", "_EPOCHS"}) {
    EXPECT_TRUE(IsTaggedVariable(name)) << name;
  }
  for (const std::string name : {"_EPOCHS_", "_neuron_1", "_FILTER_1", "_DATA_TRAIN_X", "x"}) {
    EXPECT_FALSE(IsTaggedVariable(name)) << name;
  }
}

TEST(TaggedVariables, ProblemNamesTheCanonicalNameMeant) {
  EXPECT_EQ(TaggedVariableProblem("_FILTER_1"),
            "unknown variable name '_FILTER_1'; tagged variables are _NEURON_<k>, _FILTERS_<k>, "
            "_EMBEDDING_<k>, _CELL_<k> (k = 1, 2, ...) and _EPOCHS; did you mean '_FILTERS_1'?");
  EXPECT_NE(TaggedVariableProblem("_NEURON_0").find("(k counts from 1)"), std::string::npos);
}

TEST(NumberText, IsHowMessagesShowANumber) {
  EXPECT_EQ(NumberText(128), "128");
  EXPECT_EQ(NumberText(0.001), "0.001");
  EXPECT_EQ(NumberText(1e-5), "1e-05");
  EXPECT_EQ(NumberText(1.0 / 3), "0.333333");
}

}  // namespace
}  // namespace cloudbook
