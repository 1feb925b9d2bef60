#include "shared/composed_score.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace cloudbook {

const char* CompositionRuleName(ProblemType problem) {
  switch (problem) {
    case ProblemType::kMulticlass:
      return "product";
    case ProblemType::kBinary:
      return "best_margin";
    case ProblemType::kRegression:
      return "concatenation";
  }
  return "unknown";
}

Result<ComposedOutputs> ComposeOutputs(const ProjectProgram& program,
                                       const std::vector<SubnetPrediction>& predictions) {
  ComposedOutputs composed;
  switch (program.problem) {
    case ProblemType::kMulticlass: {
      CB_ASSIGN_OR_RETURN(MulticlassComposition product,
                          ComposeMulticlass(predictions, program.num_classes));
      composed.predictions = std::move(product.predictions);
      composed.outputs = std::move(product.log_scores);
      const int64_t width = composed.outputs.row_size();
      for (int64_t row = 0; row < composed.outputs.rows(); ++row) {
        float* scores = composed.outputs.values.data() + row * width;
        const float top = *std::max_element(scores, scores + width);
        double sum = 0;
        for (int64_t c = 0; c < width; ++c) sum += std::exp(static_cast<double>(scores[c] - top));
        for (int64_t c = 0; c < width; ++c) {
          scores[c] = static_cast<float>(std::exp(static_cast<double>(scores[c] - top)) / sum);
        }
      }
      return composed;
    }
    case ProblemType::kBinary: {
      if (predictions.size() != 2) {
        return Status::Internal("binary composition needs exactly 2 subnets, got " +
                                std::to_string(predictions.size()));
      }
      CB_ASSIGN_OR_RETURN(composed.outputs, ComposeBinary(predictions[0], predictions[1]));
      composed.predictions = RowArgmax(composed.outputs);
      return composed;
    }
    case ProblemType::kRegression: {
      CB_ASSIGN_OR_RETURN(composed.outputs, ComposeRegression(predictions, program.output_columns));
      return composed;
    }
  }
  return Status::Internal("unknown problem type");
}

Result<Metrics> ScoreComposition(const ProjectProgram& program,
                                 const std::vector<SubnetPrediction>& predictions,
                                 const LabeledArrays& test) {
  switch (program.problem) {
    case ProblemType::kMulticlass: {
      CB_ASSIGN_OR_RETURN(auto composed, ComposeMulticlass(predictions, program.num_classes));
      return MulticlassMetrics(composed, test.labels);
    }
    case ProblemType::kBinary: {
      if (predictions.size() != 2) {
        return Status::Internal("binary composition needs exactly 2 subnets, got " +
                                std::to_string(predictions.size()));
      }
      CB_ASSIGN_OR_RETURN(Array composed, ComposeBinary(predictions[0], predictions[1]));
      return ClassificationMetrics(composed, test.labels);
    }
    case ProblemType::kRegression: {
      CB_ASSIGN_OR_RETURN(Array composed, ComposeRegression(predictions, program.output_columns));
      return RegressionMetrics(composed, test.y);
    }
  }
  return Status::Internal("unknown problem type");
}

Metrics ScoreSubnet(const ProjectProgram& program, const SubnetSpec& subnet, const Array& outputs,
                    const LabeledArrays& test) {
  if (outputs.rows() != test.rows() || outputs.rows() == 0) return {};
  switch (program.problem) {
    case ProblemType::kMulticlass: {
      if (subnet.classes.empty() ||
          outputs.row_size() != static_cast<int64_t>(subnet.classes.size()))
        return {};
      const std::set<int64_t> known(subnet.classes.begin(), subnet.classes.end());
      const std::vector<int64_t> ranks = RowArgmax(outputs);
      int64_t judged = 0, correct = 0;
      for (size_t row = 0; row < test.labels.size() && row < ranks.size(); ++row) {
        if (!known.count(test.labels[row])) continue;
        ++judged;
        if (subnet.classes[static_cast<size_t>(ranks[row])] == test.labels[row]) ++correct;
      }
      if (judged == 0) return {};
      return {{"accuracy", static_cast<double>(correct) / static_cast<double>(judged)}};
    }
    case ProblemType::kBinary:
      return ClassificationMetrics(outputs, test.labels);
    case ProblemType::kRegression: {
      const int64_t columns = subnet.column_end - subnet.column_begin;
      if (columns <= 0 || outputs.row_size() != columns || test.y.row_size() < subnet.column_end)
        return {};
      Array block;
      block.shape = {test.y.rows(), columns};
      block.values.reserve(static_cast<size_t>(test.y.rows() * columns));
      const int64_t width = test.y.row_size();
      for (int64_t row = 0; row < test.y.rows(); ++row) {
        for (int64_t column = subnet.column_begin; column < subnet.column_end; ++column) {
          block.values.push_back(test.y.values[static_cast<size_t>(row * width + column)]);
        }
      }
      return RegressionMetrics(outputs, block);
    }
  }
  return {};
}

}  // namespace cloudbook
