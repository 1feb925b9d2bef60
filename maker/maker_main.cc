// cloudbook-maker: deconstructs the project's program into subnets and deployable units;
// with --local, also trains them in this process and composes the result.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "fs_adapters/open_shared_folder.h"
#include "maker/keras_import/import_summary.h"
#include "maker/keras_import/keras_import.h"
#include "maker/local_runner.h"
#include "maker/maker.h"
#include "shared/command_line.h"
#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/nn/tensor_file_reader.h"
#include "shared/nn/torchscript_export.h"
#include "shared/project_layout.h"
#include "shared/text.h"
#include "shared/tunables.h"

namespace {

using cloudbook::ExitCodeFor;
using cloudbook::kExitFailed;
using cloudbook::kExitOk;
using cloudbook::kExitUsage;

// `cloudbook-maker import program.py -p P`: writes P/original/<name>.yaml and says what the
// maker needs next (the data files).
int RunImport(const std::string& python_file, const std::string& project_folder,
              const std::string& name, bool force) {
  auto imported = cloudbook::ImportKerasFile(python_file, name);
  if (!imported.ok()) {
    spdlog::error("{}", imported.status().message());
    spdlog::error("nothing was written");
    return ExitCodeFor(imported.status());
  }
  for (const std::string& note : imported->notes) spdlog::debug("{}", note);
  for (const std::string& warning : imported->warnings) spdlog::warn("{}", warning);
  auto written = cloudbook::WriteImportedProgram(*imported, project_folder, force);
  if (!written.ok()) {
    spdlog::error("{}", written.status().message());
    return ExitCodeFor(written.status());
  }
  cloudbook::PrintImportSummary(*imported, *written, project_folder, std::cout);
  return kExitOk;
}

// `cloudbook-maker export -p P [--run NAME] -o model.pt`: the run's model as one TorchScript
// file (docs/export.md).
int RunExport(const std::string& project_folder, const std::string& run,
              const std::string& output) {
  auto layout = cloudbook::OpenProjectLayout(project_folder);
  if (!layout.ok()) {
    spdlog::error("{}", layout.status().message());
    return ExitCodeFor(layout.status());
  }
  auto model = cloudbook::OpenRunModel(layout->shared(), run);
  if (!model.ok()) {
    spdlog::error("{}", model.status().message());
    return ExitCodeFor(model.status());
  }
  spdlog::info("exporting the model of run {} ({} subnets, {}) from {}", model->run,
               model->weights.size(), model->composition, model->folder);
  auto exported = cloudbook::ExportTorchScript(*model, output);
  if (!exported.ok()) {
    spdlog::error("{}", exported.status().message());
    spdlog::error("nothing was written");
    return ExitCodeFor(exported.status());
  }
  std::cout << "exported run " << model->run << " of project " << model->project << " to "
            << exported->path << "\n"
            << "  size         " << exported->bytes << " bytes\n"
            << "  subnets      " << exported->subnets << "\n"
            << "  composition  " << exported->composition << "\n"
            << "  input        [samples] + " << cloudbook::JoinNumbers(model->input_shape, ", ")
            << " raw values (divided by " << cloudbook::ModelInputScale(*model) << " inside)\n"
            << "  checked      the saved file against the predictor on a probe batch (largest "
               "difference "
            << exported->probe_difference << ")\n"
            << "load it with torch.jit.load(\"" << exported->path
            << "\") in Python or torch::jit::load in C++ (docs/export.md)\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (cloudbook::ReportBadTunables()) return cloudbook::kExitUsage;  // defaults below read it
  CLI::App app{
      "cloudbook-maker: cut the network described in <project>/original/*.yaml into subnets and "
      "write them as deployable units to <project>/distributed/du_files/."};
  app.footer(
      std::string(
          "Examples:\n"
          "  cloudbook-maker --project-folder ~/cloudbook/fashion --subnets 3\n"
          "  cloudbook-maker --project-folder ~/cloudbook/fashion --subnets 3 --local --baseline\n"
          "  cloudbook-maker --project-folder ~/cloudbook/fashion --local --original-only "
          "--threads 1\n"
          "  cloudbook-maker import mlp_orig.py --project-folder ~/cloudbook/mnist   (a SkyNNet "
          ".py)\n") +
      cloudbook::ExitCodesHelp());
  cloudbook::MakeOptions make;
  cloudbook::LocalRunOptions local;
  bool run_local = false;
  std::string log_level = "info";
  app.add_option("--project-folder,-p", make.project_folder, "The project folder (required)");
  app.add_option("--subnets,-n", make.subnets,
                 "Requested number of subnets n (multiclass: largest g(g-1)/2 <= n; binary: "
                 "always 2; regression: n)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--shared-folder,--distributed-folder", make.shared_folder,
                 "Where the shared folder is: a path, nfs://host[:port]/export/path, an rclone "
                 "remote (gdrive:folder) or sync:///path (recorded in <project>/project.json; "
                 "default: as project.json says, else <project>/distributed)");
  app.add_option("--program", make.program_file,
                 "Program file in original/ (default: the only *.yaml there)");
  app.add_option("--dus", make.desired_dus,
                 "Desired number of deployable units (default: config.json's desired_dus; "
                 "0 = one per subnet)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--train-limit", make.train_limit,
                 "Use only the first N training samples (overrides data.train_limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", make.test_limit,
                 "Use only the first N test samples (overrides data.test_limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--local", run_local,
               "After making the DUs, train every subnet in this process and compose");
  app.add_flag("--baseline", local.baseline,
               "With --local: also train the original network for comparison");
  app.add_flag("--original-only", local.original_only,
               "With --local: train only the original network, alone on --threads threads (no "
               "subnets); its figures are written as the results' baseline");
  app.add_option("--jobs,-j", local.jobs,
                 "With --local: subnets trained at the same time (default: as many as fit in "
                 "--threads)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--threads", local.threads,
                 "With --local: threads in total (default: every core); each subnet trains on "
                 "its DU's train.threads, as on an agent")
      ->check(CLI::Range(1, 4096));
  app.add_option("--run-name", local.run_name,
                 "With --local: name of the results file (default local-<UTC time>)");
  cloudbook::AddLogLevelOption(app, log_level);
  std::string python_file;
  std::string import_name;
  bool import_force = false;
  CLI::App* import_command = app.add_subcommand(
      "import",
      "Import an original SkyNNet program (Python/Keras with #SKYNNET:BEGIN_<TYPE> ... "
      "#SKYNNET:END) into <project>/original/<name>.yaml; then run the maker as usual "
      "(docs/keras-import.md)");
  import_command->add_option("program", python_file, "The Python program (.py)")
      ->required()
      ->check(CLI::ExistingFile);
  import_command->add_option("--project-folder,-p", make.project_folder,
                             "The project folder (required)");
  import_command->add_option("--name", import_name,
                             "Program name (default: the .py file's name), written to "
                             "original/<name>.yaml");
  import_command->add_flag("--force", import_force,
                           "Replace original/<name>.yaml when it exists with other contents");
  cloudbook::AddLogLevelOption(*import_command, log_level);
  import_command->footer(
      std::string(
          "Example:\n"
          "  cloudbook-maker import mlp.py -p ~/cloudbook/mnist && cloudbook-maker -p "
          "~/cloudbook/mnist --subnets 3\n"
          "An existing different original/<name>.yaml is an I/O error (nothing written; --force "
          "replaces it).\n") +
      cloudbook::ExitCodesHelp());
  std::string export_run;
  std::string export_output;
  CLI::App* export_command = app.add_subcommand(
      "export",
      "Write the model of a finished run (distributed/models/<run>/) as one TorchScript file "
      "holding every subnet and the composition rule; it loads with torch.jit.load in Python "
      "and torch::jit::load in C++ (docs/export.md)");
  export_command->add_option("--project-folder,-p", make.project_folder,
                             "The project folder (required)");
  export_command->add_option("--run", export_run,
                             "The run whose model to export (default: the newest model)");
  export_command->add_option("--output,-o", export_output, "The file to write (e.g. model.pt)")
      ->required();
  cloudbook::AddLogLevelOption(*export_command, log_level);
  export_command->footer(
      std::string("Example:\n"
                  "  cloudbook-maker export -p ~/cloudbook/fashion -o fashion.pt\n"
                  "  python3 -c 'import torch; m = torch.jit.load(\"fashion.pt\"); "
                  "print(m.class_names, m.input_shape)'\n") +
      cloudbook::ExitCodesHelp());
  if (auto exit_code = cloudbook::ParseCommandLine(app, argc, argv)) return *exit_code;
  if ((local.baseline || local.original_only) && !run_local) {
    std::cerr << (local.baseline ? "--baseline" : "--original-only") << " needs --local\n";
    return kExitUsage;
  }
  if (make.project_folder.empty()) {
    std::cerr << "--project-folder is required\nRun with --help for more information.\n";
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (import_command->parsed()) {
    spdlog::set_pattern("%^%l%$: %v");
    cloudbook::InstallSharedFolderBackends();
    return RunImport(python_file, make.project_folder, import_name, import_force);
  }
  if (export_command->parsed()) {
    spdlog::set_pattern("%^%l%$: %v");
    cloudbook::InstallTensorFileReader();
    cloudbook::InstallSharedFolderBackends();
    return RunExport(make.project_folder, export_run, export_output);
  }
  cloudbook::InstallTensorFileReader();
  cloudbook::InstallSharedFolderBackends();
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");

  auto made = cloudbook::MakeDeployableUnits(make);
  if (!made.ok()) {
    spdlog::error("{}", made.status().message());
    spdlog::error("nothing was written");
    return ExitCodeFor(made.status());
  }
  for (const std::string& note : made->plan.notes) spdlog::warn("{}", note);
  if (made->config_created) spdlog::info("wrote default settings to distributed/config.json");
  spdlog::info("{}: {} subnets (F = {:.2f}) in {} deployable units, make {}", made->program.name,
               made->plan.subnets, made->plan.factor(), made->dus.size(), made->generation);
  for (const auto& du : made->dus) {
    for (const auto& subnet : du.subnets) {
      std::string widths;
      for (const auto& [name, value] : subnet.widths) {
        widths += (widths.empty() ? "" : " ") + name + "=" + std::to_string(value);
      }
      std::string what;
      if (!subnet.classes.empty()) what = "classes " + cloudbook::JoinNumbers(subnet.classes, ",");
      if (subnet.half >= 0) what = "half " + std::to_string(subnet.half);
      if (subnet.column_end > subnet.column_begin) {
        what = "columns " + std::to_string(subnet.column_begin) + ".." +
               std::to_string(subnet.column_end - 1);
      }
      if (what.size() > 80) what = what.substr(0, 77) + "...";
      spdlog::info("  DU {} subnet {}: {}; {}; {} epochs", du.index, subnet.index, what, widths,
                   subnet.epochs);
    }
  }
  if (!run_local) return kExitOk;

  local.project_folder = make.project_folder;
  auto run = cloudbook::RunLocally(local);
  if (!run.ok()) {
    spdlog::error("{}", run.status().message());
    // Training reports libtorch's errors as kInternal: here they mean the training failed.
    return run.status().code() == cloudbook::Status::Code::kInternal ? kExitFailed
                                                                     : ExitCodeFor(run.status());
  }
  std::cout << cloudbook::FormatResultsSummary(run->results);
  std::cout << "results: " << run->results_path << "\n";
  return kExitOk;
}
