#!/usr/bin/env python3
"""The README's two accuracy tables, from what danlu prints.

The first is `danlu validate scenarios/validation/modern --summary` (in
sample); the second is the leave-one-system-out table of `danlu calibrate
scenarios/calibration scenarios/validation/modern --cross-validate`.
Usage: python3 scripts/readme_tables.py BUILD_DIR [--check] [README.md]
With --check it changes nothing and exits 1 when the README differs.
"""

import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = [a for a in sys.argv[1:] if a != "--check"]
check = "--check" in sys.argv
danlu = os.path.join(os.path.abspath(args[0]), "danlu")
readme = args[1] if len(args) > 1 else os.path.join(root, "README.md")
HEADER = "| group | value | runs | MAPE | mean error | worst | refused |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"


def run(*command):
    out = subprocess.run([danlu, *command], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.split("\n")


def rows_after(lines, title_prefix, skip):
    """The table's rows as markdown: from the line after the title's rule to the blank line."""
    start = next(i for i, l in enumerate(lines) if l.startswith(title_prefix)) + skip
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append("| " + " | ".join(re.split(r"\s{2,}", line.strip())) + " |")
    return rows


in_sample = rows_after(run("validate", "scenarios/validation/modern", "--summary"), "group", 2)
with tempfile.TemporaryDirectory() as tmp:
    fit = run("calibrate", "scenarios/calibration", "scenarios/validation/modern", "--cross-validate", "-o",
              os.path.join(tmp, "fit.yaml"))
held_out = rows_after(fit, "Leave-one-system-out", 3)

text = open(readme).read()
starts = [m.end() for m in re.finditer(re.escape(HEADER), text)]
if len(starts) != 2:
    sys.exit(f"{readme}: expected the two accuracy tables, found {len(starts)}")
new = text
for start, rows in sorted(zip(starts, [in_sample, held_out]), reverse=True):
    end = new.index("\n\n", start)
    new = new[:start] + "\n".join(rows) + new[end:]
if check:
    if new != text:
        sys.exit(f"{readme}: the accuracy tables differ from what danlu prints; run scripts/readme_tables.py build")
    print("README accuracy tables match")
else:
    open(readme, "w").write(new)
