#include "shared/formats/assignment.h"

#include <algorithm>
#include <set>

#include "shared/atomic_file.h"
#include "shared/project_layout.h"

namespace cloudbook {

const DuAssignment* Assignment::Find(int du) const {
  for (const DuAssignment& entry : dus) {
    if (entry.du == du) return &entry;
  }
  return nullptr;
}

std::vector<int> Assignment::DusOf(const std::string& agent) const {
  std::vector<int> owned;
  for (const DuAssignment& entry : dus) {
    if (entry.agent == agent) owned.push_back(entry.du);
  }
  std::sort(owned.begin(), owned.end());
  return owned;
}

std::string AssignmentPath(const std::string& shared_folder) {
  return SharedFolderLayout(shared_folder).assignment_file();
}

Json ToJson(const Assignment& assignment) {
  Json dus = Json::array();
  for (const DuAssignment& entry : assignment.dus) {
    dus.push_back({{"du", entry.du}, {"agent", entry.agent}, {"reason", entry.reason}});
  }
  return {{"format_version", kAssignmentFormatVersion},
          {"version", assignment.version},
          {"generation", assignment.generation},
          {"time_ms", assignment.time_ms},
          {"agents", assignment.agents},
          {"dus", dus}};
}

Result<Assignment> AssignmentFromJson(const Json& json, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption(source + ": " + what + " (the deployer rewrites it on its next run)");
  };
  if (!json.is_object()) return bad("not a JSON object");
  const auto format = json.find("format_version");
  if (format == json.end() || !format->is_number_integer()) return bad("no format_version");
  if (format->get<int64_t>() != kAssignmentFormatVersion) {
    return bad("format_version " + format->dump() + " is not " +
               std::to_string(kAssignmentFormatVersion));
  }
  Assignment assignment;
  const auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer() || version->get<int64_t>() < 1) {
    return bad("'version' must be an integer >= 1");
  }
  assignment.version = version->get<int64_t>();
  const auto generation = json.find("generation");
  if (generation == json.end() || !generation->is_string()) return bad("'generation' missing");
  assignment.generation = generation->get<std::string>();
  const auto time = json.find("time_ms");
  if (time != json.end()) {
    if (!time->is_number_integer()) return bad("'time_ms' must be an integer");
    assignment.time_ms = time->get<int64_t>();
  }
  const auto agents = json.find("agents");
  if (agents != json.end()) {
    if (!agents->is_array()) return bad("'agents' must be a list");
    for (const Json& agent : *agents) {
      if (!agent.is_string() || agent.get<std::string>().empty()) {
        return bad("'agents' must hold non-empty ids");
      }
      assignment.agents.push_back(agent.get<std::string>());
    }
  }
  const auto dus = json.find("dus");
  if (dus == json.end() || !dus->is_array()) return bad("'dus' must be a list");
  std::set<int> seen;
  for (const Json& entry : *dus) {
    if (!entry.is_object()) return bad("each entry of 'dus' must be an object");
    const auto du = entry.find("du");
    const auto agent = entry.find("agent");
    if (du == entry.end() || !du->is_number_integer() || du->get<int64_t>() < 0 ||
        du->get<int64_t>() > 1000000) {
      return bad("an entry of 'dus' has no valid 'du' index");
    }
    if (agent == entry.end() || !agent->is_string() || agent->get<std::string>().empty()) {
      return bad("DU " + du->dump() + " has no 'agent'");
    }
    DuAssignment parsed;
    parsed.du = du->get<int>();
    parsed.agent = agent->get<std::string>();
    const auto reason = entry.find("reason");
    if (reason != entry.end() && reason->is_string()) parsed.reason = reason->get<std::string>();
    if (!seen.insert(parsed.du).second) {
      return bad("DU " + std::to_string(parsed.du) + " is assigned twice");
    }
    assignment.dus.push_back(std::move(parsed));
  }
  std::sort(assignment.dus.begin(), assignment.dus.end(),
            [](const DuAssignment& a, const DuAssignment& b) { return a.du < b.du; });
  return assignment;
}

Result<Assignment> ReadAssignment(const std::string& shared_folder) {
  const std::string path = AssignmentPath(shared_folder);
  auto text = ReadRegularFileBounded(path, kMaxAssignmentBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no assignment yet (" + path + "): run cloudbook-deployer");
    }
    return Status::Corruption(path + ": " + text.status().message());
  }
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(*text, path));
  return AssignmentFromJson(json, path);
}

Status WriteAssignment(const std::string& shared_folder, const Assignment& assignment) {
  return WriteJsonFileAtomically(AssignmentPath(shared_folder), ToJson(assignment));
}

}  // namespace cloudbook
