// Runs the parsed program (python_parser.h) just far enough to know its network: the module
// code before the SKYNNET block (imports, data loading, preprocessing), functions it calls,
// and the block itself, whose model, compile, fit and predict become a cloudbook::Program.
// Outside the block, what it cannot follow is skipped (a note); inside the block it is an
// error with the line, the construct and what to do instead. Nothing is executed for real:
// values are symbolic (keras_value.h). Pure function, no I/O.
#pragma once

#include <string>
#include <vector>

#include "maker/keras_import/imported_data.h"
#include "maker/keras_import/python_syntax.h"
#include "maker/keras_import/skynnet_markers.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook::keras_import {

// A data file the program reads, relative to distributed/working_dir.
struct DataFile {
  std::string path;
  std::string dataset;  // "mnist" | "fashion_mnist" when it stands for a Keras data set
  std::string role;     // "training images", "test labels", ...
};

struct InterpretedProgram {
  Program program;                    // everything but the data (which program.data does not hold)
  ImportedData data;                  // the data section
  std::vector<std::string> warnings;  // "<file>:<line>: ..." the user should read
  std::vector<std::string> notes;     // statements skipped outside the block (debug)
  // What the import summary shows besides the mapping: statements after fit that were
  // skipped, data idioms carried with a caveat ("<file>:<line>: ...").
  std::vector<std::string> summary_notes;
  std::vector<DataFile> data_files;
};

// `program_name` becomes Program::name; `source_name` prefixes every message.
Result<InterpretedProgram> InterpretKerasProgram(const Block& module, const SkynnetBlock& block,
                                                 const std::string& source_name,
                                                 const std::string& program_name);

}  // namespace cloudbook::keras_import
