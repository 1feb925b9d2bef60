// .npy and .npz arrays as np.load reads them: every supported dtype in both byte orders, C
// and Fortran order, header versions 1.0 to 3.0, stored and deflated archives; checked value
// for value against files and values written by python3-numpy. Every malformed file gets an
// error naming the file and the cause.
#include "shared/data/npy_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/data/npz_reader.h"
#include "tests/test_support.h"
#include "tests/unit/numpy_reference.h"

namespace cloudbook {
namespace {

using testing::ReadFloats;
using testing::RunNumpy;
using testing::ScratchDir;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ErrorOf(const Result<Array>& result) {
  EXPECT_FALSE(result.ok()) << "read although malformed";
  return result.ok() ? "" : result.status().message();
}

// Every dtype the reader supports, little- and big-endian, C and Fortran order, each with its
// expected float32 values (float64 division by the scale, then float32, like the reader).
constexpr char kDtypes[] = R"(
dtypes = ['|b1', '<i1', '<i2', '>i2', '<i4', '>i4', '<i8', '>i8', '|u1', '<u2', '>u2',
          '<u4', '>u4', '<u8', '>u8', '<f2', '>f2', '<f4', '>f4', '<f8', '>f8']
rng = np.random.RandomState(5)
base = rng.uniform(-300, 300, size=(3, 4, 2))
for i, d in enumerate(dtypes):
    kind = np.dtype(d).kind
    values = np.abs(base) if kind in 'ub' else base
    a = (values > 0) if kind == 'b' else values.astype(d)
    if kind == 'i' and np.dtype(d).itemsize == 8:
        a.flat[0] = -(2**40) - 3          # beyond 32 bits
    name = 'd%d' % i
    np.save(name + '.npy', a)
    np.save(name + '_F.npy', np.asfortranarray(a))
    (a.astype(np.float64) / 4.0).astype(np.float32).tofile(name + '.expected')
    print(d)
)";

TEST(NpyReader, EveryDtypeAndByteOrderInCAndFortranOrderMatchesNumpy) {
  ScratchDir dir;
  const std::string out = RunNumpy(dir.path(), kDtypes);
  int cases = 0;
  for (size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string descr = out.substr(start, end - start);
    const std::string name = dir.Join("d" + std::to_string(cases++));
    const std::vector<float> expected = ReadFloats(name + ".expected");
    for (const std::string& file : {name + ".npy", name + "_F.npy"}) {
      const Result<Array> array = ReadNpyFile(file, NpyReadOptions{4.0, 0});
      ASSERT_TRUE(array.ok()) << descr << ": " << array.status().ToString();
      EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 4, 2})) << descr;
      EXPECT_EQ(array->values, expected) << descr << " " << file;
    }
  }
  EXPECT_EQ(cases, 21);
}

TEST(NpyReader, HeaderVersionsTwoAndThreeAndALimitOnFortranRows) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
a = np.arange(24, dtype='<f4').reshape(6, 4) * 0.5
for v in [(1, 0), (2, 0), (3, 0)]:
    with open('v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, np.asfortranarray(a), version=v)
a[:2].tofile('first2.expected')
np.save('labels.npy', np.array([3, 1, 4, 1, 5], dtype='<i8'))
)");
  for (const char* version : {"v1.npy", "v2.npy", "v3.npy"}) {
    const Result<Array> array = ReadNpyFile(dir.Join(version), NpyReadOptions{1.0, 2});
    ASSERT_TRUE(array.ok()) << version << ": " << array.status().ToString();
    EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 4})) << version;
    EXPECT_EQ(array->values, ReadFloats(dir.Join("first2.expected"))) << version;
  }
  const Result<Array> labels = ReadNpyFile(dir.Join("labels.npy"));
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(labels->row_size(), 1);
  EXPECT_EQ(labels->values, (std::vector<float>{3, 1, 4, 1, 5}));
}

// A v1.0 file from its header text and data bytes, as numpy lays it out.
std::string NpyBytes(const std::string& header, const std::string& data) {
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + data;
}

TEST(NpyReader, MalformedFilesAreRefusedNamingFileAndCause) {
  ScratchDir dir;
  const std::string good = NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }\n",
                                    std::string(8, '\1'));
  ASSERT_TRUE(ParseNpy(good, "good.npy").ok());
  struct Case {
    std::string bytes, fragment;
  };
  const std::vector<Case> cases = {
      {"hello world", "not a .npy file"},
      {good.substr(0, 9), "truncated .npy header"},
      {good.substr(0, 40), "truncated .npy header"},
      {good.substr(0, good.size() - 1), "truncated data: 7 bytes"},
      {good + "x", "1 unexpected bytes after the data"},
      {NpyBytes("{'descr': '<i2', 'fortran_order': False}", ""), "needs the keys"},
      {NpyBytes("{'descr': '<i2', 'order': False, 'shape': (1,)}", "\1\1"), "unknown key 'order'"},
      {NpyBytes("{'descr': '<i2', 'fortran_order': 0, 'shape': (1,)}", "\1\1"),
       "expected True or False"},
      {NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (1, -2)}", ""),
       "expected a dimension"},
      {NpyBytes("['descr']", ""), "expected '{'"},
      {NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': ()}", "\1\1"),
       "holds a single value"},
      {NpyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", std::string(12, 'a')),
       "dtype '<U3' is not supported; supported: bool"},
      {NpyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", std::string(8, 'a')),
       "dtype '<c8' is not supported"},
      {NpyBytes("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,)}", "aaaa"),
       "structured (record) dtypes are not supported"},
      {NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (99999999999, 99999999999)}",
                ""),
       "dimension too large"},
  };
  for (const Case& c : cases) {
    const std::string message = ErrorOf(ParseNpy(c.bytes, "data/x.npy"));
    EXPECT_TRUE(Contains(message, "data/x.npy: ")) << message;
    EXPECT_TRUE(Contains(message, c.fragment)) << message << "\nexpected: " << c.fragment;
  }
  std::string future = good;
  future[6] = 4;
  EXPECT_TRUE(Contains(ErrorOf(ParseNpy(future, "f.npy")), "format version 4.0 is not supported"));
  EXPECT_EQ(ReadNpyFile(dir.Join("absent.npy")).status().code(), Status::Code::kNotFound);
}

TEST(NpyReader, ObjectArraysAreRefusedPointingAtTheConversionScript) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
np.save('reviews.npy', np.array([[1, 14, 22], [1, 5]], dtype=object), allow_pickle=True)
np.savez('imdb.npz', x_train=np.array([[1, 14, 22], [1, 5]], dtype=object), y_train=np.array([0, 1]))
)");
  const std::string npy = ErrorOf(ReadNpyFile(dir.Join("reviews.npy")));
  EXPECT_TRUE(Contains(npy, dir.Join("reviews.npy") + ": dtype '|O' is an object array")) << npy;
  EXPECT_TRUE(Contains(npy, "scripts/imdb_to_sequences.py")) << npy;
  const std::string npz = ErrorOf(ReadNpzMember(dir.Join("imdb.npz"), "x_train"));
  EXPECT_TRUE(Contains(npz, "imdb.npz member x_train.npy: dtype '|O'")) << npz;
}

TEST(NpzReader, StoredAndDeflatedMembersMatchNumpy) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
x = np.random.RandomState(1).randint(0, 256, size=(50, 7, 3)).astype(np.uint8)
y = np.arange(50, dtype=np.int64) % 10
np.savez('plain.npz', x_train=x, y_train=y)
np.savez_compressed('packed.npz', x_train=x, y_train=y)
(x.astype(np.float64) / 255.0).astype(np.float32).tofile('x.expected')
y.astype(np.float32).tofile('y.expected')
)");
  for (const char* archive : {"plain.npz", "packed.npz"}) {
    const Result<Array> x = ReadNpzMember(dir.Join(archive), "x_train", NpyReadOptions{255, 0});
    ASSERT_TRUE(x.ok()) << archive << ": " << x.status().ToString();
    EXPECT_EQ(x->shape, (std::vector<int64_t>{50, 7, 3}));
    EXPECT_EQ(x->values, ReadFloats(dir.Join("x.expected"))) << archive;
    const Result<Array> y = ReadNpzMember(dir.Join(archive), "y_train");
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->values, ReadFloats(dir.Join("y.expected"))) << archive;
    const Result<Array> first = ReadNpzMember(dir.Join(archive), "y_train", NpyReadOptions{1, 3});
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->values, (std::vector<float>{0, 1, 2}));
  }
}

TEST(NpzReader, MissingKeysAndDamagedArchivesAreRefused) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
np.savez_compressed('packed.npz', x_train=np.arange(4000.0), y_train=np.arange(3))
)");
  const std::string missing = ErrorOf(ReadNpzMember(dir.Join("packed.npz"), "x_test"));
  EXPECT_TRUE(Contains(missing, "no array 'x_test' in the archive; keys: x_train, y_train"))
      << missing;

  const std::string bytes = testing::ReadFileOrDie(dir.Join("packed.npz"));
  testing::WriteFile(dir.Join("cut.npz"), bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(Contains(ErrorOf(ReadNpzMember(dir.Join("cut.npz"), "x_train")), "not a .npz file"));
  // Damage inside the first member's deflate stream: the zip directory is intact.
  std::string flipped = bytes;
  for (size_t i = 200; i < 260; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  testing::WriteFile(dir.Join("flipped.npz"), flipped);
  const std::string damaged = ErrorOf(ReadNpzMember(dir.Join("flipped.npz"), "x_train"));
  EXPECT_TRUE(Contains(damaged, "flipped.npz member x_train.npy: damaged data")) << damaged;

  testing::WriteFile(dir.Join("text.npz"), "just text\n");
  EXPECT_TRUE(Contains(ErrorOf(ReadNpzMember(dir.Join("text.npz"), "x")), "not a .npz file"));
  EXPECT_EQ(ReadNpzMember(dir.Join("absent.npz"), "x").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace cloudbook
