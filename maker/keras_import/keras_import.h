// `cloudbook-maker import`: turns an original SkyNNet program (Python/Keras with
// #SKYNNET:BEGIN_... / #SKYNNET:END, docs/keras-import.md) into the program file of
// docs/program-format.md. ImportKerasProgram is pure (text in, YAML out, checked by parsing it
// back with ParseProgramText); WriteImportedProgram puts it into <project>/original/.
#pragma once

#include <string>
#include <vector>

#include "maker/keras_import/keras_interpreter.h"
#include "maker/keras_import/skynnet_markers.h"
#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

struct KerasImport {
  Program program;  // the YAML parsed back: exactly what the maker will read
  std::string yaml;
  keras_import::SkynnetBlock block;
  std::vector<std::string> warnings;  // "<file>:<line>: ..." for the user
  std::vector<std::string> notes;     // what was skipped outside the block (debug)
  // Shown by the import summary: statements after fit that were skipped, data idioms carried
  // with a caveat ("<file>:<line>: ...").
  std::vector<std::string> summary_notes;
  std::vector<keras_import::DataFile> data_files;
  std::vector<int> layer_lines;  // per layer of `program`: its line in the .py file
};

// `source_name` appears in messages (the .py path); `program_name` becomes `name:`.
Result<KerasImport> ImportKerasProgram(const std::string& python_text,
                                       const std::string& source_name,
                                       const std::string& program_name);

// The YAML ImportKerasProgram writes, before the maker's parser reads it back: for tests of
// what the importer writes, independent of the parser.
Result<std::string> KerasProgramYaml(const std::string& python_text, const std::string& source_name,
                                     const std::string& program_name);

// Reads the file; an empty `program_name` is derived from the file name ("cnn_orig.py" ->
// "cnn_orig").
Result<KerasImport> ImportKerasFile(const std::string& path, std::string program_name = "");

// The program name a file name gives: its stem, characters outside [A-Za-z0-9_.-] as '_'.
std::string ProgramNameFor(const std::string& path);

struct ImportWriteReport {
  std::string program_path;                 // <project>/original/<name>.yaml
  bool unchanged = false;                   // the same file was already there
  std::vector<std::string> other_programs;  // other *.yaml files in original/
  std::string working_dir;                  // where the data files go
  std::vector<bool> data_present;           // per KerasImport::data_files
};

// Writes <project>/original/<name>.yaml atomically. An existing file with other contents is
// an error (IoError, nothing written) unless `force`.
Result<ImportWriteReport> WriteImportedProgram(const KerasImport& imported,
                                               const std::string& project_folder, bool force);

}  // namespace cloudbook
