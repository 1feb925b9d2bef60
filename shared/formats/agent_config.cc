#include "shared/formats/agent_config.h"

#include "shared/shared_folder_mounts.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <ctime>

#include "shared/formats/agent_id.h"
#include "shared/host_address.h"
#include "shared/private_files.h"
#include "shared/project_layout.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

constexpr size_t kMaxConfigBytes = 64 * 1024;

// Small typed readers: each error names the source and the key.
class FieldReader {
 public:
  FieldReader(const Json& json, std::string source) : json_(json), source_(std::move(source)) {}

  Status String(const char* key, std::string& value, bool required = true) const {
    if (!json_.contains(key)) return Missing(key, required);
    if (!json_[key].is_string()) return Wrong(key, "a string");
    value = json_[key].get<std::string>();
    return Status::Ok();
  }
  Status Bool(const char* key, bool& value, bool required = true) const {
    if (!json_.contains(key)) return Missing(key, required);
    if (!json_[key].is_boolean()) return Wrong(key, "true or false");
    value = json_[key].get<bool>();
    return Status::Ok();
  }
  Status Int(const char* key, int& value, int min, int max, bool required = true) const {
    if (!json_.contains(key)) return Missing(key, required);
    if (!json_[key].is_number_integer() || json_[key].get<int64_t>() < min ||
        json_[key].get<int64_t>() > max) {
      return Wrong(key, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    value = static_cast<int>(json_[key].get<int64_t>());
    return Status::Ok();
  }
  Status Object(const char* key) const {
    if (!json_.contains(key)) return Missing(key, true);
    if (!json_[key].is_object()) return Wrong(key, "an object");
    return Status::Ok();
  }
  const std::string& source() const { return source_; }

 private:
  Status Missing(const char* key, bool required) const {
    if (!required) return Status::Ok();
    return Status::InvalidArgument(source_ + ": " + key + " is missing");
  }
  Status Wrong(const char* key, const std::string& what) const {
    return Status::InvalidArgument(source_ + ": " + key + " must be " + what);
  }

  const Json& json_;
  std::string source_;
};

}  // namespace

Status ValidateBindAddress(const std::string& bind_address) {
  uint32_t ignored = 0;
  if (bind_address == "auto" || ParseIpv4(bind_address, &ignored)) return Status::Ok();
  return Status::InvalidArgument("bind address '" + bind_address +
                                 "' must be auto, 0.0.0.0 (every interface) or an IPv4 address "
                                 "of this machine");
}

Json ToJson(const AgentConfig& config) {
  return {
      {"format_version", kAgentConfigFormatVersion},
      {"id", config.id},
      {"grant", GrantName(config.grant)},
      {"agent_0", config.agent_0},
      {"created", config.created},
      {"curve", {{"public_key", config.curve.public_key}, {"secret_key", config.curve.secret_key}}},
      {"signing",
       {{"public_key", config.signing.public_key}, {"secret_key", config.signing.secret_key}}},
      {"distributed_folder", config.shared_folder},
      {"base_port", config.base_port},
      {"fixed_port", config.fixed_port},
      {"bind_address", config.bind_address},
      {"subnet", config.subnet},
      {"device", DeviceChoiceName(config.device)},
      {"plaintext", config.plaintext}};
}

Result<AgentConfig> AgentConfigFromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) return Status::InvalidArgument(source + ": must be a JSON object");
  const FieldReader reader(json, source);
  int version = 0;
  CB_RETURN_IF_ERROR(reader.Int("format_version", version, 0, 1000000));
  if (version != kAgentConfigFormatVersion) {
    return Status::InvalidArgument(source + ": format_version " + std::to_string(version) +
                                   " is not supported (this agent reads version " +
                                   std::to_string(kAgentConfigFormatVersion) + ")");
  }
  AgentConfig config;
  CB_RETURN_IF_ERROR(reader.String("id", config.id));
  CB_RETURN_IF_ERROR(ValidateAgentId(config.id).WithContext(source));
  std::string grant;
  CB_RETURN_IF_ERROR(reader.String("grant", grant));
  auto parsed_grant = ParseGrant(grant);
  if (!parsed_grant.ok()) return parsed_grant.status().WithContext(source);
  config.grant = *parsed_grant;
  CB_RETURN_IF_ERROR(reader.Bool("agent_0", config.agent_0));
  if (config.agent_0 != (config.id == kAgentZeroId)) {
    return Status::InvalidArgument(source + ": agent_0 is true exactly when the id is agent-0");
  }
  CB_RETURN_IF_ERROR(reader.String("created", config.created, false));
  CB_RETURN_IF_ERROR(reader.Object("curve"));
  CB_RETURN_IF_ERROR(reader.Object("signing"));
  const FieldReader curve(json["curve"], source + ": curve");
  CB_RETURN_IF_ERROR(curve.String("public_key", config.curve.public_key));
  CB_RETURN_IF_ERROR(curve.String("secret_key", config.curve.secret_key));
  CB_RETURN_IF_ERROR(reader.Bool("plaintext", config.plaintext, false));
  const bool no_curve_keys = config.curve.public_key.empty() && config.curve.secret_key.empty();
  if (!(config.plaintext && no_curve_keys)) {  // plain-text agents made without CURVE have none
    CB_RETURN_IF_ERROR(ValidateCurveKeyPair(config.curve).WithContext(source));
  }
  const FieldReader signing(json["signing"], source + ": signing");
  CB_RETURN_IF_ERROR(signing.String("public_key", config.signing.public_key));
  CB_RETURN_IF_ERROR(signing.String("secret_key", config.signing.secret_key));
  CB_RETURN_IF_ERROR(CheckSigningKeyPair(config.signing).WithContext(source));
  CB_RETURN_IF_ERROR(reader.String("distributed_folder", config.shared_folder));
  if (config.shared_folder.empty()) {
    return Status::InvalidArgument(source + ": distributed_folder must not be empty");
  }
  DeclareSharedFolder(config.shared_folder);  // opened at first use (may be remote)
  CB_RETURN_IF_ERROR(reader.Int("base_port", config.base_port, 1024, 65535, false));
  CB_RETURN_IF_ERROR(reader.Int("fixed_port", config.fixed_port, 0, 65535, false));
  CB_RETURN_IF_ERROR(reader.String("bind_address", config.bind_address, false));
  CB_RETURN_IF_ERROR(ValidateBindAddress(config.bind_address).WithContext(source));
  CB_RETURN_IF_ERROR(reader.String("subnet", config.subnet, false));
  if (!config.subnet.empty()) {
    auto subnet = ParseIpv4Network(config.subnet);
    if (!subnet.ok()) return subnet.status().WithContext(source);
  }
  std::string device = "auto";
  CB_RETURN_IF_ERROR(reader.String("device", device, false));
  auto parsed_device = ParseDeviceChoice(device);
  if (!parsed_device.ok()) return parsed_device.status().WithContext(source);
  config.device = *parsed_device;
  return config;
}

Result<AgentConfig> ReadAgentConfig(const std::string& project_folder, const std::string& id) {
  CB_RETURN_IF_ERROR(ValidateAgentId(id));
  const std::string path = ProjectLayout(project_folder).agent_config_file(id);
  auto text = ReadRegularFileBounded(path, kMaxConfigBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(
          "no agent '" + id + "' was created in " + project_folder + " on this machine (no " +
          path + "): see `cloudbook-agent list --project-folder " + project_folder + "`");
    }
    return text.status().WithContext(path);
  }
  const int mode = FileMode(path);
  if (mode >= 0 && (mode & 077) != 0) {
    spdlog::warn("{} holds secret keys but is readable by others (mode {:o}): run chmod 600 {}",
                 path, mode, path);
  }
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(*text, path));
  CB_ASSIGN_OR_RETURN(AgentConfig config, AgentConfigFromJson(json, path));
  if (config.id != id) {
    return Status::InvalidArgument(path + ": holds the id '" + config.id +
                                   "', not the file's name '" + id + "'");
  }
  return config;
}

Status WriteAgentConfig(const std::string& project_folder, const AgentConfig& config) {
  CB_RETURN_IF_ERROR(ValidateAgentId(config.id));
  return WritePrivateFileAtomically(ProjectLayout(project_folder).agent_config_file(config.id),
                                    ToJson(config).dump(2) + "\n");
}

std::vector<AgentConfig> ReadLocalAgentConfigs(const std::string& project_folder,
                                               std::vector<std::string>* problems) {
  std::vector<AgentConfig> configs;
  const fs::path folder = ProjectLayout(project_folder).agents_local();
  boost::system::error_code error;
  if (!fs::is_directory(folder, error)) return configs;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name.empty() || name[0] == '.' || path.extension() != ".json") continue;
    auto config = ReadAgentConfig(project_folder, path.stem().string());
    if (config.ok()) {
      configs.push_back(std::move(*config));
    } else if (problems) {
      problems->push_back(config.status().message());
    }
  }
  std::sort(configs.begin(), configs.end(),
            [](const AgentConfig& a, const AgentConfig& b) { return a.id < b.id; });
  return configs;
}

}  // namespace cloudbook
