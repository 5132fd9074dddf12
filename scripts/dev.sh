#!/usr/bin/env bash
# One entry point for the README's commands:
#   scripts/dev.sh flagship   install what is missing, build, run the flagship scenario
#   scripts/dev.sh test       install what is missing, build, run the whole test suite
#   scripts/dev.sh sanitize   the same suite built with ASan + UBSan (build-asan/)
#   scripts/dev.sh bench      build and run the benchmark program
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-2}
build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDANLU_MPI=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "${1:-}" in
  flagship)
    bash scripts/setup.sh
    build build
    ./build/danlu run scenarios/llama3-405b-h100.yaml
    ;;
  test)
    bash scripts/setup.sh
    build build
    (cd build && ctest --output-on-failure -j "$jobs")
    ;;
  sanitize)
    bash scripts/setup.sh
    # Without MPI: Open MPI's own allocations would read as leaks to LeakSanitizer.
    build build-asan -DDANLU_SANITIZE=ON -DDANLU_MPI=OFF
    (cd build-asan && ctest --output-on-failure -j "$jobs")
    ;;
  bench)
    bash scripts/setup.sh
    build build
    ./build/danlu_bench
    ;;
  *)
    echo "usage: scripts/dev.sh flagship|test|sanitize|bench" >&2
    exit 2
    ;;
esac
