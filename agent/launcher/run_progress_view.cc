#include "agent/launcher/run_progress_view.h"

#include <algorithm>
#include <cmath>

namespace cloudbook {

namespace {

std::string Printf(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total % 3600 / 60));
  } else if (total >= 60) {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%llds", static_cast<long long>(total));
  }
  return buffer;
}

RunProgressView::RunProgressView(std::FILE* out, bool redraw) : out_(out), redraw_(redraw) {}

double RunProgressView::DuLine::Fraction() const {
  if (state == "trained") return 1;
  if (subnets <= 0) return 0;
  const double in_subnet =
      epochs > 0 ? static_cast<double>(epoch) / static_cast<double>(epochs) : 0;
  return std::clamp(
      (static_cast<double>(subnet_position) + in_subnet) / static_cast<double>(subnets), 0.0, 1.0);
}

double RunProgressView::OverallFraction() const {
  const int64_t count = std::max<int64_t>(dus_, static_cast<int64_t>(lines_.size()));
  if (count == 0) return 0;
  double sum = 0;
  for (const auto& [du, line] : lines_) sum += line.Fraction();
  return sum / static_cast<double>(count);
}

std::string RunProgressView::FormatDu(int du, const DuLine& line) const {
  std::string text = "DU " + std::to_string(du) + "  " + (line.agent.empty() ? "-" : line.agent);
  if (line.state == "trained") return text + "  trained";
  if (line.state == "waiting" || line.state == "assigned") return text + "  " + line.state;
  if (line.subnet >= 0) {
    text += "  subnet " + std::to_string(line.subnet_position + 1) + "/" +
            std::to_string(line.subnets) + "  epoch " + std::to_string(line.epoch) + "/" +
            std::to_string(line.epochs);
  }
  if (line.loss >= 0) text += "  loss " + Printf("%.4f", line.loss);
  if (line.samples_per_second > 0)
    text += "  " + Printf("%.0f", line.samples_per_second) + " samples/s";
  if (line.eta_seconds >= 0) text += "  ETA " + FormatDuration(line.eta_seconds);
  return text;
}

std::string RunProgressView::FormatOverall() const {
  const double fraction = OverallFraction();
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
  std::string text =
      bar + Printf("%3.0f", fraction * 100) + "%  elapsed " + FormatDuration(elapsed_);
  if (fraction > 0.02 && fraction < 1) {
    text += "  ETA " + FormatDuration(elapsed_ * (1 - fraction) / fraction);
  }
  return text;
}

void RunProgressView::Redraw() {
  if (!redraw_) return;
  if (drawn_lines_ > 0) std::fprintf(out_, "\x1b[%dA", drawn_lines_);
  int lines = 0;
  for (const auto& [du, line] : lines_) {
    std::fprintf(out_, "\x1b[2K%s\n", FormatDu(du, line).c_str());
    ++lines;
  }
  std::fprintf(out_, "\x1b[2K%s\n", FormatOverall().c_str());
  drawn_lines_ = lines + 1;
  std::fflush(out_);
}

void RunProgressView::PrintLine(const std::string& text) {
  if (redraw_ && drawn_lines_ > 0) {
    // Notes go above the live block: clear it, print, draw it again below.
    std::fprintf(out_, "\x1b[%dA", drawn_lines_);
    for (int i = 0; i < drawn_lines_; ++i) std::fprintf(out_, "\x1b[2K\n");
    std::fprintf(out_, "\x1b[%dA", drawn_lines_);
    drawn_lines_ = 0;
  }
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void RunProgressView::OnEvent(const WireArguments& event) {
  elapsed_ = NumberArgument(event, "elapsed_seconds", elapsed_);
  const std::string kind = StringArgument(event, "event");
  if (kind == "start") {
    dus_ = static_cast<int64_t>(NumberArgument(event, "dus", 0));
    run_ = StringArgument(event, "run");
    for (int du = 0; du < dus_; ++du) lines_[du];
    PrintLine("run " + run_ + ": " + std::to_string(dus_) + " DUs of " +
              StringArgument(event, "project"));
    Redraw();
    return;
  }
  if (kind == "note") {
    PrintLine("[" + FormatDuration(elapsed_) + "] " + StringArgument(event, "message"));
    Redraw();
    return;
  }
  if (kind == "baseline") {
    if (StringArgument(event, "state") == "started") return;
    PrintLine("[" + FormatDuration(elapsed_) + "] original network  epoch " +
              Printf("%.0f", NumberArgument(event, "epoch", 0)) + "/" +
              Printf("%.0f", NumberArgument(event, "epochs", 0)) + "  loss " +
              Printf("%.4f", NumberArgument(event, "loss", 0)) + "  " +
              Printf("%.0f", NumberArgument(event, "samples_per_second", 0)) + " samples/s  ETA " +
              FormatDuration(NumberArgument(event, "eta_seconds", -1)));
    Redraw();
    return;
  }
  if (kind != "du") return;
  const int du = static_cast<int>(NumberArgument(event, "du", -1));
  if (du < 0) return;
  DuLine& line = lines_[du];
  line.agent = StringArgument(event, "agent");
  const std::string state = StringArgument(event, "state");
  line.subnets =
      static_cast<int64_t>(NumberArgument(event, "subnets", static_cast<double>(line.subnets)));
  if (state == "assigned" || state == "trained") {
    line.state = state;
  } else {
    line.state = "training";
    line.subnet =
        static_cast<int64_t>(NumberArgument(event, "subnet", static_cast<double>(line.subnet)));
    line.subnet_position = static_cast<int64_t>(NumberArgument(event, "subnet_position", 0));
    line.epoch = static_cast<int64_t>(NumberArgument(event, "epoch", 0));
    line.epochs = static_cast<int64_t>(NumberArgument(event, "epochs", 0));
    if (state != "started") {
      line.loss = NumberArgument(event, "loss", line.loss);
      line.samples_per_second = NumberArgument(event, "samples_per_second", 0);
      line.eta_seconds = NumberArgument(event, "eta_seconds", -1);
    } else {
      line.loss = -1;
      line.eta_seconds = -1;
    }
  }
  if (redraw_) {
    Redraw();
    return;
  }
  // Plain lines: one per finished epoch and per state change, with the overall figure.
  if (state == "started") return;
  PrintLine("[" + FormatDuration(elapsed_) + "] " + FormatDu(du, line) + "  (overall " +
            Printf("%.0f", OverallFraction() * 100) + "%)");
}

void RunProgressView::Finish() {
  if (redraw_ && drawn_lines_ > 0) Redraw();
  drawn_lines_ = 0;
}

}  // namespace cloudbook
