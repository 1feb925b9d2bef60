#!/usr/bin/python3
"""Serve benchmark: the composed model answering HTTP predict requests, three ways side by side.

In one invocation, on the Fashion-MNIST MLP of configs/fashion_mlp deconstructed into 3
subnets and trained by a real run over 3 local agents (LOW grant, 1 core each):

  local      cloudbook-serve --local: every subnet in the server's process;
  agents     cloudbook-serve (distributed): agent 0 fans each batch out to the 3 agents, each
             applies its DU's subnet, agent 0 composes;
  reference  the run's exported TorchScript file (cloudbook-maker export) behind a minimal
             Python HTTP server with torch.jit.load (bench/serve_reference.py): what a user
             would otherwise write. Same request and answer shape (TF Serving REST).

For batch 1 and batch 256 (raw test samples, 0..255, as the IDX file holds them), one client
sends requests one after another over a kept-alive connection; per server it reports the p50
and p99 latency of the whole round trip and the samples per second. Servers are measured in
rounds, every other round in reverse order (the machine is shared and noisy), and every answer
is checked: the three servers must predict the same classes.

Targets (PASS/MISS lines, from issue 18): local serve ahead of the Python reference (p50 and
samples/s, both batch sizes); distributed adds under 1 ms p50 over local at batch 1.

Every process the benchmark starts is stopped by its PID. Exit status: 0 when everything ran
(a MISS is reported, not an error); 1 when a step failed; 2 for a bad command line.

Run:  /usr/bin/python3 bench/serve_bench.py --train-limit 6000 --rounds 1   # quick
      /usr/bin/python3 bench/serve_bench.py                                 # results/serve.json
"""

import argparse
import gzip
import http.client
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import distributed_run_bench as drb  # noqa: E402  (its process and agent machinery)

REPO_ROOT = os.path.dirname(BENCH_DIR)
DEFAULT_OUTPUT = os.path.join(BENCH_DIR, "results", "serve.json")
MODEL_NAME = "fashion_mlp"
SERVERS = ("local", "agents", "reference")
BATCHES = (1, 256)
READY_TIMEOUT_S = 180
DISTRIBUTED_OVERHEAD_TARGET_MS = 1.0


def log(message):
    print(message, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise drb.BenchError("%s: not an IDX image file" % path)
        n = min(n, count)
        data = f.read(n * rows * cols)
    return [[[data[(i * rows + r) * cols + c] for c in range(cols)] for r in range(rows)]
            for i in range(n)]


class Client:
    """One kept-alive connection; post() returns (seconds, classes)."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, body):
        start = time.perf_counter()
        self.conn.request("POST", "/v1/models/%s:predict" % MODEL_NAME, body=body,
                          headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        payload = response.read()
        seconds = time.perf_counter() - start
        if response.status != 200:
            raise drb.BenchError("HTTP %d from port %d: %s" % (response.status, self.port,
                                                               payload[:300]))
        predictions = json.loads(payload)["predictions"]
        classes = [max(range(len(p)), key=p.__getitem__) for p in predictions]
        return seconds, classes

    def close(self):
        self.conn.close()


def wait_ready(port, proc, name, body):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise drb.BenchError("%s exited with %d before answering" % (name, proc.returncode))
        try:
            client = Client(port)
            client.post(body)
            client.close()
            return
        except (OSError, http.client.HTTPException, drb.BenchError):
            time.sleep(0.2)
    raise drb.BenchError("%s did not answer within %d s" % (name, READY_TIMEOUT_S))


def percentile(values, q):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100.0 * (len(ordered) - 1)))))
    return ordered[index]


def measure(port, body, requests, warmup):
    client = Client(port)
    try:
        for _ in range(warmup):
            client.post(body)
        seconds = []
        classes = None
        for _ in range(requests):
            s, classes = client.post(body)
            seconds.append(s)
        return seconds, classes
    finally:
        client.close()


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Benchmark cloudbook-serve (--local and over 3 agents) against the "
                    "exported model behind a minimal Python torch.jit.load server: p50/p99 "
                    "latency and samples/s at batch 1 and 256. Exit status: 0 ran (a MISS is "
                    "not an error), 1 a step failed, 2 bad command line.")
    p.add_argument("--bin", default=os.path.join(REPO_ROOT, "build", "bin"),
                   help="folder of the cloudbook binaries (default: <repo>/build/bin)")
    p.add_argument("--train-limit", type=int, default=0, metavar="N",
                   help="first N training samples for the run (default 0 = all 60000)")
    p.add_argument("--test-limit", type=int, default=1000, metavar="N",
                   help="first N test samples for the run (default %(default)s)")
    p.add_argument("--requests-1", type=int, default=300, metavar="N",
                   help="timed batch-1 requests per server and round (default %(default)s)")
    p.add_argument("--requests-256", type=int, default=30, metavar="N",
                   help="timed batch-256 requests per server and round (default %(default)s)")
    p.add_argument("--rounds", type=int, default=3, metavar="R",
                   help="rounds over the three servers, alternating order (default %(default)s)")
    p.add_argument("--out", default=DEFAULT_OUTPUT, help="JSON output (default: %(default)s)")
    p.add_argument("--data-dir", default=drb.DEFAULT_DATA, help="Fashion-MNIST IDX .gz files")
    p.add_argument("--timeout", type=int, default=3600, help="seconds the training run may take")
    p.add_argument("--keep-work", action="store_true", help="keep the temporary folder")
    args = p.parse_args(argv)
    for name in ("requests_1", "requests_256", "rounds"):
        if getattr(args, name) < 1:
            p.error("--%s must be >= 1" % name.replace("_", "-"))
    return args


def train_over_agents(bench, procs, tag):
    """A real run over 3 agents; leaves the agents running. Returns (project, launched)."""
    project = bench.make_project(tag)
    log_path = os.path.join(bench.logs, tag + ".log")
    code, _ = procs.run(bench.maker_argv(project), log_path, bench.env, "cloudbook-maker",
                        drb.MAKE_TIMEOUT_S)
    if code != 0:
        raise drb.BenchError("cloudbook-maker exited %d (log %s)" % (code, log_path))
    ids = []
    for i in range(3):
        argv = [bench.bin["cloudbook-agent"], "create", "--project-folder", project,
                "--grant", "LOW"] + (["--agent-0"] if i == 0 else [])
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=bench.env)
        if out.returncode != 0:
            raise drb.BenchError("cloudbook-agent create exited %d: %s"
                                 % (out.returncode, out.stderr.strip()))
        ids.append(out.stdout.strip())
    launched = []
    for agent_id in ids:
        argv = [bench.bin["cloudbook-agent"], "launch", "--project-folder", project,
                "--agent-id", agent_id]
        launched.append((agent_id, procs.start(argv, bench.agent_log(tag, agent_id), bench.env,
                                               "agent " + agent_id)))
    bench.wait_for_agents(project, launched, tag)
    code, _ = procs.run([bench.bin["cloudbook-deployer"], "--project-folder", project,
                         "--fast-start"], os.path.join(bench.logs, tag + "-deployer.log"),
                        bench.env, "cloudbook-deployer", drb.DEPLOYER_TIMEOUT_S)
    if code != 0:
        raise drb.BenchError("cloudbook-deployer exited %d" % code)
    run_log = os.path.join(bench.logs, tag + "-run.log")
    code, wall = procs.run([bench.bin["cloudbook-run"], "--project-folder", project,
                            "--run-name", "bench", "--progress", "plain",
                            "--timeout", str(bench.args.timeout)], run_log, bench.env,
                           "cloudbook-run", bench.args.timeout + 120)
    if code != 0:
        raise drb.BenchError("cloudbook-run exited %d (log %s)" % (code, run_log))
    log("trained over 3 agents in %.1f s" % wall)
    return project, launched


def main(argv=None):
    args = parse_args(argv)
    import signal
    signal.signal(signal.SIGINT, drb.on_signal)
    signal.signal(signal.SIGTERM, drb.on_signal)
    work = tempfile.mkdtemp(prefix="cloudbook-serve-bench-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    args.subnets = 3
    bench = drb.Bench(args, work, logs)
    bench.bin.update({name: os.path.join(args.bin, name)
                      for name in ("cloudbook-serve", "cloudbook-maker")})
    procs = bench.procs
    figures = {}
    failed = None
    try:
        for binary in list(drb.BINARIES) + ["cloudbook-serve"]:
            if not os.access(os.path.join(args.bin, binary), os.X_OK):
                raise drb.BenchError("%s/%s is missing: build first" % (args.bin, binary))
        project, _ = train_over_agents(bench, procs, "serve")
        results = drb.read_json(os.path.join(project, "distributed", "results", "bench.json"))
        model_pt = os.path.join(work, "model.pt")
        code, _ = procs.run([bench.bin["cloudbook-maker"], "export", "--project-folder", project,
                             "--run", "bench", "-o", model_pt],
                            os.path.join(logs, "export.log"), bench.env, "export", 600)
        if code != 0:
            raise drb.BenchError("cloudbook-maker export exited %d (log %s/export.log)"
                                 % (code, logs))

        images = read_idx_images(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz"), 256)
        bodies = {b: json.dumps({"instances": images[:b]}).encode() for b in BATCHES}

        ports = {name: free_port() for name in SERVERS}
        commands = {
            "local": [bench.bin["cloudbook-serve"], "--project-folder", project, "--run", "bench",
                      "--local", "--listen", "127.0.0.1:%d" % ports["local"]],
            "agents": [bench.bin["cloudbook-serve"], "--project-folder", project, "--run",
                       "bench", "--listen", "127.0.0.1:%d" % ports["agents"]],
            "reference": [sys.executable, os.path.join(BENCH_DIR, "serve_reference.py"),
                          "--model", model_pt, "--port", str(ports["reference"]),
                          "--threads", "1"],
        }
        servers = {}
        for name in SERVERS:
            servers[name] = procs.start(commands[name], os.path.join(logs, name + ".log"),
                                        bench.env, name)
        for name in SERVERS:
            wait_ready(ports[name], servers[name], name, bodies[1])
        log("servers ready: " + ", ".join("%s :%d" % (n, ports[n]) for n in SERVERS))

        samples = {n: {b: [] for b in BATCHES} for n in SERVERS}
        classes = {n: {} for n in SERVERS}
        for round_index in range(args.rounds):
            order = SERVERS if round_index % 2 == 0 else tuple(reversed(SERVERS))
            for batch in BATCHES:
                requests = args.requests_1 if batch == 1 else args.requests_256
                for name in order:
                    seconds, answer = measure(ports[name], bodies[batch], requests,
                                              warmup=max(3, requests // 10))
                    samples[name][batch].extend(seconds)
                    classes[name][batch] = answer
                    log("round %d batch %3d %-9s p50 %.3f ms" % (
                        round_index + 1, batch, name, 1000 * statistics.median(seconds)))
        agree = all(classes[n][b] == classes["reference"][b] for n in SERVERS for b in BATCHES)
        for name in SERVERS:
            figures[name] = {}
            for batch in BATCHES:
                s = samples[name][batch]
                figures[name][str(batch)] = {
                    "requests": len(s),
                    "p50_ms": 1000 * statistics.median(s),
                    "p99_ms": 1000 * percentile(s, 99),
                    "samples_per_second": batch * len(s) / sum(s),
                }
    except (drb.BenchError, drb.Interrupted, OSError, subprocess.SubprocessError) as error:
        failed = str(error)
        log("FAILED: %s" % failed)
    finally:
        procs.stop_all()

    if failed:
        if not args.keep_work:
            log("logs kept in %s" % logs)
        return 1

    log("")
    log("%-10s %6s %10s %10s %12s" % ("server", "batch", "p50 ms", "p99 ms", "samples/s"))
    for name in SERVERS:
        for batch in BATCHES:
            f = figures[name][str(batch)]
            log("%-10s %6d %10.3f %10.3f %12.0f" % (name, batch, f["p50_ms"], f["p99_ms"],
                                                    f["samples_per_second"]))
    targets = []
    for batch in BATCHES:
        local, ref = figures["local"][str(batch)], figures["reference"][str(batch)]
        ratio = ref["p50_ms"] / local["p50_ms"]
        targets.append({"name": "local serve ahead of the Python reference at batch %d" % batch,
                        "p50_ratio_reference_over_local": ratio,
                        "throughput_ratio_local_over_reference":
                            local["samples_per_second"] / ref["samples_per_second"],
                        "pass": local["p50_ms"] < ref["p50_ms"]
                        and local["samples_per_second"] > ref["samples_per_second"]})
    added = figures["agents"]["1"]["p50_ms"] - figures["local"]["1"]["p50_ms"]
    targets.append({"name": "distributed adds under %.0f ms p50 at batch 1"
                            % DISTRIBUTED_OVERHEAD_TARGET_MS,
                    "added_p50_ms": added, "pass": added < DISTRIBUTED_OVERHEAD_TARGET_MS})
    targets.append({"name": "the three servers predict the same classes", "pass": agree})
    log("")
    for t in targets:
        detail = ", ".join("%s %.3f" % (k, v) for k, v in t.items()
                           if isinstance(v, float))
        log("%s  %s%s" % ("PASS" if t["pass"] else "MISS", t["name"],
                          " (" + detail + ")" if detail else ""))

    report = {"benchmark": "serve", "utc": drb.utc_now(), "git": drb.git_info(),
              "machine": drb.machine_info(), "load_average_1m_at_end": os.getloadavg()[0],
              "arguments": vars(args), "run_composed_metrics": results["composed"]["metrics"],
              "commands": {n: " ".join(c) for n, c in commands.items()},
              "figures": figures, "targets": targets}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    log("results in %s" % args.out)
    if not args.keep_work:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    else:
        log("work kept in %s" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
