#include "shared/confusion_matrix.h"

#include <cmath>

#include "shared/composition.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

double Ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

int64_t ClassCount(const ProjectProgram& program) {
  return program.problem == ProblemType::kBinary ? 2 : program.num_classes;
}

}  // namespace

Result<ConfusionMatrix> CountConfusion(const std::vector<int64_t>& labels,
                                       const std::vector<int64_t>& predictions, int64_t classes) {
  if (classes <= 0) return Status::InvalidArgument("a confusion matrix needs at least 1 class");
  if (labels.size() != predictions.size()) {
    return Status::InvalidArgument(std::to_string(predictions.size()) + " predictions for " +
                                   std::to_string(labels.size()) + " labelled samples");
  }
  ConfusionMatrix matrix;
  matrix.classes = classes;
  matrix.counts.assign(static_cast<size_t>(classes * classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t truth = labels[i], predicted = predictions[i];
    if (truth < 0 || truth >= classes || predicted < 0 || predicted >= classes) {
      return Status::InvalidArgument(
          "sample " + std::to_string(i) + ": label " + std::to_string(truth) + ", predicted " +
          std::to_string(predicted) + "; classes are 0.." + std::to_string(classes - 1));
    }
    ++matrix.counts[static_cast<size_t>(truth * classes + predicted)];
  }
  return matrix;
}

std::vector<ClassScore> ScoreClasses(const ConfusionMatrix& matrix) {
  std::vector<ClassScore> scores(static_cast<size_t>(matrix.classes));
  for (int64_t truth = 0; truth < matrix.classes; ++truth) {
    for (int64_t predicted = 0; predicted < matrix.classes; ++predicted) {
      const int64_t count = matrix.at(truth, predicted);
      scores[static_cast<size_t>(truth)].support += count;
      scores[static_cast<size_t>(predicted)].predicted += count;
    }
    scores[static_cast<size_t>(truth)].correct = matrix.at(truth, truth);
  }
  for (ClassScore& score : scores) {
    score.accuracy = score.recall = Ratio(score.correct, score.support);
    score.precision = Ratio(score.correct, score.predicted);
    const double sum = score.precision + score.recall;
    score.f1 = sum > 0 ? 2 * score.precision * score.recall / sum : 0.0;
  }
  return scores;
}

Json ConfusionEntries(const ConfusionMatrix& matrix) {
  const int64_t limit = GetTunables().confusion_max_classes;
  if (matrix.classes > limit) {
    return {{"confusion_omitted", std::to_string(matrix.classes) +
                                      " classes, over confusion_max_classes (" +
                                      std::to_string(limit) + ")"}};
  }
  Json rows = Json::array();
  for (int64_t truth = 0; truth < matrix.classes; ++truth) {
    Json row = Json::array();
    for (int64_t predicted = 0; predicted < matrix.classes; ++predicted) {
      row.push_back(matrix.at(truth, predicted));
    }
    rows.push_back(std::move(row));
  }
  Json per_class = Json::array();
  const std::vector<ClassScore> scores = ScoreClasses(matrix);
  for (size_t c = 0; c < scores.size(); ++c) {
    per_class.push_back({{"class", static_cast<int64_t>(c)},
                         {"accuracy", scores[c].accuracy},
                         {"precision", scores[c].precision},
                         {"recall", scores[c].recall},
                         {"f1", scores[c].f1},
                         {"support", scores[c].support}});
  }
  return {{"confusion", std::move(rows)}, {"per_class", std::move(per_class)}};
}

Result<Json> ComposedConfusionEntries(const ProjectProgram& program,
                                      const std::vector<SubnetPrediction>& subnets,
                                      const std::vector<int64_t>& labels) {
  if (program.problem == ProblemType::kRegression) return Json::object();
  CB_ASSIGN_OR_RETURN(ComposedOutputs composed, ComposeOutputs(program, subnets));
  CB_ASSIGN_OR_RETURN(ConfusionMatrix matrix,
                      CountConfusion(labels, composed.predictions, ClassCount(program)));
  return ConfusionEntries(matrix);
}

Result<ConfusionMatrix> OutputsConfusion(const ProjectProgram& program, const Array& outputs,
                                         const std::vector<int64_t>& labels) {
  if (program.problem == ProblemType::kRegression) {
    return Status::InvalidArgument("a regression has no classes to confuse");
  }
  if (outputs.row_size() != ClassCount(program)) {
    return Status::InvalidArgument(std::to_string(outputs.row_size()) + " outputs per sample for " +
                                   std::to_string(ClassCount(program)) + " classes");
  }
  return CountConfusion(labels, RowArgmax(outputs), ClassCount(program));
}

Result<Json> OutputsConfusionEntries(const ProjectProgram& program, const Array& outputs,
                                     const std::vector<int64_t>& labels) {
  if (program.problem == ProblemType::kRegression) return Json::object();
  CB_ASSIGN_OR_RETURN(ConfusionMatrix matrix, OutputsConfusion(program, outputs, labels));
  return ConfusionEntries(matrix);
}

void MergeConfusionEntries(Json& section, const Result<Json>& entries) {
  if (!section.is_object()) return;
  if (entries.ok()) {
    section.update(*entries);
  } else {
    section["confusion_omitted"] = entries.status().message();
  }
}

Array ConfusionToArray(const ConfusionMatrix& matrix) {
  Array array;
  array.shape = {matrix.classes, matrix.classes};
  array.values.assign(matrix.counts.begin(), matrix.counts.end());
  return array;
}

Result<ConfusionMatrix> ConfusionFromArray(const Array& array) {
  if (array.shape.size() != 2 || array.shape[0] != array.shape[1] || array.shape[0] <= 0 ||
      array.values.size() != static_cast<size_t>(array.shape[0] * array.shape[1])) {
    return Status::InvalidArgument("a confusion matrix must be a square [classes, classes] array");
  }
  ConfusionMatrix matrix;
  matrix.classes = array.shape[0];
  matrix.counts.reserve(array.values.size());
  for (float value : array.values) {
    if (!(value >= 0) || value != std::floor(value)) {
      return Status::InvalidArgument("a confusion matrix holds whole counts >= 0, found " +
                                     std::to_string(value));
    }
    matrix.counts.push_back(static_cast<int64_t>(value));
  }
  return matrix;
}

}  // namespace cloudbook
