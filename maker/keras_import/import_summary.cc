#include "maker/keras_import/import_summary.h"

#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include "shared/model_plan.h"
#include "shared/program.h"

namespace cloudbook {

void PrintImportSummary(const KerasImport& imported, const ImportWriteReport& written,
                        const std::string& project_folder, std::ostream& out) {
  const Program& program = imported.program;
  out << (written.unchanged ? "unchanged: " : "wrote ") << written.program_path << "\n";
  out << "problem: " << ProblemTypeName(program.problem) << " (from " << imported.block.marker
      << ", lines " << imported.block.begin_line << "-" << imported.block.end_line << ")\n";
  out << "tagged variables:";
  for (const auto& [var, value] : program.vars) out << " " << var << "=" << value;
  out << "\nlayers (input " << ShapeToString(program.model.input_shape) << "):\n";
  for (size_t i = 0; i < program.model.layers.size(); ++i) {
    const LayerSpec& layer = program.model.layers[i];
    std::string params;
    for (const auto& [key, numbers] : layer.numbers) {
      std::string list;
      for (const NumberOrVar& number : numbers) {
        std::ostringstream text;
        text << number.value;
        list += (list.empty() ? "" : ",") + (number.is_var() ? number.var : text.str());
      }
      params += " " + key + "=" + list;
    }
    for (const auto& [key, word] : layer.words) params += " " + key + "=" + word;
    out << "  line " << imported.layer_lines[i] << ": " << layer.type << params << "\n";
  }
  out << "train: " << program.train.optimizer << " lr " << program.train.learning_rate << ", loss "
      << program.train.loss << ", batch " << program.train.batch_size << ", epochs "
      << (program.train.epochs.is_var()
              ? program.train.epochs.var
              : std::to_string(static_cast<int64_t>(program.train.epochs.value)))
      << ", validation_split " << program.data.validation_split << "\n";
  if (!imported.summary_notes.empty()) {
    out << "notes:\n";
    for (const std::string& note : imported.summary_notes) out << "  " << note << "\n";
  }
  out << "data files, in " << written.working_dir << "/:\n";
  bool missing = false;
  std::set<std::string> datasets;
  for (size_t i = 0; i < imported.data_files.size(); ++i) {
    const auto& file = imported.data_files[i];
    const bool present = written.data_present[i];
    missing = missing || !present;
    out << "  " << (present ? "present  " : "MISSING  ") << file.path << "  (" << file.role
        << (file.dataset.empty() ? "" : ", Keras " + file.dataset) << ")\n";
    if (!present && !file.dataset.empty()) datasets.insert(file.dataset);
  }
  for (const std::string& dataset : datasets) {
    if (dataset == "imdb") {
      out << "  imdb: make the four files from Keras' imdb.npz with /usr/bin/python3 "
          << "scripts/imdb_to_sequences.py imdb.npz " << written.working_dir
          << "/imdb (and the flags the notes give)\n";
      continue;
    }
    const std::string folder = dataset == "fashion_mnist" ? "fashion-mnist" : "mnist";
    out << "  " << dataset << ": put the four IDX files of the data set (train-images-idx3-"
        << "ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        << "t10k-labels-idx1-ubyte.gz) in " << written.working_dir << "/" << folder << "/";
    if (dataset == "fashion_mnist") {
      out << ", e.g. ln -s /usr/share/datasets/fashion-mnist " << written.working_dir
          << "/fashion-mnist (Debian package dataset-fashion-mnist)";
    }
    out << "\n";
  }
  for (const std::string& other : written.other_programs) {
    out << "note: original/ also holds " << other << "; the maker then needs --program "
        << program.name << ".yaml\n";
  }
  out << "next: cloudbook-maker -p " << project_folder << " --subnets <n>"
      << (written.other_programs.empty() ? "" : " --program " + program.name + ".yaml")
      << (missing ? " (after putting the missing data files in place)" : "") << "\n";
}

}  // namespace cloudbook
