#include "shared/formats/serve_endpoint.h"

#include <algorithm>

#include "shared/clock.h"
#include "shared/shared_files.h"

namespace cloudbook {

Json ToJson(const ServeEndpoint& endpoint) {
  return Json{{"format_version", kServeEndpointFormatVersion},
              {"url", endpoint.url},
              {"model_name", endpoint.model_name},
              {"run", endpoint.run},
              {"mode", endpoint.mode},
              {"host", endpoint.host},
              {"port", endpoint.port},
              {"pid", endpoint.pid},
              {"token_required", endpoint.token_required},
              {"updated_ms", endpoint.updated_ms}};
}

Result<ServeEndpoint> ServeEndpointFromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) return Status::Corruption(source + ": not a JSON object");
  if (ValueOr<int>(json, "format_version", 0) != kServeEndpointFormatVersion) {
    return Status::Corruption(source + ": serve endpoint format version " +
                              std::to_string(ValueOr<int>(json, "format_version", 0)) +
                              ", this build reads " + std::to_string(kServeEndpointFormatVersion));
  }
  ServeEndpoint endpoint;
  endpoint.url = ValueOr<std::string>(json, "url", "");
  endpoint.model_name = ValueOr<std::string>(json, "model_name", "");
  endpoint.run = ValueOr<std::string>(json, "run", "");
  endpoint.mode = ValueOr<std::string>(json, "mode", "");
  endpoint.host = ValueOr<std::string>(json, "host", "");
  endpoint.port = ValueOr<int>(json, "port", 0);
  endpoint.pid = ValueOr<int64_t>(json, "pid", 0);
  endpoint.token_required = ValueOr<bool>(json, "token_required", false);
  endpoint.updated_ms = ValueOr<int64_t>(json, "updated_ms", 0);
  if (endpoint.url.rfind("http://", 0) != 0 && endpoint.url.rfind("https://", 0) != 0) {
    return Status::Corruption(source + ": url '" + endpoint.url + "' is not http(s)");
  }
  if (endpoint.model_name.empty()) return Status::Corruption(source + ": no model_name");
  return endpoint;
}

Status WriteServeEndpoint(const SharedFolderLayout& layout, ServeEndpoint endpoint) {
  endpoint.updated_ms = UnixTimeMs();
  CB_RETURN_IF_ERROR(MakeFolders(layout.serve_endpoints()));
  return WriteJsonFileAtomically(layout.serve_endpoint_file(endpoint.host, endpoint.port),
                                 ToJson(endpoint));
}

Status RemoveServeEndpoint(const SharedFolderLayout& layout, const std::string& host, int port) {
  const Status removed = RemovePath(layout.serve_endpoint_file(host, port));
  if (!removed.ok() && removed.code() != Status::Code::kNotFound) return removed;
  return Status::Ok();
}

std::vector<ServeEndpoint> ReadServeEndpoints(const SharedFolderLayout& layout) {
  std::vector<ServeEndpoint> found;
  auto names = ListFolder(layout.serve_endpoints());
  if (!names.ok()) return found;
  for (const std::string& name : *names) {
    if (name.size() < 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
    const std::string path = layout.serve_endpoints() + "/" + name;
    auto json = ReadJsonFile(path);
    if (!json.ok()) continue;
    auto endpoint = ServeEndpointFromJson(*json, path);
    if (endpoint.ok()) found.push_back(std::move(endpoint).value());
  }
  std::sort(found.begin(), found.end(), [](const ServeEndpoint& a, const ServeEndpoint& b) {
    return a.updated_ms > b.updated_ms;
  });
  return found;
}

}  // namespace cloudbook
