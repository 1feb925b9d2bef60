// Byte 0 picks the reader (value % 6); the rest is the file's text. A value that parses must
// survive ToJson + FromJson (what the writer writes, the reader reads back).
#include <filesystem>
#include <string>

#include "dashboard/run_catalog.h"
#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"
#include "shared/formats/agent_config.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/formats/project_config.h"
#include "shared/json_io.h"
#include "shared/subnet_spec.h"

namespace cloudbook {
namespace {

// The reader's Status; aborts when its value does not read back from its own JSON.
template <typename T, typename FromJson>
Status ParseAndRoundTrip(const std::string& text, FromJson from_json) {
  CB_ASSIGN_OR_RETURN(const Json json, ParseJsonText(text, "fuzz.json"));
  Result<T> value = from_json(json, "fuzz.json");
  if (!value.ok()) return value.status();
  Result<T> again = from_json(ToJson(*value), "fuzz.json (written back)");
  FuzzCheck(again.ok(), "a value read from JSON does not read back from its own ToJson");
  FuzzCheck(ToJson(*again) == ToJson(*value), "a value changed through ToJson + FromJson");
  return Status::Ok();
}

// The dashboard's run catalog over one run file: distributed/runs/ (progress) or
// distributed/results/ (finished), then the list and the detail views.
Status ReplayRunFile(const std::string& text, bool finished) {
  const std::string root = FuzzScratchFolder() + "/project";
  std::error_code ignored;
  std::filesystem::remove_all(root, ignored);
  const std::string folder = finished ? "/distributed/results" : "/distributed/runs";
  WriteFuzzFile(std::string("project") + folder + "/run1.json",
                reinterpret_cast<const uint8_t*>(text.data()), text.size());
  RunCatalog catalog{ProjectLayout(root)};
  const int64_t now_ms = 1'800'000'000'000;
  const Json list = catalog.List(now_ms);
  FuzzCheck(list.is_array(), "the run list is not an array");
  // The dashboard sends both views as it does here: they must serialise.
  (void)list.dump(-1, ' ', false, Json::error_handler_t::replace);
  Result<Json> detail = catalog.Detail("run1", now_ms);
  if (!detail.ok()) return detail.status();
  (void)detail->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (list.empty()) return Status::InvalidArgument("the run file was left out of the list");
  return Status::Ok();
}

}  // namespace

Status ReplaySharedJson(const uint8_t* data, size_t size) {
  if (size < 1) return Status::InvalidArgument("empty fuzz input");
  const uint8_t selector = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 6) {
    case 0:
      return ParseAndRoundTrip<DuSpec>(text, DuSpecFromJson);
    case 1:
      return ParseAndRoundTrip<Assignment>(text, AssignmentFromJson);
    case 2:
      return ParseAndRoundTrip<ProjectConfig>(text, ProjectConfigFromJson);
    case 3:
      return ParseAnnouncement(text, "agent-0").status();
    case 4:
      return ParseAndRoundTrip<AgentConfig>(text, AgentConfigFromJson);
    default:
      return ReplayRunFile(text, (selector / 6) % 2 == 1);
  }
}

int FuzzSharedJson(const uint8_t* data, size_t size) {
  ReplaySharedJson(data, size);
  return 0;
}

}  // namespace cloudbook
