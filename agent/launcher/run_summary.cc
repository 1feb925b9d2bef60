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

double NumberOr(const Json& json, const char* key, double fallback) {
  auto it = json.find(key);
  return it != json.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

std::string FormatRunSummary(const Json& results, const std::string& results_path) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "run " << results.value("run", "?") << " (" << results.value("problem", "?") << ", "
      << results.value("subnets_count", 0) << " subnets in " << results["dus"].size()
      << " DUs, F = " << std::setprecision(2) << results.value("factor", 1.0) << ") in "
      << FormatDuration(NumberOr(results, "wall_seconds", 0)) << "\n";
  for (const Json& subnet : results["subnets"]) {
    out << "  subnet " << subnet.value("index", -1) << " (DU " << subnet.value("du", -1) << " on "
        << subnet.value("ran_on", "?") << ", " << subnet.value("epochs", 0)
        << " epochs): " << MetricsLine(subnet["test_metrics"]);
    const Json& history = subnet["history"];
    if (history.is_array() && !history.empty()) {
      out << "  final train loss " << std::setprecision(4)
          << NumberOr(history.back(), "train_loss", 0);
    }
    out << "\n";
  }
  for (const Json& du : results["dus"]) {
    out << "  DU " << du.value("du", -1) << ": ";
    const Json& agents = du["agents"];
    for (size_t i = 0; i < agents.size(); ++i) {
      out << (i ? " -> " : "") << agents[i].get<std::string>();
    }
    out << std::setprecision(1) << ", trained in " << NumberOr(du, "train_seconds", 0) << " s";
    if (du.value("resumed_epochs", 0) > 0) {
      out << ", resumed " << du.value("resumed_epochs", 0) << " epoch(s) from a checkpoint";
    }
    out << "\n";
  }
  const Json& composed = results["composed"];
  out << "composed: " << MetricsLine(composed["metrics"]) << "\n";
  if (results.contains("baseline") && results["baseline"].is_object()) {
    const Json& baseline = results["baseline"];
    out << "original: " << MetricsLine(baseline["metrics"]) << std::setprecision(1)
        << "  (trained in " << NumberOr(baseline, "train_seconds", 0) << " s on "
        << baseline.value("ran_on", "?") << ")\n";
    const Json& comparison = results["comparison"];
    if (comparison.is_object()) {
      out << std::setprecision(4) << "composed - original:";
      for (const auto& [name, value] : comparison.items()) {
        if (name.size() > 6 && name.substr(name.size() - 6) == "_delta") {
          out << "  " << name.substr(0, name.size() - 6) << " " << std::showpos
              << value.get<double>() << std::noshowpos;
        }
      }
      out << std::setprecision(2) << "; speed-up (original / slowest DU) "
          << NumberOr(comparison, "speedup_slowest_du", 0) << "x\n";
    }
  }
  const Json& overheads = results["overheads"];
  out << std::setprecision(2) << "overheads: first training step "
      << NumberOr(overheads, "first_step_seconds", -1) << " s after the start; composed "
      << NumberOr(overheads, "compose_seconds", -1) << " s after the last DU finished; "
      << results.value("redeploys", 0) << " redeploy(s)\n";
  out << "results: " << results_path << "\n";
  return out.str();
}

}  // namespace cloudbook
