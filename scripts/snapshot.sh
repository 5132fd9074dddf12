#!/usr/bin/env bash
# Writes every output a refactor must leave unchanged into OUT_DIR, one file
# per command, so that two checkouts can be held against each other with
# `diff -r`: each scenario's JSON from both engines (DES folded), `check
# --explain`, validation and calibration tables, a layout search, the HF
# imports and the catalog.
#
#   bash scripts/snapshot.sh build /tmp/before
#   ... change the code, rebuild ...
#   bash scripts/snapshot.sh build /tmp/after && diff -r /tmp/before /tmp/after
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/snapshot.sh BUILD_DIR OUT_DIR}
out=${2:?usage: scripts/snapshot.sh BUILD_DIR OUT_DIR}
danlu=$build/danlu
mkdir -p "$out"

# A command's stdout and exit status (an error message is an output too).
keep() {  # keep NAME COMMAND...
  local name=$1; shift
  local status=0
  "$@" >"$out/$name" 2>&1 || status=$?
  echo "exit $status" >>"$out/$name"
}

while IFS= read -r f; do
  name=${f//\//_}
  keep "$name.analytic.json" "$danlu" run "$f" --format json
  case "$f" in
    # Every published run in the DES would take minutes; the folded DES of
    # the rest covers its schedule and platform.
    scenarios/validation/*) ;;
    *) keep "$name.des.json" "$danlu" run "$f" --format json --engine des ;;
  esac
  keep "$name.explain" "$danlu" check "$f" --explain
done < <(find scenarios -name '*.yaml' | sort)

keep validate-modern.csv "$danlu" validate scenarios/validation/modern --format csv
keep validate-selene.csv "$danlu" validate scenarios/calibration --format csv
keep calibrate.csv "$danlu" calibrate scenarios/calibration scenarios/validation/modern --format csv
keep search-flagship.json "$danlu" search scenarios/llama3-405b-h100.yaml --format json --top 20
keep search-moe.json "$danlu" search scenarios/compare/moe/gb200-nvl72.yaml --format json --top 20
for f in tests/data/hf/*.json; do keep "import-$(basename "$f").yaml" "$danlu" import hf "$f"; done
keep catalog-models "$danlu" catalog models
keep schema "$danlu" schema
echo "snapshot: $(ls "$out" | wc -l) outputs in $out"
