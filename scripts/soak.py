#!/usr/bin/env python3
"""Soak test (issue 7, not in CI): repeated real runs with random agent kills and restarts.

A Fashion-MNIST project as in demo.sh, agent 0 (never killed) plus N helper agents and the
deployer watching. Until the time is up: start a run; during it, SIGKILL a random helper
agent at a random moment (with --kill-probability), relaunch it a few seconds later; wait for
the run; check it. Between runs the checkpoints are cleared, so that every run trains.

Reported (and written as JSON): runs started / completed / failed, kills, redeploys seen in
the results, composed accuracy range, lost or corrupted checkpoints (a run that failed, a
results file missing, an agent log line "ignoring checkpoint" or "not checkpointed": must all
be zero), and the memory of the long-lived agent 0 and deployer (RSS after the first run,
after the last, and the largest).

  scripts/soak.py [--minutes 30] [--helpers 2] [--train-limit 30000] [--kill-probability 0.7]
                  [--build-dir build] [--home DIR] [--json bench/results/soak.json]
Exit codes: 0 no loss, 1 a loss or failed run, 2 bad arguments or setup failed.
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Soak:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.join(os.path.abspath(args.build_dir), "bin")
        self.home = args.home or tempfile.mkdtemp(prefix="cloudbook-soak-")
        self.project = os.path.join(self.home, "fashion_mlp")
        self.logs = os.path.join(self.project, "logs")
        self.processes = {}  # name -> Popen
        self.figures = {"runs_started": 0, "runs_completed": 0, "runs_failed": 0, "kills": 0,
                        "restarts": 0, "redeploys": 0, "accuracy_min": None,
                        "accuracy_max": None, "checkpoint_problems": 0,
                        "missing_results": 0, "rss_kib": {}}

    def run_tool(self, *arguments):
        return subprocess.run([os.path.join(self.bin, arguments[0]), *arguments[1:]],
                              check=True, capture_output=True, text=True).stdout.strip()

    def start(self, name, *arguments):
        log = open(os.path.join(self.logs, f"{name}.log"), "a")
        self.processes[name] = subprocess.Popen(
            [os.path.join(self.bin, arguments[0]), *arguments[1:]], stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self.processes[name]

    def launch_agent(self, agent_id):
        return self.start(agent_id, "cloudbook-agent", "launch", "--project-folder",
                          self.project, "--agent-id", agent_id)

    def wait_running(self, agent_id, timeout_s=120):
        path = os.path.join(self.project, "distributed", "agents", f"{agent_id}.json")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    announcement = json.load(f)
                if announcement.get("status") == "running" and \
                        announcement.get("pid") == self.processes[agent_id].pid:
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        return False

    def set_up(self):
        if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
            sys.exit(f"soak: Fashion-MNIST is missing from {DATA} (dataset-fashion-mnist)")
        shutil.rmtree(self.project, ignore_errors=True)
        os.makedirs(os.path.join(self.project, "distributed", "working_dir"))
        os.makedirs(self.logs)
        shutil.copytree(os.path.join(ROOT, "configs", "fashion_mlp", "original"),
                        os.path.join(self.project, "original"))
        os.symlink(DATA, os.path.join(self.project, "distributed", "working_dir",
                                      "fashion-mnist"))
        with open(os.path.join(self.project, "distributed", "config.json"), "w") as config:
            json.dump({"announce_interval_s": 1, "stats_interval_s": 1,
                       "heartbeat_interval_s": 1, "liveness_timeout_s": 5}, config)
        self.run_tool("cloudbook-maker", "--project-folder", self.project, "--subnets", "3",
                      "--train-limit", str(self.args.train_limit), "--test-limit", "2000")
        self.agent0 = self.run_tool("cloudbook-agent", "create", "--project-folder",
                                    self.project, "--grant", "MEDIUM", "--agent-0")
        self.helpers = [self.run_tool("cloudbook-agent", "create", "--project-folder",
                                      self.project, "--grant", "LOW")
                        for _ in range(self.args.helpers)]
        for agent_id in [self.agent0, *self.helpers]:
            self.launch_agent(agent_id)
        for agent_id in [self.agent0, *self.helpers]:
            if not self.wait_running(agent_id):
                sys.exit(f"soak: {agent_id} did not start (see {self.logs}/{agent_id}.log)")
        self.start("deployer", "cloudbook-deployer", "--project-folder", self.project,
                   "--fast-start", "-s", "0.5")

    def sample_memory(self):
        for name in [self.agent0, "deployer"]:
            rss = rss_kib(self.processes[name].pid)
            if rss is not None:
                self.figures["rss_kib"].setdefault(name, []).append(rss)

    def one_run(self, index):
        shutil.rmtree(os.path.join(self.project, "distributed", "checkpoints"),
                      ignore_errors=True)
        name = f"soak-{index}"
        self.figures["runs_started"] += 1
        run = self.start(f"run-{index}", "cloudbook-run", "--project-folder", self.project,
                         "--run-name", name, "--progress", "plain", "--timeout", "600",
                         "--assignment-wait", "60")
        victim = None
        if self.helpers and random.random() < self.args.kill_probability:
            victim = random.choice(self.helpers)
            delay = random.uniform(1.0, 6.0)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and run.poll() is None:
                time.sleep(0.1)
            if run.poll() is not None:
                victim = None  # the run ended first
            else:
                self.processes[victim].send_signal(signal.SIGKILL)
                self.processes[victim].wait()
                self.figures["kills"] += 1
                time.sleep(random.uniform(1.0, 4.0))
                self.launch_agent(victim)
                self.figures["restarts"] += 1
        code = run.wait(timeout=900)
        results_path = os.path.join(self.project, "distributed", "results", f"{name}.json")
        if code != 0:
            self.figures["runs_failed"] += 1
            print(f"soak: run {name} failed with exit code {code} (killed {victim})")
            return
        if not os.path.exists(results_path):
            self.figures["missing_results"] += 1
            return
        with open(results_path) as f:
            results = json.load(f)
        self.figures["runs_completed"] += 1
        self.figures["redeploys"] += int(results.get("redeploys", 0))
        accuracy = results["composed"]["metrics"].get("accuracy")
        for key, pick in (("accuracy_min", min), ("accuracy_max", max)):
            current = self.figures[key]
            self.figures[key] = accuracy if current is None else pick(current, accuracy)
        print(f"soak: run {name} done, accuracy {accuracy:.4f}, redeploys "
              f"{results.get('redeploys', 0)}, killed {victim or '-'}", flush=True)

    def count_checkpoint_problems(self):
        problems = 0
        for log in glob.glob(os.path.join(self.logs, "agent-*.log")):
            with open(log, errors="replace") as f:
                for line in f:
                    if "ignoring checkpoint" in line or "not checkpointed" in line:
                        problems += 1
        self.figures["checkpoint_problems"] = problems

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--helpers", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=30000)
    parser.add_argument("--kill-probability", type=float, default=0.7)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--home", default="")
    parser.add_argument("--json", default="")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.minutes <= 0 or args.helpers < 1 or not 0 <= args.kill_probability <= 1:
        parser.error("--minutes > 0, --helpers >= 1, 0 <= --kill-probability <= 1")
    random.seed(args.seed or None)
    soak = Soak(args)
    started = time.monotonic()
    try:
        soak.set_up()
        index = 0
        while time.monotonic() - started < args.minutes * 60:
            index += 1
            soak.one_run(index)
            soak.sample_memory()
    finally:
        soak.stop_all()
    soak.count_checkpoint_problems()
    figures = soak.figures
    figures["minutes"] = round((time.monotonic() - started) / 60, 2)
    memory = {name: {"first_kib": values[0], "last_kib": values[-1], "max_kib": max(values)}
              for name, values in figures.pop("rss_kib").items()}
    figures["memory"] = memory
    lost = figures["runs_failed"] + figures["missing_results"] + figures["checkpoint_problems"]
    figures["lost_or_corrupted"] = lost
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    print(f"soak: project and logs in {soak.project}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
