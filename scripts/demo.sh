#!/usr/bin/env bash
# The main job: installs what is missing, builds, sets up a Fashion-MNIST project from
# configs/fashion_mlp, deconstructs the MLP into 3 subnets, and trains them across three
# local agents (agent 0 HIGH, one MEDIUM, one LOW) with the deployer watching; then trains
# the original network on agent 0 and prints both test accuracies. Stops everything it started.
#   ./scripts/demo.sh [--home DIR] [--subnets N] [--train-limit N] [--test-limit N] [--kill-one]
#                     [--dashboard ADDRESS:PORT] [--stay]
# --home DIR    the cloudbook home; the project goes to DIR/fashion_mlp (default: a fresh
#               temporary folder)
# --kill-one    SIGKILL the LOW agent in the middle of training: the deployer moves its DU and
#               the run completes, resuming that DU from its last checkpoint
# --dashboard A:P  where cloudbook-dashboard serves the project's page during the run
#               (default 127.0.0.1:8750; port 0 = any free port)
# --stay        keep the agents and the dashboard running after the run, until Ctrl-C
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CLOUDBOOK_BUILD_DIR:-$ROOT/build}"
HOME_DIR=""
SUBNETS=3
KILL_ONE=0
DASHBOARD_LISTEN=127.0.0.1:8750
STAY=0
EXTRA=()
while (($# > 0)); do
  case "$1" in
    --home) HOME_DIR="$2"; shift 2 ;;
    --subnets) SUBNETS="$2"; shift 2 ;;
    --train-limit|--test-limit) EXTRA+=("$1" "$2"); shift 2 ;;
    --kill-one) KILL_ONE=1; shift ;;
    --dashboard) DASHBOARD_LISTEN="$2"; shift 2 ;;
    --stay) STAY=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

"$ROOT/scripts/build.sh"
BIN="$BUILD_DIR/bin"

DATA=/usr/share/datasets/fashion-mnist
if [[ ! -f "$DATA/train-images-idx3-ubyte.gz" ]]; then
  echo "demo.sh: Fashion-MNIST is missing from $DATA (package dataset-fashion-mnist)" >&2
  exit 1
fi
HOME_DIR="${HOME_DIR:-$(mktemp -d -t cloudbook-home-XXXXXX)}"
PROJECT="$HOME_DIR/fashion_mlp"
LOGS="$PROJECT/logs"
if [[ -d "$PROJECT/agents" ]] && ls "$PROJECT"/agents/*.pid >/dev/null 2>&1; then
  echo "demo.sh: $PROJECT has running agents (agents/*.pid); stop them or use another --home" >&2
  exit 1
fi
rm -rf "$PROJECT"
mkdir -p "$PROJECT/distributed/working_dir" "$LOGS"
cp -r "$ROOT/configs/fashion_mlp/original" "$PROJECT/"
ln -sfn "$DATA" "$PROJECT/distributed/working_dir/fashion-mnist"
# Short intervals: agents are found in a second or two, a lost one within six seconds.
cat >"$PROJECT/distributed/config.json" <<'JSON'
{"announce_interval_s": 1, "stats_interval_s": 1, "heartbeat_interval_s": 1,
 "liveness_timeout_s": 6}
JSON
echo "demo: project in $PROJECT (logs in $LOGS)"

STARTED=()
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

"$BIN/cloudbook-maker" --project-folder "$PROJECT" --subnets "$SUBNETS" "${EXTRA[@]}"

# The dashboard: agents, live stats and training curves in a browser while the run goes.
"$BIN/cloudbook-dashboard" --project-folder "$PROJECT" --listen "$DASHBOARD_LISTEN" \
  --port-file "$LOGS/dashboard.port" >"$LOGS/dashboard.log" 2>&1 &
STARTED+=($!)
for _ in $(seq 1 100); do [[ -s "$LOGS/dashboard.port" ]] && break; sleep 0.1; done
if [[ -s "$LOGS/dashboard.port" ]]; then
  echo "demo: dashboard at http://${DASHBOARD_LISTEN%:*}:$(cat "$LOGS/dashboard.port")/"
else
  echo "demo: the dashboard did not start (see $LOGS/dashboard.log); going on without it" >&2
fi

AGENT0=$("$BIN/cloudbook-agent" create --project-folder "$PROJECT" --grant HIGH --agent-0)
AGENT1=$("$BIN/cloudbook-agent" create --project-folder "$PROJECT" --grant MEDIUM)
AGENT2=$("$BIN/cloudbook-agent" create --project-folder "$PROJECT" --grant LOW)
declare -A AGENT_PID
for id in "$AGENT0" "$AGENT1" "$AGENT2"; do
  "$BIN/cloudbook-agent" launch --project-folder "$PROJECT" --agent-id "$id" \
    >"$LOGS/$id.log" 2>&1 &
  AGENT_PID[$id]=$!
  STARTED+=($!)
done
echo "demo: agents $AGENT0 (HIGH), $AGENT1 (MEDIUM), $AGENT2 (LOW) launched"

# Agents load libtorch and measure their speed before announcing "running".
for _ in $(seq 1 600); do
  /usr/bin/python3 - "$PROJECT" "$AGENT0" "$AGENT1" "$AGENT2" <<'PY' && break
import json, sys
folder = sys.argv[1] + "/distributed/agents/"
try:
    sys.exit(0 if all(json.load(open(folder + a + ".json"))["status"] == "running"
                      for a in sys.argv[2:]) else 1)
except (OSError, ValueError, KeyError):
    sys.exit(1)
PY
  sleep 0.1
done

# The deployer looks at the announcements for two intervals, assigns, and keeps watching.
"$BIN/cloudbook-deployer" --project-folder "$PROJECT" -s 1 >"$LOGS/deployer.log" 2>&1 &
STARTED+=($!)
for _ in $(seq 1 300); do
  [[ -f "$PROJECT/distributed/assignment.json" ]] && break
  sleep 0.1
done
[[ -f "$PROJECT/distributed/assignment.json" ]] || {
  echo "demo.sh: no assignment after 30 s; see $LOGS/deployer.log" >&2
  exit 1
}

if ((KILL_ONE)); then
  # Once the LOW agent's DU has a checkpoint (an epoch finished), kill it without warning.
  (
    for _ in $(seq 1 3000); do
      if /usr/bin/python3 - "$PROJECT" "$AGENT2" <<'PY'; then break; fi
import json, os, sys
project, victim = sys.argv[1], sys.argv[2]
a = json.load(open(os.path.join(project, "distributed/assignment.json")))
dus = [d["du"] for d in a["dus"] if d["agent"] == victim]
ok = any(os.path.isdir(os.path.join(project, f"distributed/checkpoints/du_{d}")) and
         os.listdir(os.path.join(project, f"distributed/checkpoints/du_{d}")) for d in dus)
sys.exit(0 if ok else 1)
PY
      sleep 0.2
    done
    echo "demo: SIGKILL $AGENT2 (pid ${AGENT_PID[$AGENT2]}) in the middle of its training"
    kill -KILL "${AGENT_PID[$AGENT2]}" 2>/dev/null || true
  ) &
  STARTED+=($!)
fi

"$BIN/cloudbook-run" --project-folder "$PROJECT" --run-name demo --baseline

/usr/bin/python3 - "$PROJECT/distributed/results/demo.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
composed = r["composed"]["metrics"]["accuracy"]
baseline = r["baseline"]["metrics"]["accuracy"]
where = ", ".join(f"DU {d['du']} on {' -> '.join(d['agents'])}" for d in r["dus"])
print(f"\nFashion-MNIST MLP, {r['subnets_count']} subnets over agents ({where}):\n"
      f"composed test accuracy {composed:.4f}, original network {baseline:.4f} "
      f"({100 * (composed - baseline):+.2f} points)")
PY

if ((STAY)); then
  echo "demo: agents and dashboard keep running; Ctrl-C stops them"
  trap 'exit 0' INT TERM
  while true; do sleep 1; done
fi
