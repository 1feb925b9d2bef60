// Tensors to wire frames and back, without copies (docs/wire-protocol.md).
#include "shared/nn/tensor_codec.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <memory>
#include <vector>

namespace cloudbook {
namespace {

torch::Tensor RoundTrip(const torch::Tensor& tensor) {
  auto frame = TensorToFrame("t", tensor);
  EXPECT_TRUE(frame.ok()) << frame.status().ToString();
  if (!frame.ok()) return {};
  auto received = TensorFromFrame(frame->descriptor, std::move(frame->frame));
  EXPECT_TRUE(received.ok()) << received.status().ToString();
  return received.ok() ? *received : torch::Tensor();
}

TEST(TensorCodec, DtypeTableMatchesTorch) {
  const std::pair<torch::ScalarType, WireDtype> table[] = {
      {torch::kFloat, WireDtype::kFloat32}, {torch::kDouble, WireDtype::kFloat64},
      {torch::kHalf, WireDtype::kFloat16},  {torch::kBFloat16, WireDtype::kBFloat16},
      {torch::kChar, WireDtype::kInt8},     {torch::kByte, WireDtype::kUInt8},
      {torch::kShort, WireDtype::kInt16},   {torch::kInt, WireDtype::kInt32},
      {torch::kLong, WireDtype::kInt64},    {torch::kBool, WireDtype::kBool}};
  for (const auto& [torch_type, wire] : table) {
    auto mapped = WireDtypeFromTorch(torch_type);
    ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
    EXPECT_EQ(*mapped, wire);
    EXPECT_EQ(TorchDtypeFromWire(wire), torch_type);
    EXPECT_EQ(WireDtypeSize(wire), c10::elementSize(torch_type)) << WireDtypeName(wire);
  }
  for (const auto type : {torch::kComplexFloat, torch::kComplexDouble, torch::kQInt8,
                          torch::kQUInt8, torch::kQInt32}) {
    auto mapped = WireDtypeFromTorch(type);
    ASSERT_FALSE(mapped.ok()) << c10::toString(type);
    EXPECT_NE(mapped.status().message().find("has no wire code"), std::string::npos);
  }
}

TEST(TensorCodec, EveryDtypeRoundTripsWithItsValues) {
  const auto values = torch::arange(-6, 6, torch::kDouble).reshape({3, 4});
  for (const auto type : {torch::kFloat, torch::kDouble, torch::kHalf, torch::kBFloat16,
                          torch::kChar, torch::kShort, torch::kInt, torch::kLong}) {
    SCOPED_TRACE(c10::toString(type));
    const auto tensor = values.to(type);
    const auto received = RoundTrip(tensor);
    ASSERT_TRUE(received.defined());
    EXPECT_EQ(received.scalar_type(), type);
    EXPECT_EQ(received.sizes(), tensor.sizes());
    EXPECT_TRUE(torch::equal(received, tensor));
  }
  const auto bytes = torch::arange(250, 256, torch::kLong).to(torch::kByte);
  EXPECT_TRUE(torch::equal(RoundTrip(bytes), bytes));
  EXPECT_EQ(RoundTrip(bytes)[5].item<uint8_t>(), 255);
}

TEST(TensorCodec, BoolAndBFloat16) {
  const auto flags = torch::tensor({true, false, false, true, true});
  const auto received = RoundTrip(flags);
  ASSERT_TRUE(received.defined());
  EXPECT_EQ(received.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::equal(received, flags));
  EXPECT_EQ(received.sum().item<int64_t>(), 3);

  const auto brain = torch::tensor({1.5f, -2.25f, 1e30f, 0.0f}).to(torch::kBFloat16);
  const auto back = RoundTrip(brain);
  ASSERT_TRUE(back.defined());
  EXPECT_EQ(back.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(back, brain));
  EXPECT_FLOAT_EQ(back[1].item<float>(), -2.25f);
}

TEST(TensorCodec, ZeroDimensionalTensor) {
  const auto scalar = torch::tensor(3.5, torch::kDouble);
  auto frame = TensorToFrame("s", scalar);
  ASSERT_TRUE(frame.ok());
  EXPECT_TRUE(frame->descriptor.shape.empty());
  EXPECT_EQ(frame->descriptor.byte_count, 8u);
  auto received = TensorFromFrame(frame->descriptor, std::move(frame->frame));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->dim(), 0);
  EXPECT_EQ(received->item<double>(), 3.5);
}

TEST(TensorCodec, EmptyTensor) {
  const auto empty = torch::zeros({0, 5});
  auto frame = TensorToFrame("e", empty);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->descriptor.shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(frame->descriptor.byte_count, 0u);
  EXPECT_EQ(frame->frame.size(), 0u);
  auto received = TensorFromFrame(frame->descriptor, std::move(frame->frame));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->sizes(), empty.sizes());
  EXPECT_EQ(received->scalar_type(), torch::kFloat);
}

TEST(TensorCodec, NonContiguousViewIsSentInLogicalOrder) {
  const auto base = torch::arange(12, torch::kFloat).reshape({3, 4});
  const auto transposed = base.t();
  ASSERT_FALSE(transposed.is_contiguous());
  auto frame = TensorToFrame("t", transposed);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->descriptor.shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(frame->frame.data<float>()[1], 4.0f);  // row 0 of the transpose: 0, 4, 8
  auto received = TensorFromFrame(frame->descriptor, std::move(frame->frame));
  ASSERT_TRUE(received.ok());
  EXPECT_TRUE(received->is_contiguous());
  EXPECT_TRUE(torch::equal(*received, transposed));
}

TEST(TensorCodec, Tensor256MiBIsNeverCopied) {
  const auto tensor = torch::rand({64, 1024, 1024});  // 256 MiB of float32
  const auto storage_users = tensor.storage().use_count();
  auto frame = TensorToFrame("big", tensor);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->descriptor.byte_count, uint64_t{256} << 20);
  EXPECT_EQ(frame->frame.data(), tensor.data_ptr());  // the frame lends the tensor's storage
  EXPECT_GT(tensor.storage().use_count(), storage_users);
  void* const frame_data = frame->frame.data();

  auto received = TensorFromFrame(frame->descriptor, std::move(frame->frame));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->data_ptr(), frame_data);  // the tensor wraps the frame
  EXPECT_TRUE(torch::equal(*received, tensor));
  *received = torch::Tensor();  // frees the frame, which lets go of the sender's storage
  EXPECT_EQ(tensor.storage().use_count(), storage_users);
}

TEST(TensorCodec, ReceivedTensorKeepsTheFrameAlive) {
  auto owner = std::make_shared<std::vector<int32_t>>(std::vector<int32_t>{7, 8, 9, 10});
  std::weak_ptr<std::vector<int32_t>> watch = owner;
  TensorDescriptor descriptor{"w", WireDtype::kInt32, {2, 2}, 16};
  zmq::message_t frame = FrameFromBuffer(owner->data(), 16, owner);
  const void* data = owner->data();
  owner.reset();
  auto received = TensorFromFrame(descriptor, std::move(frame));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(received->data_ptr(), data);
  auto view = received->select(0, 1);  // a view shares the storage, and so the frame
  *received = torch::Tensor();
  EXPECT_FALSE(watch.expired());
  EXPECT_EQ(view[1].item<int32_t>(), 10);
  view = torch::Tensor();
  EXPECT_TRUE(watch.expired());
}

TEST(TensorCodec, MisalignedFrameIsCopied) {
  const float values[] = {1.0f, -2.0f, 3.5f, 4.25f};
  auto buffer = std::make_shared<std::vector<char>>(sizeof(values) + 1);
  std::memcpy(buffer->data() + 1, values, sizeof(values));
  TensorDescriptor descriptor{"m", WireDtype::kFloat32, {4}, sizeof(values)};
  auto received =
      TensorFromFrame(descriptor, FrameFromBuffer(buffer->data() + 1, sizeof(values), buffer));
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_NE(received->data_ptr(), static_cast<void*>(buffer->data() + 1));
  EXPECT_TRUE(torch::equal(*received, torch::tensor({1.0f, -2.0f, 3.5f, 4.25f})));
}

TEST(TensorCodec, BadFramesAreErrors) {
  const uint8_t not_bool[] = {0, 1, 2};
  TensorDescriptor flags{"flags", WireDtype::kBool, {3}, 3};
  auto result = TensorFromFrame(flags, zmq::message_t(not_bool, sizeof(not_bool)));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "tensor 'flags': bool element 2 is byte 2, not 0 or 1");

  TensorDescriptor wrong{"x", WireDtype::kFloat32, {3}, 12};
  result = TensorFromFrame(wrong, zmq::message_t(size_t{8}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "tensor 'x': float32 shape needs 12 bytes, byte_count says 12, the frame has 8");
  TensorDescriptor negative{"n", WireDtype::kFloat32, {-1}, 0};
  EXPECT_FALSE(TensorFromFrame(negative, zmq::message_t()).ok());
  TensorDescriptor unknown{"u", static_cast<WireDtype>(42), {1}, 1};
  EXPECT_FALSE(TensorFromFrame(unknown, zmq::message_t(size_t{1})).ok());
}

TEST(TensorCodec, UnsupportedTensorsAreErrors) {
  auto complex = TensorToFrame("c", torch::zeros({2}, torch::kComplexFloat));
  ASSERT_FALSE(complex.ok());
  EXPECT_NE(complex.status().message().find("tensor 'c': dtype ComplexFloat has no wire code"),
            std::string::npos)
      << complex.status().message();
  auto quantized =
      TensorToFrame("q", torch::quantize_per_tensor(torch::ones({2}), 0.1, 0, torch::kQInt8));
  ASSERT_FALSE(quantized.ok());
  EXPECT_NE(quantized.status().message().find("QInt8"), std::string::npos);
  auto sparse = TensorToFrame("s", torch::eye(3).to_sparse());
  ASSERT_FALSE(sparse.ok());
  EXPECT_NE(sparse.status().message().find("only dense"), std::string::npos);
  EXPECT_FALSE(TensorToFrame("u", torch::Tensor()).ok());
}

TEST(TensorCodec, WholeMessageWithGradTensorsAndCuda) {
  auto weights = torch::ones({2, 3}, torch::requires_grad());
  auto loss = (weights * 2).sum();
  WireMessage message;
  message.header.kind = MessageKind::kResult;
  std::vector<torch::Tensor> tensors = {weights, loss};
  if (torch::cuda::is_available()) tensors.push_back(torch::arange(4, torch::kCUDA));
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto frame = TensorToFrame("t" + std::to_string(i), tensors[i]);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    message.header.tensors.push_back(frame->descriptor);
    message.tensor_frames.push_back(std::move(frame->frame));
  }
  auto decoded = DecodeMessage(EncodeMessage(std::move(message)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto received =
        TensorFromFrame(decoded->header.tensors[i], std::move(decoded->tensor_frames[i]));
    ASSERT_TRUE(received.ok()) << received.status().ToString();
    EXPECT_FALSE(received->requires_grad());
    EXPECT_TRUE(received->device().is_cpu());
    EXPECT_TRUE(torch::equal(*received, tensors[i].detach().cpu()));
  }
}

}  // namespace
}  // namespace cloudbook
