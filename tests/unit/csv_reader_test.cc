#include "shared/data/csv_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::ScratchDir;
using testing::WriteFile;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Writes `contents` to a file in `dir` and reads it back with `options`.
Result<Array> ReadCsvText(const ScratchDir& dir, const std::string& contents,
                          const CsvReadOptions& options = {}) {
  const std::string path = dir.Join("data.csv");
  WriteFile(path, contents);
  return ReadCsvFile(path, options);
}

const char kPeople[] =
    "id,age,height,weight\n"
    "1,34,1.80,75.5\n"
    "2,28,1.65,60\n"
    "3,45,1.72,82.25\n";

TEST(CsvReader, ReadsAllColumnsWithHeader) {
  ScratchDir dir;
  const Result<Array> array = ReadCsvText(dir, kPeople);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(array->values,
            (std::vector<float>{1, 34, 1.80f, 75.5f, 2, 28, 1.65f, 60, 3, 45, 1.72f, 82.25f}));
}

TEST(CsvReader, SelectsColumnsByNameInTheGivenOrder) {
  ScratchDir dir;
  CsvReadOptions options;
  options.columns = {"weight", "age"};
  const Result<Array> array = ReadCsvText(dir, kPeople, options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(array->values, (std::vector<float>{75.5f, 34, 60, 28, 82.25f, 45}));
}

TEST(CsvReader, SelectsColumnsByIndex) {
  ScratchDir dir;
  CsvReadOptions options;
  options.columns = {"3", "0", "height"};
  const Result<Array> array = ReadCsvText(dir, kPeople, options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(array->values, (std::vector<float>{75.5f, 1, 1.80f, 60, 2, 1.65f, 82.25f, 3, 1.72f}));

  options.columns = {"4"};
  const Result<Array> out_of_range = ReadCsvText(dir, kPeople, options);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_TRUE(Contains(out_of_range.status().message(), "column index 4 is out of range"))
      << out_of_range.status().message();
}

TEST(CsvReader, ReadsWithoutHeaderByIndexOnly) {
  ScratchDir dir;
  CsvReadOptions options;
  options.header = false;
  Result<Array> array = ReadCsvText(dir, "1,2,3\n4,5,6\n", options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(array->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));

  options.columns = {"2", "0"};
  array = ReadCsvText(dir, "1,2,3\n4,5,6\n", options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{3, 1, 6, 4}));

  options.columns = {"age"};
  array = ReadCsvText(dir, "1,2,3\n4,5,6\n", options);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(array.status().message(), "'age'")) << array.status().message();
  EXPECT_TRUE(Contains(array.status().message(), "without a header row"))
      << array.status().message();
}

TEST(CsvReader, HandlesCrlfAndMissingFinalNewline) {
  ScratchDir dir;
  const Result<Array> array = ReadCsvText(dir, "a,b\r\n1,2\r\n3,4");
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array->values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvReader, SkipsBlankLinesButCountsThemInLineNumbers) {
  ScratchDir dir;
  const std::string text = "\n  \na,b\n1,2\n\n\r\n3,4\n \t\n\n";
  Result<Array> array = ReadCsvText(dir, text);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array->values, (std::vector<float>{1, 2, 3, 4}));

  array = ReadCsvText(dir, "a,b\n\n1,2\n\nx,4\n");
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "data.csv:5: column 'a'"))
      << array.status().message();
}

TEST(CsvReader, AcceptsQuotedFieldsAndSurroundingWhitespace) {
  ScratchDir dir;
  const Result<Array> array = ReadCsvText(dir, "\"x\" , \"y, z\"\n \"1.5\" ,  -2 \n\t3e2,\"+4\"\n");
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array->values, (std::vector<float>{1.5f, -2, 300, 4}));

  CsvReadOptions options;
  options.columns = {"y, z"};
  const Result<Array> by_name = ReadCsvText(dir, "x,\"y, z\"\n1,2\n", options);
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->values, (std::vector<float>{2}));
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  ScratchDir dir;
  CsvReadOptions options;
  options.columns = {"id"};
  const Result<Array> array = ReadCsvText(dir, "\xEF\xBB\xBFid,v\n7,8\n", options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{7}));
}

TEST(CsvReader, ReadsTabSeparatedValues) {
  ScratchDir dir;
  CsvReadOptions options;
  options.delimiter = '\t';
  const Result<Array> array = ReadCsvText(dir, "a\tb\n1\t\t\n", options);
  ASSERT_FALSE(array.ok());  // three fields: tabs are not padding when they separate
  EXPECT_TRUE(Contains(array.status().message(), "expected 2 fields, found 3"))
      << array.status().message();
  const Result<Array> ok = ReadCsvText(dir, "a\tb\n 1 \t 2\n", options);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->values, (std::vector<float>{1, 2}));
}

TEST(CsvReader, DividesByScale) {
  ScratchDir dir;
  CsvReadOptions options;
  options.scale = 4.0;
  const Result<Array> array = ReadCsvText(dir, "a,b\n1,2\n-8,10\n", options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->values, (std::vector<float>{0.25f, 0.5f, -2, 2.5f}));

  options.scale = -1.0;
  const Result<Array> bad = ReadCsvText(dir, "a,b\n1,2\n", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
}

TEST(CsvReader, LimitKeepsTheFirstRows) {
  ScratchDir dir;
  CsvReadOptions options;
  options.limit = 2;
  // The broken third row is never parsed.
  const Result<Array> array = ReadCsvText(dir, "a,b\n1,2\n3,4\nbroken\n", options);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array->values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvReader, ReportsNonNumericValueWithLineAndColumn) {
  ScratchDir dir;
  const std::string path = dir.Join("data.csv");
  const Result<Array> array = ReadCsvText(dir, "id,age\n1,30\n2,abc\n");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(array.status().message(), path + ":3: column 'age': 'abc' is not a number");

  EXPECT_TRUE(Contains(ReadCsvText(dir, "a\n1.5x\n").status().message(), "'1.5x' is not a number"));
  EXPECT_TRUE(Contains(ReadCsvText(dir, "a,b\n1,\n").status().message(), "column 'b': empty"));
  EXPECT_TRUE(Contains(ReadCsvText(dir, "a\nnan\n").status().message(), "not a finite number"));
  EXPECT_TRUE(Contains(ReadCsvText(dir, "a\n-inf\n").status().message(), "not a finite number"));
  EXPECT_TRUE(Contains(ReadCsvText(dir, "a\n1e999\n").status().message(), "out of range"));

  CsvReadOptions options;
  options.header = false;
  EXPECT_TRUE(Contains(ReadCsvText(dir, "1,2\n3,z\n", options).status().message(),
                       ":2: column 1: 'z' is not a number"));
}

TEST(CsvReader, ReportsWrongFieldCountWithLine) {
  ScratchDir dir;
  const std::string path = dir.Join("data.csv");
  const Result<Array> array = ReadCsvText(dir, "a,b,c,d,e\n1,2,3,4,5\n\n1,2,3,4\n");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), path + ":4: expected 5 fields, found 4");
}

TEST(CsvReader, ReportsUnknownColumnListingNames) {
  ScratchDir dir;
  CsvReadOptions options;
  options.columns = {"age", "heigth"};
  const Result<Array> array = ReadCsvText(dir, kPeople, options);
  ASSERT_FALSE(array.ok());
  const std::string& message = array.status().message();
  EXPECT_TRUE(Contains(message, "no column named 'heigth'")) << message;
  EXPECT_TRUE(Contains(message, "'id', 'age', 'height', 'weight'")) << message;
}

TEST(CsvReader, ReportsUnterminatedQuote) {
  ScratchDir dir;
  const Result<Array> array = ReadCsvText(dir, "a,b\n1,\"2\n");
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "data.csv:2: unterminated quote in field 2"))
      << array.status().message();
}

TEST(CsvReader, ReportsEmptyFileAndMissingRows) {
  ScratchDir dir;
  Result<Array> array = ReadCsvText(dir, "");
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "data.csv: empty file"))
      << array.status().message();
  array = ReadCsvText(dir, "\r\n\n");
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "empty file")) << array.status().message();
  array = ReadCsvText(dir, "a,b\n\n");
  ASSERT_FALSE(array.ok());
  EXPECT_TRUE(Contains(array.status().message(), "no data rows")) << array.status().message();
}

TEST(CsvReader, ReportsMissingFile) {
  ScratchDir dir;
  const std::string path = dir.Join("missing.csv");
  const Result<Array> array = ReadCsvFile(path);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(array.status().message(), path)) << array.status().message();
}

}  // namespace
}  // namespace cloudbook
