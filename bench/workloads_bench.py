#!/usr/bin/python3
"""Workload benchmark: the composed model against its original on the issue-17 workloads.

For each workload (a project under configs/), in one invocation, this runs

    build/bin/cloudbook-maker -p <copy> --subnets K --local --baseline --threads 1 --jobs J

once per seed, on a fresh copy of the project whose data the config's own setup prepares
(`configs/<name>/setup.sh <project>` when the config has one, else a link to Debian's
Fashion-MNIST), and reports per workload:

  * composed vs original test accuracy (mean and spread over the seeds) and the delta;
  * the slowest subnet's training time vs the original's (the speed-up the method buys).

PASS/MISS lines check the issue's goal (composed within --max-loss points of the original,
mean over seeds). Everything, with the exact commands, goes to bench/results/workloads.json.

Exit status: 0 when every run succeeded (a MISS is reported, not an error); 1 when a run
failed or its results could not be read; 2 for a bad command line.

Run:  /usr/bin/python3 bench/workloads_bench.py --quick           # small slices, 1 seed
      /usr/bin/python3 bench/workloads_bench.py                   # the figures in results/
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
DEFAULT_OUTPUT = os.path.join(BENCH_DIR, "results", "workloads.json")
FASHION = "/usr/share/datasets/fashion-mnist"
# name -> (train rows, test rows) for the full run; --quick divides them.
WORKLOADS = {
    "fashion_images": (60000, 10000),
    "fashion_vit": (60000, 10000),
}


def log(message):
    print(message, flush=True)


def prepare(config, workdir, train_rows):
    """Copies configs/<config> to workdir/<config> and gives it its data. Returns the project
    and whether the maker must limit the rows (an image-folder config writes only the rows it
    needs instead: its folders are class by class, so a row limit would keep some classes)."""
    source = os.path.join(REPO_ROOT, "configs", config)
    if not os.path.isdir(source):
        raise RuntimeError(f"no such config: {source}")
    project = os.path.join(workdir, config)
    shutil.copytree(source, project, symlinks=True)
    working_dir = os.path.join(project, "distributed", "working_dir")
    os.makedirs(working_dir, exist_ok=True)
    writer = os.path.join(project, "write_images.py")
    if os.path.exists(writer):  # configs/fashion_images: Fashion-MNIST as PNG class folders
        subprocess.run([sys.executable, writer, "--out", os.path.join(working_dir, "fashion-images"),
                        "--limit", str(train_rows)], check=True, stdout=subprocess.DEVNULL)
        return project, False
    os.symlink(FASHION, os.path.join(working_dir, "fashion-mnist"))
    return project, True


def latest_result(project):
    folder = os.path.join(project, "distributed", "results")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    if not files:
        raise RuntimeError(f"no results in {folder}")
    with open(os.path.join(folder, files[-1])) as f:
        return json.load(f)


def program_file(project):
    folder = os.path.join(project, "original")
    files = [f for f in os.listdir(folder) if f.endswith(".yaml")]
    if len(files) != 1:
        raise RuntimeError(f"{folder}: expected one program (*.yaml), found {files}")
    return os.path.join(folder, files[0])


def set_seed(program, seed):
    """Rewrites the program's top-level `seed:` (or adds it): the maker takes it from there."""
    with open(program) as f:
        lines = f.read().splitlines()
    lines = [line for line in lines if not line.startswith("seed:")]
    lines.append(f"seed: {seed}")
    with open(program, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_once(maker, project, args, seed, limits):
    program = program_file(project)
    set_seed(program, seed)
    command = [maker, "-p", project, "--subnets", str(args.subnets), "--local", "--baseline",
               "--threads", "1", "--jobs", str(args.jobs)]
    if limits:
        command += ["--train-limit", str(limits[0]), "--test-limit", str(limits[1])]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = time.monotonic()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=args.timeout)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n"
                           + "\n".join(done.stdout.splitlines()[-20:]))
    result = latest_result(project)
    return {
        "command": command,
        "program": program,
        "seed": seed,
        "wall_seconds": wall,
        "original_accuracy": result["baseline"]["metrics"]["accuracy"],
        "composed_accuracy": result["composed"]["metrics"]["accuracy"],
        "original_train_seconds": result["baseline"]["train_seconds"],
        "slowest_subnet_seconds": result["composed"]["train_seconds_max"],
        "subnet_seconds_sum": result["composed"]["train_seconds_sum"],
        "factor": result.get("factor"),
        "train_samples": result.get("train_samples"),
        "test_samples": result.get("test_samples"),
    }


def summarise(runs):
    def series(key):
        return [r[key] for r in runs]

    def spread(values):
        return statistics.stdev(values) if len(values) > 1 else 0.0

    original = series("original_accuracy")
    composed = series("composed_accuracy")
    speedups = [r["original_train_seconds"] / r["slowest_subnet_seconds"] for r in runs
                if r["slowest_subnet_seconds"] > 0]
    return {
        "original_accuracy_mean": statistics.mean(original),
        "original_accuracy_spread": spread(original),
        "composed_accuracy_mean": statistics.mean(composed),
        "composed_accuracy_spread": spread(composed),
        "delta_points": 100 * (statistics.mean(composed) - statistics.mean(original)),
        "slowest_subnet_speedup": statistics.mean(speedups) if speedups else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maker", default=os.path.join(REPO_ROOT, "build", "bin", "cloudbook-maker"))
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated config names (default: %(default)s)")
    parser.add_argument("--subnets", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="subnets trained side by side")
    parser.add_argument("--seeds", default="42", help="comma-separated seeds")
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument("--train-rows", type=int, default=0, help="override the train rows")
    parser.add_argument("--test-rows", type=int, default=0, help="override the test rows")
    parser.add_argument("--max-loss", type=float, default=1.5,
                        help="goal: composed >= original - this many points (default 1.5)")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per maker run")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    if not os.access(args.maker, os.X_OK):
        parser.error(f"{args.maker} is not built (cmake --build build --target cloudbook-maker)")
    names = [n for n in args.workloads.split(",") if n]
    unknown = [n for n in names if not os.path.isdir(os.path.join(REPO_ROOT, "configs", n))]
    if unknown:
        parser.error("unknown workload(s): " + ", ".join(unknown))
    seeds = [int(s) for s in args.seeds.split(",") if s]

    report = {"benchmark": "workloads", "date": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": {"node": platform.node(), "cpus": os.cpu_count()},
              "subnets": args.subnets, "jobs": args.jobs, "seeds": seeds,
              "max_loss_points": args.max_loss, "workloads": {}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="cloudbook-workloads-") as workdir:
        for name in names:
            train_rows, test_rows = WORKLOADS.get(name, (60000, 10000))
            if args.quick:
                train_rows, test_rows = train_rows // 10, test_rows // 10
            train_rows = args.train_rows or train_rows
            test_rows = args.test_rows or test_rows
            runs = []
            try:
                project, limit_rows = prepare(name, workdir, train_rows)
                limits = (train_rows, test_rows) if limit_rows else None
                for seed in seeds:
                    log(f"{name}: seed {seed}, k={args.subnets}, {train_rows} train rows ...")
                    run = run_once(args.maker, project, args, seed, limits)
                    log(f"  original {run['original_accuracy']:.4f} in "
                        f"{run['original_train_seconds']:.1f} s; composed "
                        f"{run['composed_accuracy']:.4f}, slowest subnet "
                        f"{run['slowest_subnet_seconds']:.1f} s")
                    runs.append(run)
            except (RuntimeError, subprocess.SubprocessError, OSError, KeyError) as error:
                log(f"{name}: FAILED: {error}")
                report["workloads"][name] = {"error": str(error), "runs": runs}
                failed = True
                continue
            summary = summarise(runs)
            report["workloads"][name] = {"train_rows": train_rows, "test_rows": test_rows,
                                         "runs": runs, "summary": summary}

    log("")
    log(f"{'workload':<16} {'original':>16} {'composed':>16} {'delta':>8} {'speed-up':>9}")
    for name, entry in report["workloads"].items():
        if "summary" not in entry:
            log(f"{name:<16} failed")
            continue
        s = entry["summary"]
        speedup = f"{s['slowest_subnet_speedup']:.2f}x" if s["slowest_subnet_speedup"] else "-"
        log(f"{name:<16} {s['original_accuracy_mean']:.4f}+-{s['original_accuracy_spread']:.4f} "
            f"{s['composed_accuracy_mean']:.4f}+-{s['composed_accuracy_spread']:.4f} "
            f"{s['delta_points']:+7.2f} {speedup:>9}")
    for name, entry in report["workloads"].items():
        if "summary" in entry:
            ok = entry["summary"]["delta_points"] >= -args.max_loss
            log(f"{'PASS' if ok else 'MISS'} {name}: composed within {args.max_loss} points "
                f"of the original (delta {entry['summary']['delta_points']:+.2f})")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    log(f"results: {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
