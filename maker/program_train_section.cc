#include "maker/program_train_section.h"

#include <string>
#include <vector>

#include "shared/text.h"

namespace cloudbook::program_parsing {
namespace {

Status ParseOptimizer(const FieldReader& reader, const Field& field, TrainSpec* train) {
  static const auto* names = new std::vector<std::string>{"adam", "sgd"};
  Field settings{YAML::Node(), field.path, field.line};
  if (field.node.IsScalar()) {
    CB_ASSIGN_OR_RETURN(train->optimizer, reader.Word(field, *names));
  } else if (field.node.IsMap() && field.node.size() == 1) {
    CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, names, "optimizer"));
    train->optimizer = entries[0].first;
    settings = entries[0].second;
  } else {
    return reader.Error(field, std::string("expected adam, sgd, or a single-key mapping like "
                                           "{adam: {lr: 0.001}}, got ") +
                                   (field.node.IsMap() ? "several keys" : KindOf(field.node)));
  }
  const bool sgd = train->optimizer == "sgd";
  train->learning_rate = sgd ? 0.01 : 0.001;
  train->momentum = 0.0;
  if (!settings.node.IsDefined() || settings.node.IsNull()) return Status::Ok();

  const std::vector<std::string> keys =
      sgd ? std::vector<std::string>{"lr", "momentum"} : std::vector<std::string>{"lr"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(settings, &keys, "key"));
  if (const Field* lr = Find(entries, "lr")) {
    CB_ASSIGN_OR_RETURN(train->learning_rate, reader.Real(*lr));
    if (!(train->learning_rate > 0)) {
      return reader.Error(*lr, "must be > 0, got " + NumberText(train->learning_rate));
    }
  }
  if (const Field* momentum = Find(entries, "momentum")) {
    CB_ASSIGN_OR_RETURN(train->momentum, reader.Real(*momentum));
    if (!(train->momentum >= 0 && train->momentum < 1)) {
      return reader.Error(*momentum, "must be in [0, 1), got " + NumberText(train->momentum));
    }
  }
  return Status::Ok();
}

// The highest _NEURON_ variable is, by the method's convention, the output width: the
}  // namespace

Status ParseTrainSection(const FieldReader& reader, const Field& field, ProblemType problem,
                         TrainSpec* train) {
  static const auto* keys = new std::vector<std::string>{"optimizer", "loss",          "batch_size",
                                                         "epochs",    "epochs_policy", "threads"};
  CB_ASSIGN_OR_RETURN(const Entries entries, reader.Mapping(field, keys, "key"));
  if (const Field* optimizer = Find(entries, "optimizer")) {
    CB_RETURN_IF_ERROR(ParseOptimizer(reader, *optimizer, train));
  }

  const Field* loss = Find(entries, "loss");
  if (loss == nullptr) return reader.Missing(field, "loss", "key");
  CB_ASSIGN_OR_RETURN(train->loss, reader.Word(*loss, {"sparse_categorical_crossentropy",
                                                       "categorical_crossentropy",
                                                       "binary_crossentropy", "mse", "mae"}));
  const bool regression_loss = train->loss == "mse" || train->loss == "mae";
  if (regression_loss != (problem == ProblemType::kRegression)) {
    return reader.Error(*loss, "'" + train->loss + "' does not fit a " + ProblemTypeName(problem) +
                                   " problem; use " +
                                   (regression_loss ? "sparse_categorical_crossentropy (or another "
                                                      "crossentropy) for classification"
                                                    : "mse or mae for regression"));
  }

  if (const Field* batch = Find(entries, "batch_size")) {
    CB_ASSIGN_OR_RETURN(train->batch_size, reader.Int(*batch, 1));
  }
  if (const Field* threads = Find(entries, "threads")) {
    CB_ASSIGN_OR_RETURN(const int64_t count, reader.Int(*threads, 1));
    if (count > kMaxTrainingThreads) {
      return reader.Error(*threads, "must be at most " + std::to_string(kMaxTrainingThreads) +
                                        ", got " + std::to_string(count));
    }
    train->threads = static_cast<int>(count);
  }

  const Field* epochs = Find(entries, "epochs");
  if (epochs == nullptr) return reader.Missing(field, "epochs", "key");
  CB_ASSIGN_OR_RETURN(train->epochs, reader.Number(*epochs, /*integer=*/true));
  if (train->epochs.value < 1) {
    return reader.Error(*epochs, "must be >= 1, got " + NumberText(train->epochs.value));
  }

  if (const Field* policy = Find(entries, "epochs_policy")) {
    CB_ASSIGN_OR_RETURN(const std::string word, reader.Word(*policy, {"table", "reduce", "keep"}));
    train->epochs_policy = word == "reduce" ? EpochsPolicy::kReduce
                           : word == "keep" ? EpochsPolicy::kKeep
                                            : EpochsPolicy::kTable;
  }
  return Status::Ok();
}

}  // namespace cloudbook::program_parsing
