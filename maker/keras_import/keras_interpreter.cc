#include "maker/keras_import/keras_interpreter.h"

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {

Result<InterpretedProgram> InterpretKerasProgram(const Block& module, const SkynnetBlock& block,
                                                 const std::string& source_name,
                                                 const std::string& program_name) {
  return Interpreter(block, source_name, program_name).Run(module);
}

}  // namespace cloudbook::keras_import
