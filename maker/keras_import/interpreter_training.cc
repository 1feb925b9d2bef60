// Interpreter: the model's methods (add, compile, fit, predict), optimizers and losses.
#include "maker/keras_import/interpreter.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cloudbook::keras_import {

// model.add / compile / fit / predict / summary / evaluate; array.astype / reshape.
Result<Value> Interpreter::CallMethod(const Value& object, const std::string& name,
                                      const CallArgs& args, const Expr& expr) {
  if (object.is(Value::Kind::kArray)) return CallArrayMethod(object, name, args, expr);
  if (object.is(Value::Kind::kInstance)) return CallInstanceMethod(object, name, args, expr);
  if (object.is(Value::Kind::kDataset)) return CallDatasetMethod(object, name, args, expr);
  if (object.is(Value::Kind::kLayer) && name == "adapt" &&
      object.layer->spec.words.count("_adapt_id") > 0) {
    if (args.positional.size() != 1) {
      return Status::InvalidArgument("'" + expr.source + "': adapt takes the data, adapt(x)");
    }
    adapted_[object.layer->spec.words.at("_adapt_id")] = args.positional[0];
    return Value();
  }
  if (!object.is(Value::Kind::kModel)) {
    return Value::Unknown("'" + expr.source + "' is not followed", expr.line, expr.source);
  }
  ModelState& model = *object.model;
  const int line = expr.line;
  if (!Strict() && !after_fit_in_block_) {
    if (name == "add" || name == "compile" || name == "fit" || name == "predict") {
      Warn(line, "'" + expr.source +
                     "' is outside the SKYNNET block and is ignored: only the block's "
                     "model, compile, fit and predict are imported");
    }
    return Value::Unknown("'" + expr.source + "' runs outside the SKYNNET block", line,
                          expr.source);
  }
  if (name == "add") {
    if (args.positional.size() != 1) {
      return Status::InvalidArgument("'" + expr.source + "': add takes one layer");
    }
    CB_RETURN_IF_ERROR(AddToSequential(&model, args.positional[0], "model.add(...)"));
    return Value();
  }
  if (name == "evaluate" && !args.positional.empty() && model.evaluate_line == 0) {
    model.evaluate_x = args.positional[0];
    model.evaluate_y = args.positional.size() > 1 ? args.positional[1] : Value();
    model.evaluate_line = line;
    DatasetPair(args.positional[0], &model.evaluate_x, &model.evaluate_y);  // evaluate(ds)
  }
  if (name == "summary" || name == "save" || name == "save_weights" || name == "evaluate" ||
      name == "count_params") {
    Note(line, "ignored: " + expr.source);
    return Value();
  }
  if (name == "compile") return Compile(&model, args, expr);
  if (name == "fit") return Fit(&model, object, args, expr);
  if (name == "predict") {
    if (args.positional.empty()) {
      return Status::InvalidArgument("'" + expr.source + "': predict needs the test data");
    }
    ++predict_calls_;
    model.predict_line = line;
    model.predict_x = args.positional[0];
    Value labels;
    DatasetPair(args.positional[0], &model.predict_x, &labels);  // predict(ds): its images
    const Expr& argument = *expr.arguments[0].value;
    model.predict_x_name = argument.kind == Expr::Kind::kName ? argument.text : argument.source;
    return Value::Unknown("the predictions of " + expr.source, line, expr.source);
  }
  return Status::InvalidArgument("'" + expr.source + "': the model method " + name +
                                 " is not supported in the SKYNNET block; supported: add, "
                                 "compile, fit, predict (summary, evaluate and save are "
                                 "ignored)");
}

Result<Value> Interpreter::MakeOptimizer(const std::string& name, const CallArgs& args,
                                         const Expr& expr) {
  const std::string lower = LowerCase(name);
  if (lower != "adam" && lower != "sgd") {
    return Status::InvalidArgument("'" + expr.source + "': the optimizer " + name +
                                   " is not supported; valid: Adam(learning_rate=...), "
                                   "SGD(learning_rate=..., momentum=...)");
  }
  auto optimizer = std::make_shared<OptimizerSpec>();
  optimizer->name = lower;
  if (args.positional.size() > 1) {
    return Status::InvalidArgument("'" + expr.source + "': give the optimizer's arguments by name");
  }
  if (!args.positional.empty()) {
    CB_ASSIGN_OR_RETURN(optimizer->learning_rate,
                        RealNumber(args.positional[0], name + " learning_rate"));
  }
  for (const auto& [keyword, value] : args.keywords) {
    if (keyword == "learning_rate" || keyword == "lr") {
      CB_ASSIGN_OR_RETURN(optimizer->learning_rate, RealNumber(value, name + " " + keyword));
    } else if (keyword == "momentum" && lower == "sgd") {
      CB_ASSIGN_OR_RETURN(optimizer->momentum, RealNumber(value, name + " momentum"));
    } else if (keyword == "nesterov" && lower == "sgd" && value.is(Value::Kind::kBool) &&
               value.number == 0) {
      continue;
    } else if (keyword != "name") {
      return Status::InvalidArgument("'" + expr.source + "': " + name + "'s argument '" + keyword +
                                     "' is not supported (cloudbook takes learning_rate" +
                                     (lower == "sgd" ? std::string(" and momentum") : "") +
                                     "); remove it");
    }
  }
  if (optimizer->learning_rate && *optimizer->learning_rate <= 0) {
    return Status::InvalidArgument("'" + expr.source + "': learning_rate must be > 0");
  }
  Value value;
  value.kind = Value::Kind::kOptimizer;
  value.optimizer = optimizer;
  return value;
}

Result<Value> Interpreter::Compile(ModelState* model, const CallArgs& args, const Expr& expr) {
  const std::vector<std::string> order = {"optimizer", "loss", "metrics"};
  if (args.positional.size() > order.size()) {
    return Status::InvalidArgument("'" + expr.source + "': too many positional arguments");
  }
  std::map<std::string, Value> given;
  for (size_t i = 0; i < args.positional.size(); ++i) given[order[i]] = args.positional[i];
  for (const auto& [keyword, value] : args.keywords) given[keyword] = value;
  model->compile_line = expr.line;
  for (const auto& [keyword, value] : given) {
    if (keyword == "optimizer") {
      if (value.is(Value::Kind::kOptimizer)) {
        model->optimizer = *value.optimizer;
      } else if (value.is(Value::Kind::kString) &&
                 (LowerCase(value.text) == "adam" || LowerCase(value.text) == "sgd")) {
        model->optimizer = OptimizerSpec();
        model->optimizer.name = LowerCase(value.text);
      } else {
        return Status::InvalidArgument(
            "'" + expr.source + "': optimizer " +
            (value.is(Value::Kind::kString) ? "'" + value.text + "'" : Describe(value)) +
            " is not supported; valid: 'adam', 'sgd', Adam(learning_rate=...), "
            "SGD(learning_rate=..., momentum=...)" +
            UnknownReason(value));
      }
    } else if (keyword == "loss") {
      CB_ASSIGN_OR_RETURN(model->loss, LossName(value, expr));
      model->loss_line = expr.line;
    } else if (keyword == "metrics" || keyword == "run_eagerly" || keyword == "jit_compile" ||
               keyword == "steps_per_execution" || keyword == "weighted_metrics") {
      continue;  // the metrics come from the SKYNNET marker
    } else {
      return Status::InvalidArgument("'" + expr.source + "': compile's argument '" + keyword +
                                     "' is not supported (remove it)");
    }
  }
  if (model->loss.empty()) {
    return Status::InvalidArgument("'" + expr.source + "': compile needs loss=...");
  }
  return Value();
}

Result<std::string> Interpreter::LossName(const Value& value, const Expr& expr) {
  std::string name;
  if (value.is(Value::Kind::kString) || value.is(Value::Kind::kLoss)) name = value.text;
  if (value.is(Value::Kind::kModule)) name = LastPart(value.text);
  static const std::map<std::string, std::string> names = {
      {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"},
      {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"},
      {"categorical_crossentropy", "categorical_crossentropy"},
      {"CategoricalCrossentropy", "categorical_crossentropy"},
      {"binary_crossentropy", "binary_crossentropy"},
      {"BinaryCrossentropy", "binary_crossentropy"},
      {"mse", "mse"},
      {"mean_squared_error", "mse"},
      {"MeanSquaredError", "mse"},
      {"MSE", "mse"},
      {"mae", "mae"},
      {"mean_absolute_error", "mae"},
      {"MeanAbsoluteError", "mae"},
      {"MAE", "mae"}};
  const auto found = names.find(name);
  if (found == names.end()) {
    return Status::InvalidArgument(
        "'" + expr.source + "': the loss " + (name.empty() ? Describe(value) : "'" + name + "'") +
        " is not supported; valid: sparse_categorical_crossentropy, categorical_crossentropy, "
        "binary_crossentropy, mse (mean_squared_error), mae (mean_absolute_error)" +
        UnknownReason(value));
  }
  return found->second;
}

Result<Value> Interpreter::Fit(ModelState* model, const Value& model_value, const CallArgs& args,
                               const Expr& expr) {
  const int line = expr.line;
  if (!Strict()) return Value();
  if (fit_model_ && fit_model_ != model_value.model) {
    return Error(line, "a second model is trained in the SKYNNET block (the first at line " +
                           std::to_string(fit_model_->fit_line) +
                           "): cloudbook imports one network per program");
  }
  if (model->fit_line != 0) {
    return Error(line, "fit is called a second time (first at line " +
                           std::to_string(model->fit_line) + "); train the model with one fit");
  }
  const std::vector<std::string> order = {
      "x",       "y",         "batch_size",       "epochs",
      "verbose", "callbacks", "validation_split", "validation_data",
      "shuffle"};
  if (args.positional.size() > order.size()) {
    return Status::InvalidArgument("'" + expr.source + "': too many positional arguments");
  }
  std::map<std::string, Value> given;
  std::map<std::string, std::string> written;  // x and y as written
  for (size_t i = 0; i < args.positional.size(); ++i) {
    given[order[i]] = args.positional[i];
    const Expr& argument = *expr.arguments[i].value;
    written[order[i]] = argument.kind == Expr::Kind::kName ? argument.text : argument.source;
  }
  for (size_t i = 0; i < expr.arguments.size(); ++i) {
    const Argument& argument = expr.arguments[i];
    if (argument.keyword.empty()) continue;
    written[argument.keyword] =
        argument.value->kind == Expr::Kind::kName ? argument.value->text : argument.value->source;
  }
  for (const auto& [keyword, value] : args.keywords) given[keyword] = value;
  if (given.count("x") > 0 && given["x"].is(Value::Kind::kDataset)) {
    CB_RETURN_IF_ERROR(FitDataset(&given, model, expr));  // tensorflow_datasets
  }
  model->epochs = Value();
  for (const auto& [keyword, value] : given) {
    if (keyword == "x") {
      model->fit_x = value;
    } else if (keyword == "y") {
      model->fit_y = value;
    } else if (keyword == "epochs") {
      CB_ASSIGN_OR_RETURN(const int64_t epochs, WholeNumber(value, "fit's epochs"));
      if (epochs < 1) return Status::InvalidArgument("fit's epochs must be >= 1");
      model->epochs = value;
    } else if (keyword == "batch_size") {
      if (value.is(Value::Kind::kNone)) continue;
      CB_ASSIGN_OR_RETURN(model->batch_size, WholeNumber(value, "fit's batch_size"));
      if (model->batch_size < 1) return Status::InvalidArgument("fit's batch_size must be >= 1");
    } else if (keyword == "validation_split") {
      CB_ASSIGN_OR_RETURN(model->validation_split, RealNumber(value, "validation_split"));
      if (model->validation_split < 0 || model->validation_split >= 1) {
        return Status::InvalidArgument("validation_split must be in [0, 1)");
      }
    } else if (keyword == "validation_data") {
      if (value.is(Value::Kind::kNone)) continue;
      if (value.is(Value::Kind::kArray) && value.array->format == "images") {
        model->validation_x = value;
      } else if (value.is(Value::Kind::kSequence) && value.items.size() == 2) {
        model->validation_x = value.items[0];
        model->validation_y = value.items[1];
      } else {
        return Error(line, "'" + expr.source +
                               "': validation_data must be a pair (x_val, y_val) or an "
                               "image_dataset_from_directory(...) data set; got " +
                               Describe(value) + UnknownReason(value));
      }
      model->validation_line = line;
    } else if (keyword == "callbacks") {
      Warn(line,
           "fit's callbacks are ignored: cloudbook trains for the given epochs and "
           "checkpoints every epoch itself");
    } else if (keyword == "verbose" || keyword == "shuffle" || keyword == "workers" ||
               keyword == "use_multiprocessing" || keyword == "max_queue_size" ||
               keyword == "validation_freq" || keyword == "validation_batch_size") {
      continue;
    } else {
      return Error(line, "'" + expr.source + "': fit's argument '" + keyword +
                             "' is not supported (remove it); understood: x, y, epochs, "
                             "batch_size, validation_split");
    }
  }
  const bool dataset = given.count("x") > 0 && given["x"].is(Value::Kind::kArray) &&
                       given["x"].array->format == "images" && !given["x"].array->images->loop;
  if (dataset) {
    if (given.count("y") > 0 || given.count("batch_size") > 0) {
      return Error(line, "'" + expr.source +
                             "': fit on a data set takes neither y nor batch_size (its "
                             "batches come from image_dataset_from_directory's batch_size)");
    }
    model->batch_size = given["x"].array->images_batch;
    given["y"] = Value();
  }
  if (given.count("x") == 0 || given.count("y") == 0) {
    return Error(line, "'" + expr.source +
                           "': fit needs the training data and its targets, "
                           "fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, ...)" +
                           (given.count("x") > 0 ? UnknownReason(given["x"]) : ""));
  }
  model->fit_x_name = written["x"];
  model->fit_y_name = written["y"];
  model->fit_line = line;
  fit_model_ = model_value.model;
  return Value::Unknown("the training history", line, expr.source);
}

}  // namespace cloudbook::keras_import
