// The data words of issue 17 as Keras programs use them: pad_sequences and imdb.load_data's
// num_words on token files, Python slices of rows, numpy's seeded shuffles and subsets (the
// same permutation as python3-numpy's RandomState), label maps, an explicit validation set;
// their order of application, the program parser's checks and the DU file round trip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "maker/program_parser.h"
#include "shared/data/dataset_loader.h"
#include "shared/data/label_map.h"
#include "shared/data/npy_reader.h"
#include "shared/data/numpy_random.h"
#include "shared/data/row_selection.h"
#include "shared/data/sequence_reader.h"
#include "shared/subnet_spec.h"
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

// --- sequences: keras/src/utils/sequence_utils.py pad_sequences, by hand ---

TEST(PadSequences, KerasDefaultsPadAndTruncateAtTheFront) {
  const std::vector<std::vector<int64_t>> s = {{1, 2, 3, 4, 5}, {6, 7}, {}};
  SequenceOptions options;
  options.maxlen = 3;
  const Array pre = PadSequences(s, options);
  EXPECT_EQ(pre.shape, (std::vector<int64_t>{3, 3}));
  // truncating pre keeps the end (s[-3:]); padding pre right-aligns; empty stays all-value.
  EXPECT_EQ(pre.values, (std::vector<float>{3, 4, 5, 0, 6, 7, 0, 0, 0}));
  options.padding_post = options.truncating_post = true;
  options.value = -1;
  const Array post = PadSequences(s, options);
  EXPECT_EQ(post.values, (std::vector<float>{1, 2, 3, 6, 7, -1, -1, -1, -1}));
  options = SequenceOptions();  // maxlen None: the longest sequence
  EXPECT_EQ(PadSequences(s, options).shape, (std::vector<int64_t>{3, 5}));
}

TEST(PadSequences, IdsFromNumWordsOnBecomeOov) {
  // imdb.load_data(num_words=5): [w if w < 5 else oov_char] with oov_char 2.
  SequenceOptions options;
  options.num_words = 5;
  options.maxlen = 4;
  EXPECT_EQ(PadSequences({{1, 4, 5, 99}, {7}}, options).values,
            (std::vector<float>{1, 4, 2, 2, 0, 0, 0, 2}));
  options.oov = 3;
  EXPECT_EQ(PadSequences({{9}}, options).values, (std::vector<float>{0, 0, 0, 3}));
}

TEST(SequenceReader, ReadsSpacesCommasAndEmptyLinesAndHonoursTheLimit) {
  ScratchDir dir;
  testing::WriteFile(dir.Join("train.txt"), "1 14 22 16\n1, 5,9\r\n\n1,2 , 3\n");
  SequenceOptions options;
  options.maxlen = 3;
  const Result<Array> all = ReadSequenceFile(dir.Join("train.txt"), options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(all->values, (std::vector<float>{14, 22, 16, 1, 5, 9, 0, 0, 0, 1, 2, 3}));
  const Result<Array> two = ReadSequenceFile(dir.Join("train.txt"), SequenceOptions(), 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->shape, (std::vector<int64_t>{2, 4}));  // longest of the rows read
}

TEST(SequenceReader, BadLinesAreRefusedWithFileAndLine) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1 2\n3 x 4\n", ":2: expected a token id (an integer >= 0) at column 3, found 'x 4'"},
      {"1 2\n3 -4\n", ":2: expected a token id (an integer >= 0) at column 3, found '-4'"},
      {"1,,2\n", ":1: expected a token id (an integer >= 0) at column 3"},
      {"1,2,\n", ":1: expected a token id (an integer >= 0) at column 5, found the end"},
      {"\n\n1.5\n", ":3: expected a token id (an integer >= 0) at column 2, found '.5'"},
      {"1 99999999\n", ":1: token id 99999999 is above 16777216"},
  };
  for (const auto& [text, fragment] : cases) {
    testing::WriteFile(dir.Join("bad.txt"), text);
    const Result<Array> read = ReadSequenceFile(dir.Join("bad.txt"), SequenceOptions());
    ASSERT_FALSE(read.ok()) << text;
    EXPECT_TRUE(Contains(read.status().message(), dir.Join("bad.txt") + fragment))
        << read.status().message() << "\nexpected: " << fragment;
  }
}

// --- numpy's legacy RandomState, against python3-numpy ---

TEST(NumpyLegacyPermutation, MatchesNumpyRandomState) {
  ScratchDir dir;
  const std::string out = RunNumpy(dir.path(), R"(
for seed, n in [(0, 1), (7, 10), (113, 25000), (42, 1000), (4294967295, 37), (3, 2)]:
    print(seed, n, ' '.join(map(str, np.random.RandomState(seed).permutation(n))))
)");
  int cases = 0;
  for (size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
    std::istringstream line(out.substr(start, end - start));
    uint64_t seed;
    int64_t n;
    line >> seed >> n;
    std::vector<int64_t> expected;
    for (int64_t v; line >> v;) expected.push_back(v);
    EXPECT_EQ(NumpyLegacyPermutation(static_cast<uint32_t>(seed), n), expected)
        << "seed " << seed << " n " << n;
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

// --- Python slices ---

TEST(RowSlice, ClampsAsPythonDoes) {
  struct Case {
    const char* text;
    int64_t rows;
    std::vector<int64_t> expected;
  };
  const std::vector<Case> cases = {
      {"0:3", 10, {0, 1, 2}},  {"-3:", 10, {7, 8, 9}}, {":2", 10, {0, 1}},
      {"8:100", 10, {8, 9}},   {"-100:2", 10, {0, 1}}, {"-3:-1", 10, {7, 8}},
      {" 1 : 3 ", 10, {1, 2}}, {":", 3, {0, 1, 2}},    {"2:-7", 10, {2}},
  };
  for (const Case& c : cases) {
    const Result<RowSlice> slice = ParseRowSlice(c.text);
    ASSERT_TRUE(slice.ok()) << c.text << ": " << slice.status().ToString();
    const Result<std::vector<int64_t>> rows = SliceRowIndices(c.rows, *slice, "data.train_rows");
    ASSERT_TRUE(rows.ok()) << c.text;
    EXPECT_EQ(*rows, c.expected) << c.text;
  }
  const Result<std::vector<int64_t>> none =
      SliceRowIndices(10, *ParseRowSlice("5:3"), "data.test_rows");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "data.test_rows: '5:3' selects none of the 10 rows");
  for (const auto& [text, fragment] :
       std::vector<std::pair<std::string, std::string>>{{"5", "is not a slice"},
                                                        {"::2", "has a step"},
                                                        {"1:2:1", "has a step"},
                                                        {"a:3", "'a' is not an integer"},
                                                        {"1.5:", "'1.5' is not an integer"}}) {
    const Result<RowSlice> bad = ParseRowSlice(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_TRUE(Contains(bad.status().message(), fragment)) << bad.status().message();
  }
}

TEST(LabelMap, MappedLabelsMustBeExactlyTheModelsClasses) {
  EXPECT_TRUE(CheckLabelMap({0, 1, 0, 1}, 2).ok());
  EXPECT_EQ(CheckLabelMap({0, 2, 0, 1}, 2).message(),
            "data.label_map maps label 1 to 2, outside the output layer's classes 0..1");
  EXPECT_EQ(CheckLabelMap({0, 0, 2}, 3).message(),
            "data.label_map gives no label class 1, but the output layer has 3 classes: the "
            "mapped labels must be 0..2");
}

// --- the whole chain through LoadProblemData, against numpy ---

// 100 samples x = [i, -i], labels i % 10; the program's words, replayed with numpy.
TEST(LoadProblemData, AppliesRowsShuffleSubsetLabelMapThenValidationAsNumpyDoes) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
x = np.stack([np.arange(100), -np.arange(100)], axis=1).astype(np.float32)
y = np.arange(100) % 10
np.save('x.npy', x); np.save('y.npy', y)
np.save('xt.npy', x[:30]); np.save('yt.npy', y[:30])
x, y = x[-80:], y[-80:]                                   # train_rows: "-80:"
p = np.random.RandomState(7).permutation(len(x)); x, y = x[p], y[p]          # shuffle 7
idx = np.random.RandomState(3).choice(len(x), 50, replace=False); x, y = x[idx], y[idx]
y = np.where(y % 2 == 0, 0, 1)                            # label_map
split_at = int(np.floor(len(x) * (1 - 0.2)))              # validation_split 0.2
x[:split_at].tofile('train_x.expected'); y[:split_at].astype(np.float32).tofile('train_y.expected')
x[split_at:].tofile('val_x.expected')
xt, yt = np.load('xt.npy')[-10:], np.where(np.load('yt.npy')[-10:] % 2 == 0, 0, 1)
xt.tofile('test_x.expected'); yt.astype(np.float32).tofile('test_y.expected')
)");
  ProjectProgram program;
  program.problem = ProblemType::kBinary;
  program.num_classes = 2;
  DataSpec& data = program.data;
  data.train.x.format = data.train.y.format = "npy";
  data.train.x.path = "x.npy";
  data.train.y.path = "y.npy";
  data.test = DataSplit{data.train.x, data.train.y, std::nullopt};
  data.test->x.path = "xt.npy";
  data.test->y.path = "yt.npy";
  data.train_rows = *ParseRowSlice("-80:");
  data.test_rows = *ParseRowSlice("-10:");
  data.shuffle_seed = 7;
  data.train_subset = TrainSubset{50, 3};
  data.label_map = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  data.validation_split = 0.2;
  const Result<ProblemData> loaded = LoadProblemData(program, {2}, dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->train.rows(), 40);
  EXPECT_EQ(loaded->validation.rows(), 10);
  EXPECT_EQ(loaded->train.x.values, ReadFloats(dir.Join("train_x.expected")));
  EXPECT_EQ(loaded->train.y.values, ReadFloats(dir.Join("train_y.expected")));
  EXPECT_EQ(loaded->validation.x.values, ReadFloats(dir.Join("val_x.expected")));
  EXPECT_EQ(loaded->test.x.values, ReadFloats(dir.Join("test_x.expected")));
  EXPECT_EQ(loaded->test.y.values, ReadFloats(dir.Join("test_y.expected")));
  EXPECT_EQ(loaded->test.labels.size(), 10u);

  // Every machine derives the same rows from the same DU file.
  const Json json = ToJson(data);
  ProjectProgram again = program;
  DuSpec du;
  du.program = program;
  du.program.k = 2;
  const Result<DuSpec> parsed = DuSpecFromJson(ToJson(du), "du_0.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ToJson(parsed->program.data), json);
  const Result<ProblemData> reloaded = LoadProblemData(parsed->program, {2}, dir.path());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->train.x.values, loaded->train.x.values);

  // A label the map does not cover is refused, naming it.
  data.label_map = {0, 1, 0, 1, 0, 1, 0, 1};
  const Result<ProblemData> outside = LoadProblemData(program, {2}, dir.path());
  ASSERT_FALSE(outside.ok());
  EXPECT_TRUE(Contains(outside.status().message(),
                       "data.train.y: sample 8 has label 8, which data.label_map (8 entries, for "
                       "labels 0..7) does not map"))
      << outside.status().message();
  data.label_map = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  data.train_subset = TrainSubset{81, 3};
  const Result<ProblemData> too_many = LoadProblemData(program, {2}, dir.path());
  ASSERT_FALSE(too_many.ok());
  EXPECT_TRUE(Contains(too_many.status().message(), "count 81 is more than the 80 training rows"))
      << too_many.status().message();
}

TEST(LoadProblemData, AnExplicitValidationSetKeepsEveryTrainingRow) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
np.save('x.npy', np.arange(40, dtype=np.float32).reshape(10, 4))
np.savez_compressed('val.npz', x_val=np.ones((3, 2, 2), dtype=np.float64))
)");
  ProjectProgram program;
  program.problem = ProblemType::kRegression;
  program.output_columns = 4;
  program.data.train.x = {"npy", "x.npy", 1.0, {}, true, ',', {}, {}};
  program.data.train.y.format = "same_as_x";
  DataSplit validation;
  validation.x = {"npz", "val.npz", 1.0, {}, true, ',', "x_val", {}};
  validation.y.format = "same_as_x";
  program.data.validation = validation;
  const Result<ProblemData> loaded = LoadProblemData(program, {4}, dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->train.rows(), 10);
  EXPECT_EQ(loaded->validation.rows(), 3);
  EXPECT_EQ(loaded->validation.y.values, std::vector<float>(12, 1.0f));
}

// --- scripts/imdb_to_sequences.py on a small imdb.npz of pickled lists ---

TEST(ImdbToSequences, ReplaysLoadDataShuffleShiftDropAndOov) {
  ScratchDir dir;
  RunNumpy(dir.path(), R"(
x = np.empty(3, dtype=object); x[:] = [[5, 3], [7, 1, 2, 9], [4, 4, 4, 4, 4]]
t = np.empty(2, dtype=object); t[:] = [[6], [2, 2, 2]]
np.savez('imdb.npz', x_train=x, y_train=np.array([0, 1, 1]), x_test=t, y_test=np.array([1, 0]))
)");
  const std::string script = std::string(CLOUDBOOK_SOURCE_DIR) + "/scripts/imdb_to_sequences.py";
  const testing::CommandResult run =
      testing::RunShellMerged("timeout 120 /usr/bin/python3 " + script + " " +
                              dir.Join("imdb.npz") + " " + dir.Join("out"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  // By hand: RandomState(113) orders train [2, 0, 1] and then test [1, 0]; start mark 1, ids
  // + 3; num_words=None keeps w < the largest id (12), so 12 becomes oov 2.
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("out/train.txt")), "1 7 7 7 7 7\n1 8 6\n1 10 4 5 2\n");
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("out/test.txt")), "1 5 5 5\n1 9\n");
  const Result<Array> labels = ReadNpyFile(dir.Join("out/y_train.npy"));
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->values, (std::vector<float>{1, 0, 1}));
  // load_data(maxlen=5) drops len >= 5 (start mark counted), then the largest id is 9.
  const testing::CommandResult drop = testing::RunShellMerged(
      "timeout 120 /usr/bin/python3 " + script + " " + dir.Join("imdb.npz") + " " +
      dir.Join("drop") + " --drop-longer-than 5");
  ASSERT_EQ(drop.exit_code, 0) << drop.out;
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("drop/train.txt")), "1 8 6\n");
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("drop/test.txt")), "1 5 5 5\n1 2\n");
  const Result<Array> x = ReadSequenceFile(dir.Join("out/train.txt"), [] {
    SequenceOptions options;  // pad_sequences(load_data(num_words=8)[0][0], maxlen=4)
    options.maxlen = 4;
    options.num_words = 8;
    return options;
  }());
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->values, (std::vector<float>{7, 7, 7, 7, 0, 1, 2, 6, 2, 4, 5, 2}));
}

// --- the program parser ---

std::string Program(const std::string& data) {
  return "name: words\nproblem: binary\ndata:\n" + data +
         "vars: {_NEURON_1: 2, _EPOCHS: 1}\nmodel:\n  input: [4]\n  layers:\n"
         "    - dense: {units: _NEURON_1, activation: softmax}\n"
         "train: {loss: sparse_categorical_crossentropy, epochs: _EPOCHS}\n";
}

constexpr char kSplits[] =
    "  train: {x: {format: npz, path: a.npz, key: x_train}, y: {format: npy, path: y.npy}}\n"
    "  test: {x: {format: sequences, path: t.txt, maxlen: 4, padding: post, truncating: post, "
    "value: 9, num_words: 100, oov: 1}, y: {format: npy, path: yt.npy}}\n";

TEST(ProgramParserDataWords, ReadsEveryWord) {
  const Result<cloudbook::Program> p = ParseProgramText(
      Program(std::string(kSplits) +
              "  validation: {x: {format: npy, path: xv.npy}, y: {format: npy, path: yv.npy}}\n"
              "  label_map: [0, 1, 1, 0]\n  train_rows: \"100:-5\"\n  test_rows: \"-10:\"\n"
              "  shuffle: {seed: 7}\n  train_subset: {count: 30, seed: 4294967295}\n"),
      "words.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const DataSpec& d = p->data;
  EXPECT_EQ(d.train.x.key, "x_train");
  const SequenceOptions& s = d.test->x.sequences;
  EXPECT_EQ(s.maxlen, 4);
  EXPECT_TRUE(s.padding_post && s.truncating_post);
  EXPECT_EQ(s.value, 9);
  EXPECT_EQ(s.num_words, 100);
  EXPECT_EQ(s.oov, 1);
  ASSERT_TRUE(d.validation.has_value());
  EXPECT_EQ(d.validation->x.path, "xv.npy");
  EXPECT_EQ(d.label_map, (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(RowSliceText(*d.train_rows), "100:-5");
  EXPECT_EQ(RowSliceText(*d.test_rows), "-10:");
  EXPECT_EQ(*d.shuffle_seed, 7u);
  EXPECT_EQ(d.train_subset->count, 30);
  EXPECT_EQ(d.train_subset->seed, 4294967295u);
}

TEST(ProgramParserDataWords, RefusesMisusedWordsWithFileLineAndKey) {
  const std::string train =
      "  train: {x: {format: npy, path: x.npy}, y: {format: npy, path: y.npy}}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  train: {x: {format: npz, path: a.npz}, y: {format: npy, path: y.npy}}\n",
       "bad.yaml:4: data.train.x: missing required key 'key'"},
      {"  train: {x: {format: npy, path: a.npy, key: x}, y: {format: npy, path: y.npy}}\n",
       "bad.yaml:4: data.train.x.key: only applies to format npz (this source is npy)"},
      {"  train: {x: {format: idx, path: a, maxlen: 3}, y: {format: npy, path: y.npy}}\n",
       "data.train.x.maxlen: only applies to format sequences (this source is idx)"},
      {"  train: {x: {format: sequences, path: a, scale: 2}, y: {format: npy, path: y.npy}}\n",
       "data.train.x.scale: does not apply to token ids"},
      {"  train: {x: {format: sequences, path: a, padding: left}, y: {format: npy, path: y}}\n",
       "data.train.x.padding: unknown value 'left'; valid: pre, post"},
      {train + "  validation_split: 0.1\n  validation: {x: {format: npy, path: v.npy}, "
               "y: {format: npy, path: w.npy}}\n",
       "bad.yaml:6: data.validation: excludes validation_split"},
      {train + "  train_rows: \"::2\"\n", "bad.yaml:5: data.train_rows: '::2' has a step"},
      {train + "  train_rows: 500\n", "data.train_rows: '500' is not a slice"},
      {train + "  test_rows: \"-10:\"\n", "data.test_rows: needs a test split"},
      {train + "  shuffle: {seed: 4294967296}\n", "data.shuffle.seed: must be at most 4294967295"},
      {train + "  shuffle: 7\n", "data.shuffle: expected a mapping"},
      {train + "  train_subset: {count: 0, seed: 1}\n",
       "data.train_subset.count: must be an integer >= 1"},
      {train + "  train_subset: {count: 5}\n", "data.train_subset: missing required key 'seed'"},
      {train + "  label_map: []\n", "data.label_map: expected a non-empty list"},
      {train + "  label_map: [0, -1]\n", "data.label_map[1]: must be an integer >= 0"},
  };
  for (const auto& [data, fragment] : cases) {
    const Result<cloudbook::Program> p = ParseProgramText(Program(data), "bad.yaml");
    ASSERT_FALSE(p.ok()) << data;
    EXPECT_TRUE(Contains(p.status().message(), fragment))
        << p.status().message() << "\nexpected: " << fragment;
  }
  const std::string regression =
      "name: r\nproblem: regression\ndata:\n" + train +
      "  label_map: [0, 1]\nvars: {_NEURON_1: 2, _EPOCHS: 1}\nmodel:\n  input: [4]\n  layers:\n"
      "    - dense: {units: _NEURON_1}\ntrain: {loss: mse, epochs: _EPOCHS}\n";
  const Result<cloudbook::Program> p = ParseProgramText(regression, "bad.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(Contains(p.status().message(), "data.label_map: needs class labels"))
      << p.status().message();
}

}  // namespace
}  // namespace cloudbook
