#include "maker/keras_import/keras_import.h"

#include <filesystem>

#include "maker/keras_import/program_yaml_writer.h"
#include "maker/keras_import/python_parser.h"
#include "maker/keras_import/python_tokenizer.h"
#include "maker/program_parser.h"
#include "shared/atomic_file.h"
#include "shared/project_layout.h"

namespace cloudbook {

namespace fs = std::filesystem;
using keras_import::Block;
using keras_import::Token;

std::string ProgramNameFor(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  }
  if (stem.empty() || stem == "." || stem == "..") stem = "imported";
  return stem;
}

namespace {

// The import up to its YAML (not yet parsed back).
Result<KerasImport> InterpretAndWrite(const std::string& python_text,
                                      const std::string& source_name,
                                      const std::string& program_name) {
  CB_ASSIGN_OR_RETURN(std::vector<Token> tokens,
                      keras_import::TokenizePython(python_text, source_name));
  CB_ASSIGN_OR_RETURN(keras_import::SkynnetBlock block,
                      keras_import::FindSkynnetBlock(tokens, source_name));
  CB_ASSIGN_OR_RETURN(
      Block module,
      keras_import::ParsePython(tokens, keras_import::SplitLines(python_text), source_name));
  CB_ASSIGN_OR_RETURN(
      keras_import::InterpretedProgram interpreted,
      keras_import::InterpretKerasProgram(module, block, source_name, program_name));
  KerasImport out;
  out.block = block;
  out.warnings = std::move(interpreted.warnings);
  out.notes = std::move(interpreted.notes);
  out.summary_notes = std::move(interpreted.summary_notes);
  out.data_files = std::move(interpreted.data_files);
  for (const LayerSpec& layer : interpreted.program.model.layers) {
    out.layer_lines.push_back(layer.line);
  }
  const std::string header = "Imported from " + fs::path(source_name).filename().string() +
                             " by cloudbook-maker import (docs/keras-import.md).\n"
                             "The SKYNNET block is lines " +
                             std::to_string(block.begin_line) + "-" +
                             std::to_string(block.end_line) + " (" + block.marker + ").";
  out.yaml = keras_import::WriteProgramYaml(interpreted.program, header,
                                            keras_import::DataYaml(interpreted.data));
  return out;
}

}  // namespace

Result<std::string> KerasProgramYaml(const std::string& python_text, const std::string& source_name,
                                     const std::string& program_name) {
  CB_ASSIGN_OR_RETURN(KerasImport out, InterpretAndWrite(python_text, source_name, program_name));
  return out.yaml;
}

Result<KerasImport> ImportKerasProgram(const std::string& python_text,
                                       const std::string& source_name,
                                       const std::string& program_name) {
  CB_ASSIGN_OR_RETURN(KerasImport out, InterpretAndWrite(python_text, source_name, program_name));
  const std::string yaml_name = "original/" + program_name + ".yaml";
  auto parsed = ParseProgramText(out.yaml, yaml_name);
  if (!parsed.ok()) {
    return Status::Internal(
        "the importer made a program the maker rejects (a bug in the "
        "importer; please report it with the .py file): " +
        parsed.status().message() + "\n--- generated ---\n" + out.yaml);
  }
  out.program = std::move(*parsed);
  return out;
}

Result<KerasImport> ImportKerasFile(const std::string& path, std::string program_name) {
  if (!fs::is_regular_file(path)) {
    return Status::NotFound(path + ": no such file (the Python program to import)");
  }
  // A program is a few kilobytes of text; refuse to load something that is not one.
  constexpr uintmax_t kMaxProgramBytes = 16 << 20;
  std::error_code size_error;
  const uintmax_t size = fs::file_size(path, size_error);
  if (!size_error && size > kMaxProgramBytes) {
    return Status::InvalidArgument(path + " is " + std::to_string(size) +
                                   " bytes: not a program (the limit is 16 MiB of Python text)");
  }
  CB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  if (program_name.empty()) program_name = ProgramNameFor(path);
  return ImportKerasProgram(text, path, program_name);
}

Result<ImportWriteReport> WriteImportedProgram(const KerasImport& imported,
                                               const std::string& project_folder, bool force) {
  ImportWriteReport report;
  const ProjectLayout local(project_folder);
  report.program_path = local.original() + "/" + imported.program.name + ".yaml";
  std::error_code error;
  if (fs::exists(report.program_path, error)) {
    auto existing = ReadWholeFile(report.program_path);
    if (existing.ok() && *existing == imported.yaml) {
      report.unchanged = true;
    } else if (!force) {
      return Status::IoError(report.program_path +
                             " already exists with other contents; nothing was written (give "
                             "--force to replace it, or --name to import under another name)");
    }
  }
  if (!report.unchanged) {
    CB_RETURN_IF_ERROR(WriteFileAtomically(report.program_path, imported.yaml));
  }
  for (const auto& entry : fs::directory_iterator(local.original(), error)) {
    const std::string extension = entry.path().extension().string();
    if ((extension == ".yaml" || extension == ".yml") &&
        entry.path().filename() != fs::path(report.program_path).filename()) {
      report.other_programs.push_back(entry.path().filename().string());
    }
  }
  auto layout = OpenProjectLayout(project_folder);
  report.working_dir = layout.ok() ? layout->working_dir() : local.working_dir();
  for (const keras_import::DataFile& file : imported.data_files) {
    report.data_present.push_back(FileExists(report.working_dir + "/" + file.path));
  }
  return report;
}

}  // namespace cloudbook
