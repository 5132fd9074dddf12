#!/bin/bash
# Regenerates docs/scenario.md's field reference from the scenario schema
# (scenario/schema.cpp) with `danlu schema --format markdown`. The test
# "schema: docs/scenario.md holds the declaration" fails until this is run
# after a change to the declaration.
set -euo pipefail
cd "$(dirname "$0")/.."
danlu=${1:-build/danlu}
doc=docs/scenario.md
table=$("$danlu" schema --format markdown)
python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin = text.index("<!-- schema:begin")
begin = text.index("\n", begin) + 1
end = text.index("<!-- schema:end -->")
open(path, "w").write(text[:begin] + table + "\n" + text[end:])
PY
echo "regenerated $doc"
