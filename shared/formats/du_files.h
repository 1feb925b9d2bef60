// distributed/du_list.json and distributed/du_files/du_<i>.json: the deployable units of one
// make (written by the maker, read by the deployer and the agents; the DU format itself is
// shared/subnet_spec.h, docs/du-format.md). du_list.json is written last and names the make's
// generation, which every DU file carries, so a reader never mixes two makes and a failed make
// leaves the previous list in force. Stateless functions; errors as Status naming the file.
#pragma once

#include <string>
#include <vector>

#include "shared/project_layout.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

// Writes every DU file (each atomically), then du_list.json, then removes DU files the new
// list no longer names. Works the same on every shared-folder back end (no folder renames).
Status WriteDuSpecs(const ProjectLayout& layout, const std::vector<DuSpec>& dus,
                    const std::string& generation);

// Reads du_list.json and every DU file it names, checking they belong to the same make.
// NotFound (saying to run the maker) when there is no list; Corruption naming the file else.
Result<std::vector<DuSpec>> ReadDuSpecs(const ProjectLayout& layout);
// The same, for the project's shared folder as OpenProjectLayout finds it.
Result<std::vector<DuSpec>> ReadDuSpecs(const std::string& project_folder);

}  // namespace cloudbook
