#!/usr/bin/env bash
# Runs the libFuzzer targets for SECONDS each, two at a time (one per core):
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
targets="scenario set hf"
for target in $targets; do mkdir -p "$corpus/$target"; done
mkdir -p "$findings"

# Seeds for whole files: every scenario and every bad one, and the flagship
# followed by a second document, a second mapping or text (trailing content).
while IFS= read -r f; do
  cp "$f" "$corpus/scenario/seed-$(echo "$f" | tr '/' '_')"
done < <(find scenarios tests/bad -name '*.yaml' | sort)
flow='{name: t, model: {preset: llama3-8b}, cluster: {system: dgx-h100, gpus: 8}, training: {global_batch: 8}}'
k=0
for tail in ' {cluster: {gpus: 999999999}}' $'\ncluster: {gpus: 9}' ' plain text' $'\n---\nname: x'; do
  k=$((k + 1))
  printf '%s%s' "$flow" "$tail" > "$corpus/scenario/seed-trailing-$k"
done

# Seeds for --set: each effective field of a dense and an MoE scenario as
# PATH=VALUE (the value danlu itself printed), one per file; and a dictionary
# of every key and value word, so mutations stay near the schema.
explain() {
  for s in scenarios/llama3-405b-h100.yaml scenarios/compare/moe/gb200-nvl72.yaml; do
    "$danlu" check "$s" --explain | tail -n +2
  done
}
# Each field also at the extremes: the largest int32 and int64, zero, a
# negative, a denormal and a huge float.
n=0
while read -r path value _; do
  [ -n "$path" ] || continue
  n=$((n + 1))
  printf '%s=%s' "$path" "$value" > "$corpus/set/seed-$n"
  printf '%s=2147483647\n%s=9223372036854775807' "$path" "$path" > "$corpus/set/seed-$n-max"
  printf '%s=0\n%s=-1\n%s=1e-320\n%s=1e308' "$path" "$path" "$path" "$path" > "$corpus/set/seed-$n-edge"
done < <(explain)

# Seeds for a config.json with --set lines: each config of tests/data/hf,
# alone, with a layout change, and with a second object after it.
for f in tests/data/hf/*.json; do
  name=$(basename "$f" .json)
  { printf '\n\n'; cat "$f"; } > "$corpus/hf/seed-$name"
  { printf 'training.precision=fp8\ntraining.parallelism.tp=4\n\n'; cat "$f"; } > "$corpus/hf/seed-$name-set"
  { printf '\n\n'; cat "$f"; printf ' {"num_hidden_layers": 2147483647}'; } > "$corpus/hf/seed-$name-two"
done
{
  explain | awk '{print $1}' | tr '.' '\n'
  explain | awk '{print $2}'
  printf '%s\n' extends preset sweep null true false '&a' '*a' '<<' '[' ']' '{' '}' '1e308' '-1' 0 2147483648 \
    2147483647 9223372036854775807 4294967296 1e-320 1e-300 '---' '...' num_hidden_layers hidden_size \
    intermediate_size num_attention_heads num_key_value_heads vocab_size num_experts n_routed_experts
} | sort -u | grep -v '^$' | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/' > "$fuzz/danlu.dict"

echo "fuzz: $(ls "$corpus/scenario" | wc -l) scenario, $(ls "$corpus/set" | wc -l) --set and" \
     "$(ls "$corpus/hf" | wc -l) config.json inputs in the corpora, $(wc -l < "$fuzz/danlu.dict") dictionary words;" \
     "${seconds} s per target"
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
run() {  # run TARGET: one target for SECONDS; a finding makes it fail
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: over 2 GB is a blow-up.
  "$fuzz/tests/fuzz/fuzz_$1" "$corpus/$1" -dict="$fuzz/danlu.dict" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/$1-" \
    > "$fuzz/fuzz_$1.log" 2>&1
}
# Two at a time: the machines have two cores.
run scenario & first=$!
run set & second=$!
wait $first || status=1
run hf & third=$!
wait $second || status=1
wait $third || status=1
for target in $targets; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$fuzz/fuzz_$target.log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz_$target: $runs executions"
done
if ((status != 0)) || [ -n "$(ls -A "$findings")" ]; then
  echo "fuzz: FINDINGS (inputs in $findings):" >&2
  ls "$findings" >&2
  for target in $targets; do grep -E 'ERROR|finding|SUMMARY|runtime error' "$fuzz/fuzz_$target.log" >&2 || true; done
  exit 1
fi
echo "fuzz: no findings"
