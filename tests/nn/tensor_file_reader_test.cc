// The "tensor" data format: tensors saved by libtorch's torch::save and by torch.save's
// pickle format (torch::pickle_save writes the same bytes as Python's torch.save).
#include "shared/nn/tensor_file_reader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "shared/data/tensor_file.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

TEST(TensorFileReader, ReadsTorchSaveAndPickleFilesWithScaleAndLimit) {
  InstallTensorFileReader();
  testing::ScratchDir dir;
  const auto tensor = torch::arange(24, torch::kInt64).reshape({4, 3, 2});
  torch::save(tensor, dir.Join("script.pt"));
  const auto pickled = torch::pickle_save(tensor);
  testing::WriteFile(dir.Join("pickle.pt"), std::string(pickled.begin(), pickled.end()));

  for (const std::string name : {"script.pt", "pickle.pt"}) {
    auto array = ReadTensorFile(dir.Join(name), {2.0, 3});
    ASSERT_TRUE(array.ok()) << name << ": " << array.status().ToString();
    EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 3, 2})) << name;
    EXPECT_FLOAT_EQ(array->values[5], 2.5f) << name;
    EXPECT_EQ(array->values.size(), 18u) << name;
  }
}

TEST(TensorFileReader, GarbageAndMissingFilesAreClearErrors) {
  InstallTensorFileReader();
  testing::ScratchDir dir;
  testing::WriteFile(dir.Join("garbage.pt"), "this is not a tensor");
  auto garbage = ReadTensorFile(dir.Join("garbage.pt"), {});
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("garbage.pt"), std::string::npos);
  auto missing = ReadTensorFile(dir.Join("missing.pt"), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace cloudbook
