#!/usr/bin/env bash
# The tree against .clang-format and .clang-tidy.
#   scripts/lint.sh format          every C++ file formatted (clang-format --dry-run)
#   scripts/lint.sh tidy BUILD_DIR  clang-tidy over every source of BUILD_DIR's
#                                   compile_commands.json, JOBS at a time
# Exits 1 and lists the findings when anything is off.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}

case "${1:-}" in
  format)
    git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
    echo "lint: every C++ file is formatted"
    ;;
  tidy)
    build=${2:?usage: scripts/lint.sh tidy BUILD_DIR}
    out=$(git ls-files '*.cpp' | grep -v '^tests/fuzz/' |
          xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null | grep -E 'warning:|error:' || true)
    if [ -n "$out" ]; then
      echo "$out" | sort -u
      exit 1
    fi
    echo "lint: clang-tidy clean"
    ;;
  *)
    echo "usage: scripts/lint.sh format | tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
