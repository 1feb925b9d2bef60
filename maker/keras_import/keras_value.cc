#include "maker/keras_import/keras_value.h"

#include <sstream>

namespace cloudbook::keras_import {

std::string Describe(const Value& value) {
  switch (value.kind) {
    case Value::Kind::kUnknown:
      return "a value the importer cannot follow";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return value.number != 0 ? "True" : "False";
    case Value::Kind::kNumber: {
      std::ostringstream out;
      out << "the number " << value.number;
      if (!value.tag.empty()) out << " (" << value.tag << ")";
      return out.str();
    }
    case Value::Kind::kString:
      return "the string '" + value.text + "'";
    case Value::Kind::kSequence:
      return value.is_list ? "a list" : "a tuple";
    case Value::Kind::kModule:
      return "'" + value.text + "'";
    case Value::Kind::kFunction:
      return "the function " + value.text + "()";
    case Value::Kind::kMethod:
      return "the method ." + value.text + "()";
    case Value::Kind::kArray:
      return "data loaded at line " + std::to_string(value.array->line);
    case Value::Kind::kSampleCount:
      return "the number of samples";
    case Value::Kind::kFile:
      return "the file '" + value.text + "'";
    case Value::Kind::kLayer:
      return "a " + value.layer->spec.type + " layer";
    case Value::Kind::kTensor:
      return "a Keras tensor";
    case Value::Kind::kModel:
      return "a Keras model";
    case Value::Kind::kOptimizer:
      return "an optimizer";
    case Value::Kind::kLoss:
      return "the loss " + value.text;
    case Value::Kind::kRows:
      return "a random choice of rows";
    case Value::Kind::kClass:
      return "the class " + value.text;
    case Value::Kind::kInstance:
      return "an object of the class " + value.instance->class_def->text;
    case Value::Kind::kDataset:
      return "the tensorflow_datasets data set loaded at line " +
             std::to_string(value.dataset->line);
  }
  return "a value";
}

}  // namespace cloudbook::keras_import
