#!/usr/bin/env bash
# One entry point for the README's commands:
#   scripts/dev.sh flagship   install what is missing, build, run the flagship scenario
#   scripts/dev.sh test       install what is missing, build, run the whole test suite
#   scripts/dev.sh sanitize   the same suite built with ASan + UBSan (build-asan/)
#   scripts/dev.sh bench      build and run the benchmark program (best and
#                             median of 5, with the ratio to bench/baseline.json)
#   scripts/dev.sh fuzz [S]   build the libFuzzer targets (clang, ASan + UBSan,
#                             build-fuzz/) and run each for S seconds (60)
#   scripts/dev.sh tidy       clang-tidy (.clang-tidy) over every source
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-2}
build() {  # build DIR [cmake options...] [--target T...]
  local dir=$1; shift
  local options=() targets=()
  while (($#)); do
    if [ "$1" = --target ]; then targets=("$@"); break; fi
    options+=("$1"); shift
  done
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDANLU_MPI=ON "${options[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
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
  fuzz)
    seconds=${2:-60}
    bash scripts/setup.sh
    build build  # its danlu lists every field for the seeds and the dictionary
    CXX=clang++ build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDANLU_FUZZ=ON -DDANLU_TESTS=OFF \
      -DDANLU_MPI=OFF --target fuzz_scenario fuzz_set fuzz_hf
    bash scripts/fuzz.sh build build-fuzz "$seconds"
    ;;
  tidy)
    bash scripts/setup.sh
    build build -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    bash scripts/lint.sh tidy build
    ;;
  *)
    echo "usage: scripts/dev.sh flagship|test|sanitize|bench|fuzz [SECONDS]|tidy" >&2
    exit 2
    ;;
esac
