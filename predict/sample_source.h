// The samples cloudbook-predict applies a model to, read from an input file or folder in any
// format the program accepts (predict/input_format.h) and handed out a batch at a time as the
// model's input: raw values divided by ModelInputScale, as training divided them (the same
// readers with the same options, so the same bits). Array files are read once; images are
// decoded per batch. Not thread-safe. Errors name the file and say the expected shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "predict/image_samples.h"
#include "shared/data/array.h"
#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

struct SampleRequest {
  std::string input;   // file or folder
  std::string format;  // empty: guessed
  std::string key;     // npz member; empty: the program's
  int64_t limit = 0;   // first samples only (0 = all)
};

class SampleSource {
 public:
  // `scale`: ModelInputScale(model) (shared/nn/model_predictor.h), what raw values are divided by.
  static Result<std::unique_ptr<SampleSource>> Open(const RunModel& model,
                                                    const SampleRequest& request, double scale);

  int64_t samples() const { return samples_; }
  const std::string& format() const { return format_; }
  // Rows [begin, end) as the model takes them: [end - begin, input_shape...].
  Result<Array> Read(int64_t begin, int64_t end);
  // Images: the file of sample i (below the input folder); empty for arrays.
  std::string name(int64_t i) const;
  bool named() const { return !images_.files.empty(); }
  // A class-folder tree: each sample's class (the model's class id); empty otherwise.
  const std::vector<int64_t>& folder_labels() const { return folder_labels_; }

 private:
  SampleSource() = default;
  std::string format_;
  int64_t samples_ = 0;
  std::vector<int64_t> input_shape_;
  Array array_;         // array formats: every sample
  ImageInputs images_;  // images: the files
  ImageShape image_shape_;
  double scale_ = 1.0;
  std::vector<int64_t> folder_labels_;
};

// The test split of the model's program (else its training split): where its reading options
// come from.
const DataSplit& ProgramSplit(const RunModel& model);

}  // namespace cloudbook
