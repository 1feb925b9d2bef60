#!/usr/bin/python3
"""Distributed-run benchmark: one deconstructed run over 2 agents vs 1 agent vs the original.

In one invocation, side by side, on the Fashion-MNIST MLP of configs/fashion_mlp (by default
all 60000 training samples, 10 epochs):

  original  the original network trained alone on one core:
            cloudbook-maker --local --original-only --threads 1 (OMP_NUM_THREADS=1 etc.);
            its training time and test accuracy.
  agents2   a real run over 2 local agents, both --grant LOW (1 core each), agent 0 one of
            them: maker --subnets 6 (6 DUs), agents created and launched, cloudbook-deployer,
            cloudbook-run; as scripts/demo.sh does, in a temporary cloudbook home.
  agents1   the same run over agent 0 alone (LOW): it trains the 6 DUs one after another.

For the agent runs it reports the run's wall time (cloudbook-run start to exit), the composed
accuracy, and the two overheads:
  first step  cloudbook-run start to the first DU's first training step: the results'
              overheads.first_step_seconds (counted from agent 0's start of the run) plus the
              launcher's own start and connect time (launcher wall - results wall_seconds);
  compose     the last DU's end of training to the composed result
              (overheads.compose_seconds: predictions gathered, composed, scored).

Every run gets a fresh project (checkpoints of an earlier run would be resumed). With
--repeat R the three runs are repeated R times, every other repeat in reverse order, and the
fastest run of each kind is kept (the machine is shared and noisy); every run's figures stay
in the JSON.

Targets (PASS/MISS lines): each overhead under one second (both agent runs); the 2-agent run
at least 1.6x faster than the 1-agent run. Also printed: the 2-agent run against the original
alone.

Every process the benchmark starts is stopped by its PID (SIGTERM, then SIGKILL after a grace
period), also when a step fails or the benchmark is interrupted.

Exit status: 0 when every run completed (a MISS is reported, not an error); 1 when a step
failed; 2 for a bad command line.

Run:  /usr/bin/python3 bench/distributed_run_bench.py --train-limit 6000   # quick
      /usr/bin/python3 bench/distributed_run_bench.py --repeat 2           # full data
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
DEFAULT_OUTPUT = os.path.join(BENCH_DIR, "results", "distributed_run.json")
ORIGINAL_FOLDER = os.path.join(REPO_ROOT, "configs", "fashion_mlp", "original")
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
DATA_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
BINARIES = ("cloudbook-maker", "cloudbook-agent", "cloudbook-deployer", "cloudbook-run")

# One core per trainer: libtorch (OpenMP) and any BLAS it calls.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Short intervals, as scripts/demo.sh: agents are seen within a second or two.
PROJECT_CONFIG = {"announce_interval_s": 1, "stats_interval_s": 1, "heartbeat_interval_s": 1,
                  "liveness_timeout_s": 6}

OVERHEAD_TARGET_SECONDS = 1.0
SPEEDUP_TARGET = 1.6
KINDS = ("original", "agents2", "agents1")
KIND_TITLES = {"original": "original alone (1 core)",
               "agents2": "2 agents (LOW, 1 core each)",
               "agents1": "1 agent (LOW, 1 core)"}

AGENT_READY_TIMEOUT_S = 180  # libtorch load and the capacity probe, on a loaded machine
DEPLOYER_TIMEOUT_S = 120
MAKE_TIMEOUT_S = 300
STOP_GRACE_S = 30


class BenchError(Exception):
    """A step failed; the benchmark stops its processes and exits with status 1."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP: stop everything and leave."""


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def on_signal(number, _frame):
    raise Interrupted("signal %d" % number)


# ------------------------------------------------------------------------ processes

class Processes:
    """Every process the benchmark starts; each is stopped by its PID."""

    def __init__(self):
        self.running = []  # (Popen, name)

    def start(self, argv, log_path, env, name):
        with open(log_path, "ab") as out:
            out.write(("$ %s\n" % " ".join(argv)).encode())
            out.flush()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL)
        self.running.append((proc, name))
        return proc

    def run(self, argv, log_path, env, name, timeout):
        """Runs to completion; returns (exit code, wall seconds). Killed after `timeout`."""
        start = time.monotonic()
        proc = self.start(argv, log_path, env, name)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc, name)
            raise BenchError("%s did not finish within %d s (log %s)" % (name, timeout, log_path))
        wall = time.monotonic() - start
        self.forget(proc)
        return code, wall

    def forget(self, proc):
        self.running = [(p, n) for p, n in self.running if p is not proc]

    def stop(self, proc, name, grace=STOP_GRACE_S):
        """SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit code."""
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) ignored SIGTERM for %d s: SIGKILL" % (name, proc.pid, grace))
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=30)
        self.forget(proc)
        return proc.returncode

    def stop_all(self):
        for proc, name in list(reversed(self.running)):
            code = self.stop(proc, name)
            log("stopped %s (pid %d, exit %s)" % (name, proc.pid, code))


def cpu_seconds(pid):
    """User + system CPU seconds of a live process (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def children_cpu_seconds():
    """User + system CPU seconds of every child waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise BenchError("cannot read %s: %s" % (path, error))


def read_json_or_none(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------ one run each

class Bench:
    def __init__(self, args, home, logs):
        self.args = args
        self.home = home
        self.logs = logs
        self.procs = Processes()
        self.bin = {name: os.path.join(args.bin, name) for name in BINARIES}
        self.env = dict(os.environ, **THREAD_ENV)

    def make_project(self, name):
        project = os.path.join(self.home, name)
        working_dir = os.path.join(project, "distributed", "working_dir")
        os.makedirs(working_dir)
        shutil.copytree(ORIGINAL_FOLDER, os.path.join(project, "original"))
        os.symlink(self.args.data_dir, os.path.join(working_dir, "fashion-mnist"))
        with open(os.path.join(project, "distributed", "config.json"), "w") as f:
            json.dump(PROJECT_CONFIG, f)
        return project

    def agent_log(self, tag, agent_id):
        return os.path.join(self.logs, "%s-%s.log" % (tag, agent_id))

    def maker_argv(self, project):
        argv = [self.bin["cloudbook-maker"], "--project-folder", project,
                "--subnets", str(self.args.subnets)]
        if self.args.train_limit:
            argv += ["--train-limit", str(self.args.train_limit)]
        if self.args.test_limit:
            argv += ["--test-limit", str(self.args.test_limit)]
        return argv

    def run_original(self, tag):
        project = self.make_project(tag)
        log_path = os.path.join(self.logs, tag + ".log")
        argv = self.maker_argv(project) + ["--local", "--original-only", "--threads", "1",
                                           "--run-name", "original"]
        load = os.getloadavg()[0]
        cpu_before = children_cpu_seconds()
        code, wall = self.procs.run(argv, log_path, self.env, "cloudbook-maker",
                                    self.args.timeout)
        cpu = children_cpu_seconds() - cpu_before
        if code != 0:
            raise BenchError("cloudbook-maker --original-only exited %d (log %s)"
                             % (code, log_path))
        results = read_json(os.path.join(project, "distributed", "results", "original.json"))
        baseline = results.get("baseline") or {}
        if "train_seconds" not in baseline or "accuracy" not in baseline.get("metrics", {}):
            raise BenchError("%s: no baseline figures in the results" % tag)
        return {"kind": "original",
                "load_average_1m_at_start": load,
                "train_seconds": baseline["train_seconds"],
                "accuracy": baseline["metrics"]["accuracy"],
                "process_wall_seconds": wall,
                "process_cpu_seconds": cpu,
                "threads": baseline.get("threads"),
                "epochs": baseline.get("epochs"),
                "train_samples": results.get("train_samples"),
                "test_samples": results.get("test_samples"),
                "command": " ".join(argv),
                "results": results}

    def wait_for_agents(self, project, launched, tag):
        """Until every launched agent announces itself running; fails when one exits."""
        deadline = time.monotonic() + AGENT_READY_TIMEOUT_S
        folder = os.path.join(project, "distributed", "agents")
        while True:
            ready = 0
            for agent_id, proc in launched:
                if proc.poll() is not None:
                    raise BenchError("agent %s exited with %d before it was running (log %s)"
                                     % (agent_id, proc.returncode, self.agent_log(tag, agent_id)))
                announcement = read_json_or_none(os.path.join(folder, agent_id + ".json"))
                if isinstance(announcement, dict) and announcement.get("status") == "running":
                    ready += 1
            if ready == len(launched):
                return
            if time.monotonic() > deadline:
                raise BenchError("agents not running after %d s" % AGENT_READY_TIMEOUT_S)
            time.sleep(0.1)

    def run_agents(self, tag, agent_count):
        project = self.make_project(tag)
        log_path = os.path.join(self.logs, tag + ".log")
        code, _ = self.procs.run(self.maker_argv(project), log_path, self.env,
                                 "cloudbook-maker", MAKE_TIMEOUT_S)
        if code != 0:
            raise BenchError("cloudbook-maker exited %d (log %s)" % (code, log_path))
        ids = []
        for i in range(agent_count):
            argv = [self.bin["cloudbook-agent"], "create", "--project-folder", project,
                    "--grant", "LOW"] + (["--agent-0"] if i == 0 else [])
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=self.env)
            if out.returncode != 0:
                raise BenchError("cloudbook-agent create exited %d: %s"
                                 % (out.returncode, out.stderr.strip()))
            ids.append(out.stdout.strip())
        launched = []
        try:
            for agent_id in ids:
                argv = [self.bin["cloudbook-agent"], "launch", "--project-folder", project,
                        "--agent-id", agent_id]
                launched.append((agent_id, self.procs.start(argv, self.agent_log(tag, agent_id),
                                                             self.env, "agent " + agent_id)))
            self.wait_for_agents(project, launched, tag)
            # All agents are running: the deployer plans at once and exits.
            code, _ = self.procs.run([self.bin["cloudbook-deployer"], "--project-folder",
                                      project, "--fast-start"],
                                     os.path.join(self.logs, tag + "-deployer.log"), self.env,
                                     "cloudbook-deployer", DEPLOYER_TIMEOUT_S)
            if code != 0:
                raise BenchError("cloudbook-deployer exited %d (log %s-deployer.log)"
                                 % (code, os.path.join(self.logs, tag)))
            assignment = read_json(os.path.join(project, "distributed", "assignment.json"))
            planned = {str(d["du"]): d["agent"] for d in assignment.get("dus", [])}

            cpu_before = {a: cpu_seconds(p.pid) for a, p in launched}
            load = os.getloadavg()[0]
            run_log = os.path.join(self.logs, tag + "-run.log")
            run_argv = [self.bin["cloudbook-run"], "--project-folder", project,
                        "--run-name", "bench", "--progress", "plain",
                        "--timeout", str(self.args.timeout)]
            code, launcher_wall = self.procs.run(run_argv, run_log, self.env, "cloudbook-run",
                                                 self.args.timeout + 120)
            cpu_after = {a: cpu_seconds(p.pid) for a, p in launched}
            if code != 0:
                raise BenchError("cloudbook-run exited %d (log %s)" % (code, run_log))
        finally:
            for agent_id, proc in launched:
                self.procs.stop(proc, "agent " + agent_id)
        results = read_json(os.path.join(project, "distributed", "results", "bench.json"))
        return self.agent_figures(tag, agent_count, ids, results, planned, launcher_wall,
                                  cpu_before, cpu_after, load, " ".join(run_argv))

    @staticmethod
    def agent_figures(tag, agent_count, ids, results, planned, launcher_wall, cpu_before,
                      cpu_after, load, command):
        try:
            overheads = results["overheads"]
            first_step = overheads["first_step_seconds"]
            compose = overheads["compose_seconds"]
            results_wall = results["wall_seconds"]
            accuracy = results["composed"]["metrics"]["accuracy"]
            dus = results["dus"]
        except (KeyError, TypeError) as error:
            raise BenchError("%s: results lack %s" % (tag, error))
        if first_step is None:
            raise BenchError("%s: no first training step was recorded" % tag)
        connect = launcher_wall - results_wall
        busy = {agent_id: 0.0 for agent_id in ids}
        dus_per_agent = {agent_id: 0 for agent_id in ids}
        for du in dus:
            owner = du.get("ran_on")
            busy[owner] = busy.get(owner, 0.0) + du.get("train_seconds", 0.0)
            dus_per_agent[owner] = dus_per_agent.get(owner, 0) + 1
        cpu = {a: (cpu_after[a] - cpu_before[a]
                   if cpu_after.get(a) is not None and cpu_before.get(a) is not None else None)
               for a in ids}
        known = [v for v in cpu.values() if v is not None]
        return {"kind": "agents%d" % agent_count,
                "agents": ids,
                "load_average_1m_at_start": load,
                "run_wall_seconds": launcher_wall,
                "results_wall_seconds": results_wall,
                "launcher_connect_seconds": connect,
                "agent0_first_step_seconds": first_step,
                "first_step_overhead_seconds": first_step + connect,
                "compose_overhead_seconds": compose,
                "accuracy": accuracy,
                "slowest_du_train_seconds": max(d.get("train_seconds", 0.0) for d in dus),
                "train_seconds_per_agent": busy,
                "dus_per_agent": dus_per_agent,
                "assignment": planned,
                "redeploys": results.get("redeploys"),
                "agent_cpu_seconds_during_run": cpu,
                "busiest_agent_cpu_seconds": max(known) if known else None,
                "cpu_share_of_busiest_agent": (max(known) / launcher_wall
                                               if known and launcher_wall else None),
                "command": command,
                "results": results}


# ------------------------------------------------------------------------ report

def ratio(a, b):
    return a / b if b else float("nan")


def ratios_of(original, agents2, agents1):
    return {
        "speedup_2_agents_over_1_agent": ratio(agents1["run_wall_seconds"],
                                               agents2["run_wall_seconds"]),
        "speedup_2_agents_over_original": ratio(original["train_seconds"],
                                                agents2["run_wall_seconds"]),
        "speedup_1_agent_over_original": ratio(original["train_seconds"],
                                               agents1["run_wall_seconds"]),
        "accuracy_points_2_agents_vs_original": 100 * (agents2["accuracy"] -
                                                       original["accuracy"]),
        "accuracy_points_1_agent_vs_original": 100 * (agents1["accuracy"] -
                                                      original["accuracy"]),
        # CPU seconds barely depend on what else runs: the wall ratios of an idle machine.
        "cpu_ratio_1_agent_over_2_agents": ratio(agents1["busiest_agent_cpu_seconds"] or 0,
                                                 agents2["busiest_agent_cpu_seconds"]),
        "cpu_ratio_original_over_2_agents": ratio(original["process_cpu_seconds"],
                                                  agents2["busiest_agent_cpu_seconds"]),
    }


def print_report(runs, best, ratios_best, ratios_per_repeat, targets):
    print()
    print("Runs (every repeat, in the order run):")
    print("  %-3s %-8s %8s %9s %8s %8s %6s %7s %6s  %s"
          % ("rep", "kind", "wall s", "accuracy", "1st st s", "compose", "load", "CPU s",
             "share", "DUs/agent"))
    for run in runs:
        if run["kind"] == "original":
            cpu = run["process_cpu_seconds"]
            print("  %-3d %-8s %8.2f %9.4f %8s %8s %6.2f %7.1f %6.2f  (training s; process "
                  "%.2f s)" % (run["repeat"], run["kind"], run["train_seconds"], run["accuracy"],
                               "-", "-", run["load_average_1m_at_start"], cpu,
                               ratio(cpu, run["process_wall_seconds"]),
                               run["process_wall_seconds"]))
        else:
            print("  %-3d %-8s %8.2f %9.4f %8.3f %8.3f %6.2f %7.1f %6.2f  %s"
                  % (run["repeat"], run["kind"], run["run_wall_seconds"], run["accuracy"],
                     run["first_step_overhead_seconds"], run["compose_overhead_seconds"],
                     run["load_average_1m_at_start"], run["busiest_agent_cpu_seconds"] or 0,
                     run["cpu_share_of_busiest_agent"] or 0,
                     " ".join(str(n) for n in run["dus_per_agent"].values())))
    print("  (load: 1-minute load average at the start; CPU s: the process's, or the busiest "
          "agent's during the run; share: CPU s / wall s, below 1 when others took the core)")
    print()
    print("Fastest of each:")
    o, a2, a1 = best["original"], best["agents2"], best["agents1"]
    print("  %-30s %10s %9s %12s %10s" % ("", "wall s", "accuracy", "first step s",
                                          "compose s"))
    print("  %-30s %10.2f %9.4f %12s %10s" % (KIND_TITLES["original"], o["train_seconds"],
                                              o["accuracy"], "-", "-"))
    for kind in ("agents2", "agents1"):
        r = best[kind]
        print("  %-30s %10.2f %9.4f %12.3f %10.3f"
              % (KIND_TITLES[kind], r["run_wall_seconds"], r["accuracy"],
                 r["first_step_overhead_seconds"], r["compose_overhead_seconds"]))
    print("  (first step = agent 0's %.3f / %.3f s + the launcher's connect %.3f / %.3f s)"
          % (a2["agent0_first_step_seconds"], a1["agent0_first_step_seconds"],
             a2["launcher_connect_seconds"], a1["launcher_connect_seconds"]))
    print()
    print("Ratios measured side by side:")
    names = [("speedup_2_agents_over_1_agent", "2 agents vs 1 agent (speed-up)", "%.2fx"),
             ("speedup_2_agents_over_original", "2 agents vs original alone", "%.2fx"),
             ("speedup_1_agent_over_original", "1 agent vs original alone", "%.2fx"),
             ("accuracy_points_2_agents_vs_original", "accuracy 2 agents - original (pts)",
              "%+.2f"),
             ("accuracy_points_1_agent_vs_original", "accuracy 1 agent - original (pts)",
              "%+.2f"),
             ("cpu_ratio_1_agent_over_2_agents", "CPU s: 1 agent / busiest of 2 agents",
              "%.2fx"),
             ("cpu_ratio_original_over_2_agents", "CPU s: original / busiest of 2 agents",
              "%.2fx")]
    header = "  %-38s %10s" % ("", "fastest")
    for repeat in sorted(ratios_per_repeat):
        header += " %10s" % ("repeat %d" % repeat)
    print(header)
    for key, title, fmt in names:
        line = "  %-38s %10s" % (title, fmt % ratios_best[key])
        for repeat in sorted(ratios_per_repeat):
            line += " %10s" % (fmt % ratios_per_repeat[repeat][key])
        print(line)
    print()
    for target in targets:
        print("%s  %s: %s (target %s)" % ("PASS" if target["pass"] else "MISS", target["name"],
                                          target["measured_text"], target["target_text"]))
    print("INFO  2-agent run vs original alone: %.2fx (%.2f s vs %.2f s training)"
          % (ratios_best["speedup_2_agents_over_original"], a2["run_wall_seconds"],
             o["train_seconds"]))


def targets_of(best, ratios_best):
    targets = []
    for kind in ("agents2", "agents1"):
        run = best[kind]
        for key, title in (("first_step_overhead_seconds", "cloudbook-run start to first step"),
                           ("compose_overhead_seconds", "last DU end to composed result")):
            value = run[key]
            targets.append({"name": "%s, %s" % (title, KIND_TITLES[kind]),
                            "measured": value, "measured_text": "%.3f s" % value,
                            "target": OVERHEAD_TARGET_SECONDS,
                            "target_text": "< %.1f s" % OVERHEAD_TARGET_SECONDS,
                            "pass": value < OVERHEAD_TARGET_SECONDS})
    speedup = ratios_best["speedup_2_agents_over_1_agent"]
    targets.append({"name": "2-agent run vs 1-agent run", "measured": speedup,
                    "measured_text": "%.2fx" % speedup, "target": SPEEDUP_TARGET,
                    "target_text": ">= %.1fx" % SPEEDUP_TARGET,
                    "pass": speedup >= SPEEDUP_TARGET})
    return targets


def git_info():
    def git(*argv):
        try:
            out = subprocess.run(["git", "-C", REPO_ROOT] + list(argv), capture_output=True,
                                 text=True, timeout=30)
            return out.stdout.strip() if out.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "tracked_files_modified": None if status is None else bool(status)}


def machine_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "affinity_cpus": len(os.sched_getaffinity(0)),
            "cpu_model": model, "platform": platform.platform(),
            "python": platform.python_version()}


def binary_info(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    built = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return {"path": os.path.abspath(path), "sha256": digest.hexdigest(),
            "modified_utc": built.strftime("%Y-%m-%dT%H:%M:%SZ")}


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------ main

def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Benchmark a real deconstructed run (cloudbook-run) over 2 local agents "
                    "and over 1 agent, 1 core each, against the original network trained "
                    "alone on one core; report wall times, composed accuracy and the run's "
                    "overheads. Exit status: 0 ran (a MISS is not an error), 1 a step failed, "
                    "2 bad command line.",
        epilog="Full data (60000 training samples, 10 epochs) takes about 2.5 minutes per "
               "repeat on 2 quiet cores, 5 to 6 under a load average of 7.")
    p.add_argument("--bin", default=os.path.join(REPO_ROOT, "build", "bin"),
                   help="folder of cloudbook-maker, -agent, -deployer, -run "
                        "(default: <repo>/build/bin)")
    p.add_argument("--train-limit", type=int, default=0, metavar="N",
                   help="first N training samples (default 0 = all 60000)")
    p.add_argument("--test-limit", type=int, default=0, metavar="N",
                   help="first N test samples (default 0 = all 10000)")
    p.add_argument("--subnets", type=int, default=6, metavar="K",
                   help="subnets = DUs (default 6: 3 per agent on two agents)")
    p.add_argument("--repeat", type=int, default=1, metavar="R",
                   help="run the three kinds R times, every other repeat in reverse order, and "
                        "keep the fastest of each (default 1; use 2 or 3 on a busy machine)")
    p.add_argument("--out", default=DEFAULT_OUTPUT,
                   help="JSON output (default: bench/results/distributed_run.json)")
    p.add_argument("--data-dir", default=DEFAULT_DATA,
                   help="Fashion-MNIST IDX .gz files (default: %(default)s)")
    p.add_argument("--timeout", type=int, default=3600,
                   help="seconds one training run may take (default %(default)s)")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the temporary cloudbook home (projects, results, checkpoints)")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.subnets < 1 or args.train_limit < 0 or args.test_limit < 0:
        p.error("--repeat and --subnets must be >= 1, limits >= 0")
    for name in BINARIES:
        if not os.access(os.path.join(args.bin, name), os.X_OK):
            p.error("%s not found in %s (build it, or pass --bin)" % (name, args.bin))
    for name in DATA_FILES:
        if not os.path.isfile(os.path.join(args.data_dir, name)):
            p.error("%s missing from %s (package dataset-fashion-mnist)" % (name, args.data_dir))
    args.data_dir = os.path.abspath(args.data_dir)
    return args


def main(argv=None):
    args = parse_args(argv)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, on_signal)
    out_base = os.path.splitext(os.path.abspath(args.out))[0]
    logs = out_base + "-logs"
    if os.path.isdir(logs):
        shutil.rmtree(logs)
    os.makedirs(logs)
    home = tempfile.mkdtemp(prefix="cloudbook-bench-home-")
    bench = Bench(args, home, logs)
    command = " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__),
                                                            os.getcwd())] + sys.argv[1:])
    started = utc_now()
    git = git_info()  # the tree the run starts from
    load_start = os.getloadavg()
    log("cloudbook home %s, logs in %s" % (home, logs))
    log("%s; %s training samples, k = %d, repeat %d"
        % (command, args.train_limit or "all", args.subnets, args.repeat))
    runs = []
    try:
        for repeat in range(1, args.repeat + 1):
            order = KINDS if repeat % 2 == 1 else tuple(reversed(KINDS))
            for kind in order:
                tag = "r%d-%s" % (repeat, kind)
                log("repeat %d: %s" % (repeat, KIND_TITLES[kind]))
                if kind == "original":
                    run = bench.run_original(tag)
                    log("  trained in %.2f s, accuracy %.4f"
                        % (run["train_seconds"], run["accuracy"]))
                else:
                    run = bench.run_agents(tag, 2 if kind == "agents2" else 1)
                    log("  run %.2f s, accuracy %.4f, first step %.3f s, compose %.3f s, "
                        "DUs per agent %s" % (run["run_wall_seconds"], run["accuracy"],
                                              run["first_step_overhead_seconds"],
                                              run["compose_overhead_seconds"],
                                              run["dus_per_agent"]))
                run["repeat"] = repeat
                runs.append(run)
    except (BenchError, Interrupted, subprocess.SubprocessError, OSError) as error:
        log("FAILED: %s" % error)
        return 1
    finally:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)  # the clean-up's waits are bounded
        bench.procs.stop_all()
        if args.keep_work:
            log("kept the cloudbook home %s" % home)
        else:
            shutil.rmtree(home, ignore_errors=True)

    def speed(run):
        return run["train_seconds"] if run["kind"] == "original" else run["run_wall_seconds"]

    best = {kind: min((r for r in runs if r["kind"] == kind), key=speed) for kind in KINDS}
    ratios_best = ratios_of(best["original"], best["agents2"], best["agents1"])
    ratios_per_repeat = {}
    for repeat in range(1, args.repeat + 1):
        of = {r["kind"]: r for r in runs if r["repeat"] == repeat}
        ratios_per_repeat[repeat] = ratios_of(of["original"], of["agents2"], of["agents1"])
    targets = targets_of(best, ratios_best)
    print_report(runs, best, ratios_best, ratios_per_repeat, targets)

    report = {
        "benchmark": "distributed_run",
        "command": command,
        "started_utc": started,
        "finished_utc": utc_now(),
        "git": git,
        "machine": machine_info(),
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
        "settings": {"train_limit": args.train_limit, "test_limit": args.test_limit,
                     "subnets": args.subnets, "repeat": args.repeat,
                     "program": os.path.relpath(ORIGINAL_FOLDER, REPO_ROOT),
                     "project_config": PROJECT_CONFIG, "thread_env": THREAD_ENV,
                     "agent_grant": "LOW",
                     "binaries": {name: binary_info(bench.bin[name]) for name in BINARIES}},
        "fastest": {kind: {k: v for k, v in best[kind].items() if k != "results"}
                    for kind in KINDS},
        "fastest_repeat": {kind: best[kind]["repeat"] for kind in KINDS},
        "ratios_fastest": ratios_best,
        "ratios_per_repeat": {str(k): v for k, v in ratios_per_repeat.items()},
        "targets": targets,
        "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    temporary = args.out + ".tmp"
    with open(temporary, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    os.replace(temporary, args.out)
    log("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
