#include "agent/launcher/run_summary.h"

#include <iomanip>
#include <sstream>

#include "agent/launcher/run_progress_view.h"

namespace cloudbook {

namespace {

std::string MetricsLine(const Json& metrics) {
  std::ostringstream line;
  line << std::fixed << std::setprecision(4);
  bool first = true;
  if (!metrics.is_object()) return "";
  for (const auto& [name, value] : metrics.items()) {
    if (!value.is_number()) continue;
    line << (first ? "" : "  ") << name << " " << value.get<double>();
    first = false;
  }
  return line.str();
}

// The member `key`, or null when `json` is not an object or lacks it (a results file from
// another version must not crash the launcher).
const Json& Field(const Json& json, const char* key) {
  static const Json kNull;
  if (!json.is_object()) return kNull;
  auto it = json.find(key);
  return it != json.end() ? *it : kNull;
}

// The elements of an array member, or none.
const Json& List(const Json& json, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& field = Field(json, key);
  return field.is_array() ? field : kEmpty;
}

template <typename T>
T ValueOr(const Json& json, const char* key, T fallback) {
  const Json& field = Field(json, key);
  try {
    return field.is_null() ? fallback : field.get<T>();
  } catch (const Json::exception&) {
    return fallback;
  }
}

double NumberOr(const Json& json, const char* key, double fallback) {
  const Json& field = Field(json, key);
  return field.is_number() ? field.get<double>() : fallback;
}

}  // namespace

std::string FormatRunSummary(const Json& results, const std::string& results_path) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "run " << ValueOr<std::string>(results, "run", "?") << " ("
      << ValueOr<std::string>(results, "problem", "?") << ", "
      << ValueOr<int64_t>(results, "subnets_count", 0) << " subnets in "
      << List(results, "dus").size() << " DUs, F = " << std::setprecision(2)
      << ValueOr<double>(results, "factor", 1.0) << ") in "
      << FormatDuration(NumberOr(results, "wall_seconds", 0)) << "\n";
  for (const Json& subnet : List(results, "subnets")) {
    out << "  subnet " << ValueOr<int64_t>(subnet, "index", -1) << " (DU "
        << ValueOr<int64_t>(subnet, "du", -1) << " on "
        << ValueOr<std::string>(subnet, "ran_on", "?") << ", "
        << ValueOr<int64_t>(subnet, "epochs", 0)
        << " epochs): " << MetricsLine(Field(subnet, "test_metrics"));
    const Json& history = List(subnet, "history");
    if (!history.empty()) {
      out << "  final train loss " << std::setprecision(4)
          << NumberOr(history.back(), "train_loss", 0);
    }
    out << "\n";
  }
  for (const Json& du : List(results, "dus")) {
    out << "  DU " << ValueOr<int64_t>(du, "du", -1) << ": ";
    const Json& agents = List(du, "agents");
    for (size_t i = 0; i < agents.size(); ++i) {
      out << (i ? " -> " : "") << (agents[i].is_string() ? agents[i].get<std::string>() : "?");
    }
    out << std::setprecision(1) << ", trained in " << NumberOr(du, "train_seconds", 0) << " s";
    if (ValueOr<int64_t>(du, "resumed_epochs", 0) > 0) {
      out << ", resumed " << ValueOr<int64_t>(du, "resumed_epochs", 0)
          << " epoch(s) from a checkpoint";
    }
    out << "\n";
  }
  const Json& composed = Field(results, "composed");
  out << "composed: " << MetricsLine(Field(composed, "metrics")) << "\n";
  if (Field(results, "baseline").is_object()) {
    const Json& baseline = Field(results, "baseline");
    out << "original: " << MetricsLine(Field(baseline, "metrics")) << std::setprecision(1)
        << "  (trained in " << NumberOr(baseline, "train_seconds", 0) << " s on "
        << ValueOr<std::string>(baseline, "ran_on", "?") << ")\n";
    const Json& comparison = Field(results, "comparison");
    if (comparison.is_object()) {
      out << std::setprecision(4) << "composed - original:";
      for (const auto& [name, value] : comparison.items()) {
        if (value.is_number() && name.size() > 6 && name.substr(name.size() - 6) == "_delta") {
          out << "  " << name.substr(0, name.size() - 6) << " " << std::showpos
              << value.get<double>() << std::noshowpos;
        }
      }
      out << std::setprecision(2) << "; speed-up (original / slowest DU) "
          << NumberOr(comparison, "speedup_slowest_du", 0) << "x\n";
    }
  }
  const Json& overheads = Field(results, "overheads");
  out << std::setprecision(2) << "overheads: first training step "
      << NumberOr(overheads, "first_step_seconds", -1) << " s after the start; composed "
      << NumberOr(overheads, "compose_seconds", -1) << " s after the last DU finished; "
      << ValueOr<int64_t>(results, "redeploys", 0) << " redeploy(s)\n";
  out << "results: " << results_path << "\n";
  return out.str();
}

}  // namespace cloudbook
