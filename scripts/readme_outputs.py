#!/usr/bin/env python3
"""Re-runs the commands the README shows and puts their real output back.

A fenced block whose first line is `$ COMMAND` gets COMMAND's output (run
from the repository root with BUILD_DIR on PATH); the tour's first block is
the flagship run, and the catalog's block is `danlu catalog systems`. Review
the diff like any other change: the README must show what danlu prints.
With --check nothing is written: exit 1 when a block differs, after masking
the few figures that are wall-clock times (VOLATILE below).
Usage: python3 scripts/readme_outputs.py [BUILD_DIR] [--check] [README.md]
"""

import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = [a for a in sys.argv[1:] if a != "--check"]
check = "--check" in sys.argv[1:]
build = os.path.abspath(args[0]) if args else os.path.join(root, "build")
readme = args[1] if len(args) > 1 else os.path.join(root, "README.md")
env = dict(os.environ, PATH=build + os.pathsep + os.environ["PATH"],
           PYTHONPATH=os.path.join(build, "python") + os.pathsep + os.environ.get("PYTHONPATH", ""))
# Blocks shown without their command line, by the command that makes them.
silent = {
    "llama3-405b-h100-16k  (analytic engine)": "danlu run scenarios/llama3-405b-h100.yaml",
    "name         accelerator    per node": "danlu catalog systems",
}
# Wall-clock figures, which differ from run to run.
VOLATILE = [r"searched in [0-9.]+ s \([0-9]+ layouts/s\)"]


def run(command):
    # The README's Python line sets PYTHONPATH=build/python itself.
    command = command.replace("PYTHONPATH=build/python ", "")
    out = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True)
    return (out.stdout + out.stderr).rstrip("\n")


def redo(match):
    fence, body = match.group(1), match.group(2)
    lines = body.split("\n")
    if lines[0].startswith("$ "):
        return f"{fence}\n{lines[0]}\n{run(lines[0][2:])}\n```"
    for start, command in silent.items():
        if lines[0].startswith(start):
            return f"{fence}\n{run(command)}\n```"
    return match.group(0)


def masked(text):
    for pattern in VOLATILE:
        text = re.sub(pattern, "<wall time>", text)
    return text


text = open(readme).read()
new = re.sub(r"^(```[a-z]*)\n(.*?)\n```", redo, text, flags=re.S | re.M)
if not check:
    open(readme, "w").write(new)
elif masked(new) != masked(text):
    old_lines, new_lines = masked(text).split("\n"), masked(new).split("\n")
    for i, (a, b) in enumerate(zip(old_lines, new_lines)):
        if a != b:
            sys.exit(f"{readme}:{i + 1}: the README shows\n  {a}\nbut danlu prints\n  {b}\n"
                     f"run: python3 scripts/readme_outputs.py {os.path.relpath(build, root)}")
    sys.exit(f"{readme}: an output block changed length; run scripts/readme_outputs.py")
