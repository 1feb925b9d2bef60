// What `cloudbook-run` shows while a run goes on: one line per DU (agent, subnet, epoch,
// loss, samples per second, ETA) and an overall progress bar, redrawn in place on a terminal;
// plain, append-only lines otherwise (logs, pipes, CI). Fed with agent 0's run events
// (run_coordinator.h). Not thread-safe: call from one thread.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "shared/wire/wire_message.h"

namespace cloudbook {

class RunProgressView {
 public:
  // `redraw`: a terminal that understands ANSI cursor movement.
  RunProgressView(std::FILE* out, bool redraw);

  void OnEvent(const WireArguments& event);
  // Leaves the last picture on screen and moves below it.
  void Finish();

  // 0..1 over every DU (a DU's share: finished subnets plus the running epoch's fraction).
  double OverallFraction() const;

 private:
  struct DuLine {
    std::string agent;
    std::string state = "waiting";
    int64_t subnet = -1, subnet_position = 0, subnets = 1;
    int64_t epoch = 0, epochs = 0;
    double loss = -1, samples_per_second = 0, eta_seconds = -1;
    double Fraction() const;
  };

  std::string FormatDu(int du, const DuLine& line) const;
  std::string FormatOverall() const;
  void Redraw();
  void PrintLine(const std::string& text);

  std::FILE* out_;
  bool redraw_;
  int64_t dus_ = 0;
  double elapsed_ = 0;
  std::string run_;
  std::map<int, DuLine> lines_;
  int drawn_lines_ = 0;
};

std::string FormatDuration(double seconds);

}  // namespace cloudbook
