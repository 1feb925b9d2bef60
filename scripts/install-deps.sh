#!/usr/bin/env bash
# Installs every Debian package cloudbook needs to build, test and run. Idempotent:
# packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libtorch-dev            # libtorch C++ frontend (CPU build in Debian)
  libopenblas0-pthread    # Debian's libtorch uses reference BLAS without it: 10x slower
  python3-torch           # the outside reference in bench/; tests load exported models with torch.jit.load
  python3-numpy
  libzmq3-dev cppzmq-dev  # tensor transport
  libsodium-dev           # agent announcement signatures (Ed25519)
  libmsgpack-cxx-dev      # wire headers
  libboost-filesystem-dev
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev         # the program format
  nlohmann-json3-dev      # DU files, du_list.json, results
  libcli11-dev            # command lines
  zlib1g-dev              # gzip IDX files
  libminizip-dev          # NumPy .npz archives (zip, stored or deflated)
  libgtest-dev libgmock-dev
  dataset-fashion-mnist   # Fashion-MNIST in IDX format under /usr/share/datasets
  libturbojpeg0-dev       # image-folder data: JPEG decoding (TurboJPEG API, TF's libjpeg-turbo)
  libspng-dev             # image-folder data: PNG decoding
  python3-torchvision     # bench/image_decode_bench: the reference (ImageFolder + DataLoader)
  python3-pil             # image tests and bench: PIL writes and reads reference PNG/JPEG files
  libpng-dev libjpeg62-turbo-dev  # image tests: libpng and libjpeg driven as TF drives them (references)
  tmux                    # scripts/cloudbook-start.sh (four panes)
  iproute2                # multi-host tests: hosts as network namespaces (ip netns)
  iptables                # multi-host tests: packet loss, partitions inside a namespace
  faketime                # clock-skew fault test: a helper agent with its wall clock hours off
  libnetfilter-queue-dev  # network-fault tests: added delay without netem (NFQUEUE)
  libnfs-dev              # fs_adapters: native NFS client for nfs:// shared folders
  nfs-ganesha nfs-ganesha-vfs  # NFS integration tests: userspace NFSv4 server on loopback
  rclone                  # fs_adapters: Google Drive / OneDrive / any rclone remote (rclone rcd)
  libcpp-httplib-dev      # fs_adapters: HTTP client for the rclone remote-control API
  libjs-chart.js          # cloudbook-dashboard: the page's charts (Chart.js, served as is)
  chromium                # dashboard tests: a real headless browser (tests/headless_browser.h)
  clang libclang-rt-14-dev ninja-build  # fuzzing (scripts/fuzz.sh): clang's libFuzzer
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
