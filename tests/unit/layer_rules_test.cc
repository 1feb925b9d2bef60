// maker/layer_rules.h: the table of the layers a program may name, where adding a layer starts.
#include "maker/layer_rules.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "shared/text.h"

namespace cloudbook::program_parsing {
namespace {

TEST(LayerRules, EveryTypeOnceInTheOrderMessagesListThem) {
  EXPECT_EQ(Join(LayerTypes()),
            "dense, conv2d, maxpool2d, avgpool2d, global_avgpool2d, flatten, reshape, dropout, "
            "batchnorm, embedding, gru, lstm, conv1d, maxpool1d, avgpool1d, global_avgpool1d, "
            "global_maxpool1d, global_maxpool2d, normalization, activation, add, "
            "multihead_attention, layernorm, transformer_block, token_position_embedding, "
            "patches, patch_encoder");
  const std::vector<std::string> types = LayerTypes();
  EXPECT_EQ(std::set<std::string>(types.begin(), types.end()).size(), types.size());
}

TEST(LayerRules, FindGivesTheParametersWithTheirDefaults) {
  const LayerRule* dense = FindLayerRule("dense");
  ASSERT_NE(dense, nullptr);
  ASSERT_EQ(dense->params.size(), 2u);
  EXPECT_EQ(dense->params[0].name, "units");
  EXPECT_TRUE(dense->params[0].required);
  EXPECT_EQ(dense->params[1].default_word, "linear");

  const LayerRule* pool = FindLayerRule("maxpool2d");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->params[0].default_numbers, std::vector<double>{2});
  EXPECT_TRUE(pool->params[1].default_numbers.empty()) << "the stride defaults to the pool size";

  EXPECT_EQ(FindLayerRule("dens"), nullptr);
}

TEST(LayerRules, RealRanges) {
  EXPECT_EQ(RealRangeProblem("rate", 1.0), "must be in [0, 1)");
  EXPECT_EQ(RealRangeProblem("rate", 0.5), "");
  EXPECT_EQ(RealRangeProblem("momentum", 1.0), "");
  EXPECT_EQ(RealRangeProblem("epsilon", 0), "must be > 0");
}

}  // namespace
}  // namespace cloudbook::program_parsing
