#include "shared/shared_folder_names.h"

#include <random>
#include <sstream>

namespace cloudbook {

namespace {

constexpr size_t kMaxNameBytes = 1024;
constexpr size_t kMaxComponentBytes = 200;  // leaves room for the temporary suffix
constexpr char kTemporaryMarker[] = ".tmp-";

}  // namespace

Status ValidateSharedName(const std::string& name, bool allow_root) {
  if (name.empty()) {
    if (allow_root) return Status::Ok();
    return Status::InvalidArgument("empty name in the shared folder");
  }
  if (name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("name longer than " + std::to_string(kMaxNameBytes) +
                                   " bytes in the shared folder");
  }
  if (name.front() == '/') {
    return Status::InvalidArgument("absolute name '" + name + "' (names are relative)");
  }
  if (name.find('\0') != std::string::npos || name.find('\\') != std::string::npos) {
    return Status::InvalidArgument("name '" + name + "' contains NUL or a backslash");
  }
  for (const std::string& component : SplitSharedName(name)) {
    if (component.empty()) {
      return Status::InvalidArgument("name '" + name + "' has an empty component");
    }
    if (component == "." || component == "..") {
      return Status::InvalidArgument("name '" + name + "' contains '" + component + "'");
    }
    if (component.size() > kMaxComponentBytes) {
      return Status::InvalidArgument("name '" + name + "' has a component over " +
                                     std::to_string(kMaxComponentBytes) + " bytes");
    }
  }
  return Status::Ok();
}

std::vector<std::string> SplitSharedName(const std::string& name) {
  std::vector<std::string> components;
  if (name.empty()) return components;
  size_t start = 0;
  while (true) {
    const size_t slash = name.find('/', start);
    components.push_back(name.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return components;
}

bool IsHiddenTemporary(const std::string& file_name) {
  return file_name.size() > 1 && file_name.front() == '.' &&
         file_name.find(kTemporaryMarker) != std::string::npos;
}

std::string TemporaryNameFor(const std::string& name) {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::ostringstream suffix;
  suffix << std::hex << generator();
  const std::string parent = ParentOfSharedName(name);
  const std::string file = parent.empty() ? name : name.substr(parent.size() + 1);
  return JoinSharedName(parent, "." + file + kTemporaryMarker + suffix.str());
}

std::string JoinSharedName(const std::string& folder, const std::string& name) {
  if (folder.empty()) return name;
  if (name.empty()) return folder;
  return folder + "/" + name;
}

std::string ParentOfSharedName(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

}  // namespace cloudbook
