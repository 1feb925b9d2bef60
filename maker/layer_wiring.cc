#include "maker/layer_wiring.h"

#include <string>

#include "shared/model_dag.h"

namespace cloudbook::program_parsing {
namespace {

// A layer name: a word of letters, digits and '_' not starting with a digit, and not one of
// the words `inputs` gives a meaning of its own.
Result<std::string> LayerName(const FieldReader& reader, const Field& field, bool reference) {
  CB_ASSIGN_OR_RETURN(const std::string name, reader.Text(field, "a layer name"));
  bool valid = !name.empty();
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool digit = c >= '0' && c <= '9';
    valid =
        valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (digit && i > 0));
  }
  if (!valid) {
    return reader.Error(field,
                        "a layer name is a word of letters, digits and '_' (not starting "
                        "with a digit), got '" +
                            name + "'");
  }
  if (!reference && (name == kDagModelInput || name == kDagPrevious)) {
    return reader.Error(field,
                        "'" + name + "' is reserved: in inputs it means " +
                            (name == kDagModelInput ? "the model input" : "the layer just above"));
  }
  return name;
}

}  // namespace

Status ParseLayerWiring(const FieldReader& reader, const Entries& entries, LayerSpec* layer) {
  if (const Field* name = Find(entries, kLayerNameKey)) {
    CB_ASSIGN_OR_RETURN(layer->name, LayerName(reader, *name, /*reference=*/false));
  }
  const Field* inputs = Find(entries, kLayerInputsKey);
  if (inputs == nullptr) return Status::Ok();
  if (!inputs->node.IsSequence() || inputs->node.size() == 0) {
    return reader.Error(*inputs,
                        std::string("expected a non-empty list of layer names like "
                                    "[h, previous], got ") +
                            (inputs->node.IsSequence() ? "an empty list" : KindOf(inputs->node)));
  }
  for (size_t i = 0; i < inputs->node.size(); ++i) {
    CB_ASSIGN_OR_RETURN(std::string input,
                        LayerName(reader, Element(*inputs, i), /*reference=*/true));
    layer->inputs.push_back(std::move(input));
  }
  return Status::Ok();
}

}  // namespace cloudbook::program_parsing
