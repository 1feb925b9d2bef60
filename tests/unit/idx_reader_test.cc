#include "shared/data/idx_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/filesystem.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/idx_test_files.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::AppendBigEndian32;
using testing::IdxHeader;
using testing::ScratchDir;
using testing::UbyteIdx;
using testing::WriteFile;
using testing::WriteGzip;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// 2 images of 2x3 pixels with distinct values.
const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 255, 10, 20, 30, 40, 50, 60};

TEST(IdxReader, ReadsUbyteImages) {
  ScratchDir dir;
  const std::string path = dir.Join("images-idx3-ubyte");
  WriteFile(path, UbyteIdx({2, 2, 3}, kPixels));
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(array->values, std::vector<float>(kPixels.begin(), kPixels.end()));
}

TEST(IdxReader, DetectsGzipByMagicBytesNotName) {
  ScratchDir dir;
  // Compressed data without a .gz name, and plain data with one.
  const std::string gzipped = dir.Join("images.idx");
  const std::string plain = dir.Join("images.idx.gz");
  WriteGzip(gzipped, UbyteIdx({2, 2, 3}, kPixels));
  WriteFile(plain, UbyteIdx({2, 2, 3}, kPixels));
  for (const std::string& path : {gzipped, plain}) {
    const Result<Array> array = ReadIdxFile(path);
    ASSERT_TRUE(array.ok()) << array.status().ToString();
    EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2, 3}));
    EXPECT_EQ(array->values, std::vector<float>(kPixels.begin(), kPixels.end()));
  }
}

TEST(IdxReader, ReadsLabelsAsVector) {
  ScratchDir dir;
  const std::string path = dir.Join("labels.gz");
  WriteGzip(path, UbyteIdx({5}, {9, 0, 3, 7, 1}));
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(array->values, (std::vector<float>{9, 0, 3, 7, 1}));
  EXPECT_EQ(array->row_size(), 1);
}

TEST(IdxReader, ReadsBigEndianFloat32) {
  ScratchDir dir;
  const std::vector<float> expected = {1.5f, -2.25f, 1e6f, 0.0f, 3.0e-5f, -7.0f};
  std::string bytes = IdxHeader(0x0D, {3, 2});
  for (float value : expected) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    AppendBigEndian32(&bytes, bits);
  }
  const std::string path = dir.Join("floats");
  WriteFile(path, bytes);
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(array->values, expected);
}

TEST(IdxReader, ReadsBigEndianInt32) {
  ScratchDir dir;
  std::string bytes = IdxHeader(0x0C, {4});
  for (int32_t value : {-1, 70000, 258, -2000000}) {
    AppendBigEndian32(&bytes, static_cast<uint32_t>(value));
  }
  const std::string path = dir.Join("ints");
  WriteFile(path, bytes);
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(array->values, (std::vector<float>{-1, 70000, 258, -2000000}));
}

TEST(IdxReader, ReadsSbyteInt16AndFloat64) {
  ScratchDir dir;
  const std::string sbyte = dir.Join("sbyte");
  WriteFile(sbyte, IdxHeader(0x09, {3}) + std::string("\x80\xff\x05", 3));
  const std::string int16 = dir.Join("int16");
  WriteFile(int16, IdxHeader(0x0B, {2}) + std::string("\xff\xfe\x01\x02", 4));
  std::string float64 = IdxHeader(0x0E, {1});
  const double value = -0.15625;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  for (int shift = 56; shift >= 0; shift -= 8) float64.push_back(static_cast<char>(bits >> shift));
  const std::string float64_path = dir.Join("float64");
  WriteFile(float64_path, float64);

  Result<Array> array = ReadIdxFile(sbyte);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{-128, -1, 5}));
  array = ReadIdxFile(int16);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{-2, 258}));
  array = ReadIdxFile(float64_path);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{-0.15625f}));
}

TEST(IdxReader, DividesByScale) {
  ScratchDir dir;
  const std::string path = dir.Join("images");
  WriteFile(path, UbyteIdx({2, 2, 3}, kPixels));
  IdxReadOptions options;
  options.scale = 255.0;
  const Result<Array> array = ReadIdxFile(path, options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  ASSERT_EQ(array->values.size(), kPixels.size());
  for (size_t i = 0; i < kPixels.size(); ++i) {
    EXPECT_FLOAT_EQ(array->values[i], kPixels[i] / 255.0f) << i;
  }
  EXPECT_FLOAT_EQ(array->values[5], 1.0f);
}

TEST(IdxReader, RejectsNonPositiveScale) {
  ScratchDir dir;
  const std::string path = dir.Join("images");
  WriteFile(path, UbyteIdx({2, 2, 3}, kPixels));
  IdxReadOptions options;
  options.scale = 0.0;
  const Result<Array> array = ReadIdxFile(path, options);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(array.status().message(), "scale")) << array.status().message();
}

TEST(IdxReader, LimitReadsOnlyTheFirstSamples) {
  ScratchDir dir;
  const std::string path = dir.Join("images");
  WriteFile(path, UbyteIdx({2, 2, 3}, kPixels));
  IdxReadOptions options;
  options.limit = 1;
  Result<Array> array = ReadIdxFile(path, options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(array->values, (std::vector<float>{0, 1, 2, 3, 4, 255}));

  // A limit beyond the sample count reads everything.
  options.limit = 10;
  array = ReadIdxFile(path, options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2, 3}));
}

TEST(IdxReader, LimitLeavesTheRestOfTheFileUnread) {
  ScratchDir dir;
  // The header claims 1000 labels and the gzip stream is cut off after a few of them: a
  // reader that decompressed the whole file would fail.
  const std::string full = dir.Join("full.gz");
  // Pseudo-random bytes, so the first half of the compressed stream holds the first values.
  std::string labels = IdxHeader(0x08, {1000});
  uint32_t state = 12345;
  for (int i = 0; i < 1000; ++i) {
    state = state * 1103515245u + 12345u;
    labels.push_back(static_cast<char>(state >> 24));
  }
  WriteGzip(full, labels);
  const std::string gzipped = testing::ReadFileOrDie(full);
  const std::string cut = dir.Join("cut.gz");
  WriteFile(cut, gzipped.substr(0, gzipped.size() / 2));
  const std::string plain = dir.Join("plain");
  WriteFile(plain, labels.substr(0, 20));

  IdxReadOptions options;
  options.limit = 3;
  for (const std::string& path : {cut, plain}) {
    const Result<Array> array = ReadIdxFile(path, options);
    ASSERT_TRUE(array.ok()) << array.status().ToString();
    EXPECT_EQ(array->shape, (std::vector<int64_t>{3}));
    ASSERT_EQ(array->values.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(array->values[i], static_cast<uint8_t>(labels[8 + i])) << i;
    }
  }
  const Result<Array> whole = ReadIdxFile(cut);
  ASSERT_FALSE(whole.ok());
  EXPECT_TRUE(Contains(whole.status().message(), "truncated")) << whole.status().message();
  EXPECT_TRUE(Contains(whole.status().message(), "gzip")) << whole.status().message();
}

TEST(IdxReader, ReportsTruncatedData) {
  ScratchDir dir;
  const std::string path = dir.Join("images");
  WriteFile(path, UbyteIdx({2, 2, 3}, std::vector<uint8_t>(kPixels.begin(), kPixels.end() - 2)));
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  const std::string& message = array.status().message();
  EXPECT_TRUE(Contains(message, path + ": truncated")) << message;
  EXPECT_TRUE(Contains(message, "2x2x3 ubyte (12 bytes of data)")) << message;
  EXPECT_TRUE(Contains(message, "holds only 10")) << message;
}

TEST(IdxReader, ReportsTruncatedGzipData) {
  ScratchDir dir;
  const std::string path = dir.Join("images.gz");
  WriteGzip(path, UbyteIdx({2, 2, 3}, std::vector<uint8_t>(kPixels.begin(), kPixels.end() - 5)));
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  const std::string& message = array.status().message();
  EXPECT_TRUE(Contains(message, path + ": truncated")) << message;
  EXPECT_TRUE(Contains(message, "holds only 7")) << message;
}

TEST(IdxReader, ReportsTruncatedHeader) {
  ScratchDir dir;
  const std::string path = dir.Join("images");
  // Three dims announced, only one and a half present.
  WriteFile(path, IdxHeader(0x08, {60000, 28, 28}).substr(0, 10));
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  const std::string& message = array.status().message();
  EXPECT_TRUE(Contains(message, path + ": truncated header")) << message;
  EXPECT_TRUE(Contains(message, "holds only 6")) << message;

  WriteFile(path, std::string("\0\0", 2));
  const Result<Array> short_magic = ReadIdxFile(path);
  ASSERT_FALSE(short_magic.ok());
  EXPECT_TRUE(Contains(short_magic.status().message(), "truncated header"))
      << short_magic.status().message();
}

TEST(IdxReader, ReportsBadMagic) {
  ScratchDir dir;
  const std::string path = dir.Join("archive.zip");
  WriteFile(path, std::string("PK\x03\x04") + " not an idx file");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  const std::string& message = array.status().message();
  EXPECT_TRUE(Contains(message, path + ": not an IDX file")) << message;
  EXPECT_TRUE(Contains(message, "found 50 4b 03 04")) << message;
}

TEST(IdxReader, ReportsUnsupportedTypeCode) {
  ScratchDir dir;
  const std::string path = dir.Join("weird");
  WriteFile(path, IdxHeader(0x07, {2}) + "ab");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), path + ": unsupported IDX type code 0x07"))
      << array.status().message();
}

TEST(IdxReader, ReportsBadDimCount) {
  ScratchDir dir;
  const std::string path = dir.Join("dims");
  WriteFile(path, IdxHeader(0x08, {}));
  Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), path + ": 0 dims")) << array.status().message();

  WriteFile(path, IdxHeader(0x08, {1, 1, 1, 1, 1}) + "x");
  array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), path + ": 5 dims")) << array.status().message();
}

TEST(IdxReader, ReportsTrailingBytes) {
  ScratchDir dir;
  const std::string path = dir.Join("labels");
  WriteFile(path, UbyteIdx({3}, {1, 2, 3}) + "xyz");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(array.status().message(), path + ": 3 unexpected bytes after the data"))
      << array.status().message();

  // With a limit the tail is never looked at.
  IdxReadOptions options;
  options.limit = 2;
  const Result<Array> limited = ReadIdxFile(path, options);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  EXPECT_EQ(limited->values, (std::vector<float>{1, 2}));
}

TEST(IdxReader, GuardsAgainstAbsurdDims) {
  ScratchDir dir;
  const std::string path = dir.Join("huge");
  WriteFile(path, IdxHeader(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}) + "x");
  Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(array.status().message(), "2^34")) << array.status().message();

  // Large but allowed sizes fail as truncated, without allocating for the claimed size.
  WriteFile(path, IdxHeader(0x0D, {1u << 16, 1u << 16, 2}) + "abcd");
  array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "truncated")) << array.status().message();
  const std::string gzipped = dir.Join("huge.gz");
  WriteGzip(gzipped, IdxHeader(0x0D, {1u << 16, 1u << 16, 2}) + "abcd");
  array = ReadIdxFile(gzipped);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "truncated")) << array.status().message();
}

TEST(IdxReader, ReportsCorruptGzip) {
  ScratchDir dir;
  const std::string path = dir.Join("images.gz");
  // A valid gzip member header (deflate, no flags) followed by bytes that are not deflate data.
  WriteFile(path, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) +
                      "\xff\xff\xff\xff garbage garbage garbage");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(array.status().message(), path + ": corrupt gzip stream"))
      << array.status().message();
}

TEST(IdxReader, ReportsGzipChecksumMismatch) {
  ScratchDir dir;
  const std::string path = dir.Join("labels.gz");
  WriteGzip(path, UbyteIdx({3}, {1, 2, 3}));
  std::string bytes = testing::ReadFileOrDie(path);
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0xff);  // CRC32 field
  WriteFile(path, bytes);
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "gzip")) << array.status().message();
}

TEST(IdxReader, ReportsEmptyFile) {
  ScratchDir dir;
  const std::string path = dir.Join("empty");
  WriteFile(path, "");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(Contains(array.status().message(), path + ": empty file"))
      << array.status().message();
}

TEST(IdxReader, ReportsMissingFile) {
  ScratchDir dir;
  const std::string path = dir.Join("no-such-file.gz");
  const Result<Array> array = ReadIdxFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(array.status().message(), path)) << array.status().message();
}

TEST(IdxReader, ReadsFashionMnist) {
  const std::string labels_path = testing::FashionMnistDir() + "/train-labels-idx1-ubyte.gz";
  const std::string images_path = testing::FashionMnistDir() + "/t10k-images-idx3-ubyte.gz";
  if (!boost::filesystem::exists(labels_path)) GTEST_SKIP() << labels_path << " not installed";
  const Result<Array> labels = ReadIdxFile(labels_path);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->shape, (std::vector<int64_t>{60000}));
  for (float label : labels->values) {
    ASSERT_TRUE(label >= 0 && label <= 9 && label == static_cast<int>(label)) << label;
  }

  if (!boost::filesystem::exists(images_path)) return;
  IdxReadOptions options;
  options.scale = 255.0;
  const Result<Array> images = ReadIdxFile(images_path, options);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  EXPECT_EQ(images->shape, (std::vector<int64_t>{10000, 28, 28}));
  for (float pixel : images->values) ASSERT_TRUE(pixel >= 0.0f && pixel <= 1.0f) << pixel;
}

}  // namespace
}  // namespace cloudbook
