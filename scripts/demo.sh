#!/usr/bin/env bash
# The main job: installs what is missing, builds, sets up a Fashion-MNIST project from
# configs/fashion_mlp, deconstructs the MLP into 3 subnets, trains them and the original
# network, and prints both test accuracies.
#   ./scripts/demo.sh [--home DIR] [--subnets N] [--train-limit N]
# The project goes to DIR/fashion_mlp (default: a fresh temporary cloudbook home).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CLOUDBOOK_BUILD_DIR:-$ROOT/build}"
HOME_DIR=""
SUBNETS=3
EXTRA=()
while (($# > 0)); do
  case "$1" in
    --home) HOME_DIR="$2"; shift 2 ;;
    --subnets) SUBNETS="$2"; shift 2 ;;
    --train-limit|--test-limit) EXTRA+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

"$ROOT/scripts/build.sh"

DATA=/usr/share/datasets/fashion-mnist
if [[ ! -f "$DATA/train-images-idx3-ubyte.gz" ]]; then
  echo "demo.sh: Fashion-MNIST is missing from $DATA (package dataset-fashion-mnist)" >&2
  exit 1
fi
HOME_DIR="${HOME_DIR:-$(mktemp -d -t cloudbook-home-XXXXXX)}"
PROJECT="$HOME_DIR/fashion_mlp"
mkdir -p "$PROJECT/distributed/working_dir"
cp -r "$ROOT/configs/fashion_mlp/original" "$PROJECT/"
ln -sfn "$DATA" "$PROJECT/distributed/working_dir/fashion-mnist"
echo "demo: project in $PROJECT"

"$BUILD_DIR/bin/cloudbook-maker" --project-folder "$PROJECT" --subnets "$SUBNETS" \
  --local --baseline --run-name demo "${EXTRA[@]}"

RESULTS="$PROJECT/distributed/results/demo.json"
/usr/bin/python3 - "$RESULTS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
composed = r["composed"]["metrics"]["accuracy"]
baseline = r["baseline"]["metrics"]["accuracy"]
print(f"\nFashion-MNIST MLP, {r['subnets_count']} subnets: composed test accuracy {composed:.4f}, "
      f"original network {baseline:.4f} ({100 * (composed - baseline):+.2f} points)")
PY
