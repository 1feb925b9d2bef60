#include "shared/formats/deployer_lease.h"

#include <cmath>

#include "shared/atomic_file.h"

namespace cloudbook {

Json ToJson(const DeployerLease& lease) {
  return {{"format_version", kDeployerLeaseFormatVersion},
          {"holder", lease.holder},
          {"host", lease.host},
          {"pid", lease.pid},
          {"sequence", lease.sequence},
          {"renew_interval_s", lease.renew_interval_s},
          {"limit_s", lease.limit_s},
          {"time_ms", lease.time_ms}};
}

Result<DeployerLease> DeployerLeaseFromJson(const Json& json, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption(source + ": " + what +
                              " (a deployer replaces it when it takes the project)");
  };
  if (!json.is_object()) return bad("not a JSON object");
  const auto format = json.find("format_version");
  if (format == json.end() || !format->is_number_integer()) return bad("no format_version");
  if (format->get<int64_t>() != kDeployerLeaseFormatVersion) {
    return bad("format_version " + format->dump() + " is not " +
               std::to_string(kDeployerLeaseFormatVersion));
  }
  DeployerLease lease;
  auto text = [&](const char* key, std::string& out) {
    const auto found = json.find(key);
    if (found == json.end() || !found->is_string() || found->get<std::string>().empty() ||
        found->get<std::string>().size() > 256) {
      return false;
    }
    out = found->get<std::string>();
    return true;
  };
  if (!text("holder", lease.holder)) return bad("'holder' must be a non-empty string");
  if (!text("host", lease.host)) return bad("'host' must be a non-empty string");
  const auto pid = json.find("pid");
  if (pid == json.end() || !pid->is_number_integer() || pid->get<int64_t>() < 0) {
    return bad("'pid' must be an integer >= 0");
  }
  lease.pid = pid->get<int64_t>();
  const auto sequence = json.find("sequence");
  if (sequence == json.end() || !sequence->is_number_unsigned()) {
    return bad("'sequence' must be an integer >= 0");
  }
  lease.sequence = sequence->get<uint64_t>();
  for (const auto& [key, out] :
       {std::pair<const char*, double*>{"renew_interval_s", &lease.renew_interval_s},
        {"limit_s", &lease.limit_s}}) {
    const auto found = json.find(key);
    if (found == json.end() || !found->is_number() || !std::isfinite(found->get<double>()) ||
        found->get<double>() <= 0 || found->get<double>() > 24 * 3600) {
      return bad(std::string("'") + key + "' must be a number of seconds in (0, 86400]");
    }
    *out = found->get<double>();
  }
  const auto time = json.find("time_ms");
  if (time != json.end() && time->is_number_integer()) lease.time_ms = time->get<int64_t>();
  return lease;
}

Result<DeployerLease> ReadDeployerLease(const std::string& path) {
  auto text = ReadRegularFileBounded(path, kMaxDeployerLeaseBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return Status::NotFound(path);
    return Status::Corruption(path + ": " + text.status().message());
  }
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(*text, path));
  return DeployerLeaseFromJson(json, path);
}

Status WriteDeployerLease(const std::string& path, const DeployerLease& lease) {
  return WriteJsonFileAtomically(path, ToJson(lease));
}

}  // namespace cloudbook
