// The maker: program -> deconstruction -> deployable units in distributed/du_files/ plus
// du_list.json. All checks run before anything is written; du_list.json is written last and
// names the make's generation, which every DU file carries, so a reader never mixes two
// makes and a failed make leaves the previous list in force. Never writes to original/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maker/deconstruction.h"
#include "shared/formats/du_files.h"
#include "shared/program.h"
#include "shared/project_layout.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

struct MakeOptions {
  std::string project_folder;
  // Where the shared folder is (a path or a remote location such as nfs://host/export/p);
  // recorded in P/project.json for later commands. Empty: as P/project.json says, else
  // P/distributed.
  std::string shared_folder;
  int64_t subnets = 3;       // requested n
  std::string program_file;  // empty: the one *.yaml / *.yml in original/
  int desired_dus = -1;      // -1: from distributed/config.json
  bool check_data = true;    // read the data to check it and to count samples
  int64_t train_limit = -1;  // >= 0 overrides data.train_limit (quick runs, tests)
  int64_t test_limit = -1;   // >= 0 overrides data.test_limit
};

struct MakeReport {
  std::string program_path;
  Program program;
  DeconstructionPlan plan;
  std::vector<DuSpec> dus;
  std::string generation;
  bool config_created = false;
};

Result<MakeReport> MakeDeployableUnits(const MakeOptions& options);

// The program file in original/: `explicit_name` if given (relative to original/ or a path),
// else the only YAML file there; an error lists the candidates when there are several.
Result<std::string> FindProgramFile(const std::string& project_folder,
                                    const std::string& explicit_name);

// The DU list and files are read and written by shared/formats/du_files.h (the deployer and agents
// read them without the maker).

}  // namespace cloudbook
