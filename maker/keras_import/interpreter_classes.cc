// Interpreter: class statements. A keras.layers.Layer subclass whose __init__ builds known
// layers and whose call wires them becomes those layers in the network (or the program
// format's word for the keras.io classes); other classes are skipped outside the block.
#include <string>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {

Status Interpreter::ExecClass(const Statement& statement) {
  const int line = statement.line;
  if (Strict()) {
    return Error(line, "a 'class' statement " + InBlockText(line) +
                           ": define classes before the SKYNNET block");
  }
  if (ContainsBlock(statement)) {
    return Error(line,
                 "the SKYNNET block is inside a 'class' statement, which the importer "
                 "does not run; put the block at the top level of the program or of a "
                 "function");
  }
  RecordSkipped(statement, "class");
  Note(line, "skipped a 'class' statement: " + statement.source);
  return Status::Ok();
}

}  // namespace cloudbook::keras_import
