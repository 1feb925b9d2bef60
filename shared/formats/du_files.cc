#include "shared/formats/du_files.h"

#include <spdlog/spdlog.h>

#include <boost/filesystem.hpp>
#include <set>

#include "shared/json_io.h"
#include "shared/shared_files.h"

namespace cloudbook {

namespace fs = boost::filesystem;

// Writes every DU file (each atomically), then du_list.json, then removes DU files the new
// list no longer names. Works the same on every shared-folder back end (no folder renames):
// readers match du_list's generation against each DU file's, so a half-written set is seen
// as "re-run" rather than mixed.
Status WriteDuSpecs(const ProjectLayout& layout, const std::vector<DuSpec>& dus,
                    const std::string& generation) {
  Json list = {
      {"format_version", kDuFormatVersion}, {"generation", generation}, {"dus", Json::array()}};
  std::set<std::string> written;
  for (const DuSpec& du : dus) {
    const std::string name = fs::path(layout.du_file(du.index)).filename().string();
    CB_RETURN_IF_ERROR(WriteJsonFileAtomically(layout.du_file(du.index), ToJson(du)));
    written.insert(name);
    std::vector<int> subnet_indices;
    for (const SubnetSpec& subnet : du.subnets) subnet_indices.push_back(subnet.index);
    list["dus"].push_back({{"index", du.index},
                           {"file", "du_files/" + name},
                           {"main_program", du.main_program},
                           {"subnets", subnet_indices},
                           {"cost", du.cost},
                           {"size_bytes", du.size_bytes}});
  }
  CB_RETURN_IF_ERROR(WriteJsonFileAtomically(layout.du_list_file(), list));
  // Leftovers of a make with more DUs: harmless (not listed), removed for tidiness.
  const auto existing = ListFolder(layout.du_files());
  for (const std::string& name : existing.ok() ? *existing : std::vector<std::string>{}) {
    if (written.count(name) == 0 && name.rfind("du_", 0) == 0) {
      const Status removed = RemovePath(layout.du_files() + "/" + name);
      if (!removed.ok()) spdlog::warn("cannot remove an old DU file: {}", removed.message());
    }
  }
  return Status::Ok();
}

Result<std::vector<DuSpec>> ReadDuSpecs(const std::string& project_folder) {
  CB_ASSIGN_OR_RETURN(const ProjectLayout layout, OpenProjectLayout(project_folder));
  return ReadDuSpecs(layout);
}

Result<std::vector<DuSpec>> ReadDuSpecs(const ProjectLayout& layout) {
  auto list = ReadJsonFile(layout.du_list_file());
  if (!list.ok()) {
    if (list.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(layout.du_list_file() + " (run cloudbook-maker --project-folder " +
                              layout.root() + " --subnets n first)");
    }
    return list.status();
  }
  // du_files/ replaced by a link would make every DU read from outside the project.
  CB_ASSIGN_OR_RETURN(const SharedFileInfo folder, StatPath(layout.du_files()));
  if (folder.exists && !folder.is_folder) {
    return Status::Corruption(layout.du_files() + " is not a folder (symlinks are not followed)");
  }
  std::vector<DuSpec> dus;
  try {
    const std::string generation = list->at("generation").get<std::string>();
    for (const Json& entry : list->at("dus")) {
      const int index = entry.at("index").get<int>();
      if (index < 0 || index > 100000) {
        return Status::Corruption(layout.du_list_file() + ": DU index out of range");
      }
      const std::string path = layout.du_file(index);
      CB_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
      CB_ASSIGN_OR_RETURN(DuSpec du, DuSpecFromJson(json, path));
      if (du.index != index) {
        return Status::Corruption(path + " holds DU " + std::to_string(du.index) +
                                  ", du_list.json says " + std::to_string(index));
      }
      if (du.generation != generation) {
        return Status::Corruption(path + " belongs to make " + du.generation +
                                  ", du_list.json to " + generation + "; re-run cloudbook-maker");
      }
      dus.push_back(std::move(du));
    }
  } catch (const Json::exception& error) {
    return Status::Corruption(layout.du_list_file() + ": " + error.what());
  }
  if (dus.empty() || !dus[0].main_program) {
    return Status::Corruption(layout.du_list_file() + ": DU 0 (the main program) is missing");
  }
  return dus;
}

}  // namespace cloudbook
