#!/usr/bin/env python3
"""Re-runs the commands the README shows and puts their real output back.

A fenced block whose first line is `$ COMMAND` gets COMMAND's output (run
from the repository root with build/ on PATH); the tour's first block is the
flagship run, and the catalog's block is `danlu catalog systems`. Review the
diff like any other change: the README must show what danlu prints.
Usage: python3 scripts/readme_outputs.py [README.md]
"""

import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
readme = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "README.md")
env = dict(os.environ, PATH=os.path.join(root, "build") + os.pathsep + os.environ["PATH"])
# Blocks shown without their command line, by the command that makes them.
silent = {
    "llama3-405b-h100-16k  (analytic engine)": "danlu run scenarios/llama3-405b-h100.yaml",
    "name         accelerator    per node": "danlu catalog systems",
}


def run(command):
    out = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True)
    return (out.stdout + out.stderr).rstrip("\n")


text = open(readme).read()


def redo(match):
    fence, body = match.group(1), match.group(2)
    lines = body.split("\n")
    if lines[0].startswith("$ "):
        return f"{fence}\n{lines[0]}\n{run(lines[0][2:])}\n```"
    for start, command in silent.items():
        if lines[0].startswith(start):
            return f"{fence}\n{run(command)}\n```"
    return match.group(0)


text = re.sub(r"^(```[a-z]*)\n(.*?)\n```", redo, text, flags=re.S | re.M)
open(readme, "w").write(text)
