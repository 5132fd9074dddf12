#!/usr/bin/env bash
# Runs the libFuzzer targets for SECONDS each, both at once (one per core):
#   scripts/fuzz.sh BUILD FUZZ_BUILD SECONDS
# BUILD holds a normal danlu (it lists every field of the scenarios for the
# seeds and the dictionary); FUZZ_BUILD the targets (scripts/dev.sh fuzz).
# The corpora persist in FUZZ_BUILD/corpus/ between runs. Exit 1 on any
# finding, with the inputs kept in FUZZ_BUILD/findings/: reproduce one with
#   FUZZ_BUILD/tests/fuzz/fuzz_scenario FUZZ_BUILD/findings/<file>
# then add the input as a regression case in tests/bad/.
set -euo pipefail
cd "$(dirname "$0")/.."
danlu=$1/danlu
fuzz=$2
seconds=$3
corpus=$fuzz/corpus
findings=$fuzz/findings
mkdir -p "$corpus/scenario" "$corpus/set" "$findings"

# Seeds for whole files: every scenario and every bad one.
while IFS= read -r f; do
  cp "$f" "$corpus/scenario/seed-$(echo "$f" | tr '/' '_')"
done < <(find scenarios tests/bad -name '*.yaml' | sort)

# Seeds for --set: each effective field of a dense and an MoE scenario as
# PATH=VALUE (the value danlu itself printed), one per file; and a dictionary
# of every key and value word, so mutations stay near the schema.
explain() {
  for s in scenarios/llama3-405b-h100.yaml scenarios/compare/moe/gb200-nvl72.yaml; do
    "$danlu" check "$s" --explain | tail -n +2
  done
}
n=0
while read -r path value _; do
  [ -n "$path" ] || continue
  n=$((n + 1))
  printf '%s=%s' "$path" "$value" > "$corpus/set/seed-$n"
done < <(explain)
{
  explain | awk '{print $1}' | tr '.' '\n'
  explain | awk '{print $2}'
  printf '%s\n' extends preset sweep null true false '&a' '*a' '<<' '[' ']' '{' '}' '1e308' '-1' 0 2147483648
} | sort -u | grep -v '^$' | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/' > "$fuzz/danlu.dict"

echo "fuzz: $(ls "$corpus/scenario" | wc -l) scenario and $(ls "$corpus/set" | wc -l) --set inputs in the corpora," \
     "$(wc -l < "$fuzz/danlu.dict") dictionary words; ${seconds} s per target"
# A finding from an earlier run stays until its input passes: replay each one,
# and move those that pass (fixed since) to fixed/, so they stop failing runs.
mkdir -p "$fuzz/fixed"
for f in "$findings"/*; do
  [ -e "$f" ] || continue
  target=$(basename "$f" | cut -d- -f1)
  if "$fuzz/tests/fuzz/fuzz_$target" "$f" > /dev/null 2>&1; then
    echo "fuzz: $(basename "$f") passes now; moved to $fuzz/fixed/"
    mv "$f" "$fuzz/fixed/"
  fi
done
status=0
pids=()
for target in scenario set; do
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: over 2 GB is a blow-up.
  "$fuzz/tests/fuzz/fuzz_$target" "$corpus/$target" -dict="$fuzz/danlu.dict" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/$target-" \
    > "$fuzz/fuzz_$target.log" 2>&1 &
  pids+=($!)
done
for i in 0 1; do wait "${pids[$i]}" || status=1; done
for target in scenario set; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$fuzz/fuzz_$target.log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz_$target: $runs executions"
done
if ((status != 0)) || [ -n "$(ls -A "$findings")" ]; then
  echo "fuzz: FINDINGS (inputs in $findings):" >&2
  ls "$findings" >&2
  for target in scenario set; do grep -E 'ERROR|finding|SUMMARY' "$fuzz/fuzz_$target.log" >&2 || true; done
  exit 1
fi
echo "fuzz: no findings"
