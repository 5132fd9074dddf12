#!/usr/bin/env bash
# Installs the Debian packages danlu builds and tests with. Idempotent: when
# everything is present it changes nothing and touches no network.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libsimgrid-dev        # the discrete-event engine
  libboost-graph-dev    # cluster graphs
  libyaml-cpp-dev       # scenarios and catalog
  libfmt-dev            # all formatting
  libcli11-dev          # the command line
  doctest-dev           # tests
  nlohmann-json3-dev    # JSON output
  zlib1g-dev            # gzip for DES traces named *.gz
  libgoogle-perftools-dev   # tcmalloc: the DES allocates millions of small objects a step
  chromium              # the report test renders the HTML page headless
  libopenmpi-dev openmpi-bin   # sweeps sharded over MPI ranks (-DDANLU_MPI=ON)
  clang libclang-rt-dev        # libFuzzer and the sanitizers for scripts/dev.sh fuzz
  clang-format clang-tidy      # scripts/lint.sh: the house style and the checks
  pybind11-dev python3-dev     # import danlu (python/)
  python3-pandas python3-matplotlib   # the notebook test (docs/notebook.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
