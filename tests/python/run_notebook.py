"""Runs the ```python blocks of a Markdown notebook in order, in one namespace,
from a fresh folder that holds the repository's scenarios/ (a link), and
checks the chart it saves is a PNG. Usage: run_notebook.py ROOT NOTEBOOK.md"""

import os
import re
import sys
import tempfile

root, notebook = sys.argv[1], sys.argv[2]
with open(notebook) as f:
    blocks = re.findall(r"^```python\n(.*?)^```", f.read(), flags=re.S | re.M)
assert blocks, f"{notebook} has no python blocks"
with tempfile.TemporaryDirectory() as tmp:
    os.symlink(os.path.join(root, "scenarios"), os.path.join(tmp, "scenarios"))
    os.chdir(tmp)
    namespace = {"__name__": "__notebook__"}
    for i, code in enumerate(blocks, 1):
        print(f"--- block {i}")
        exec(compile(code, f"{notebook} block {i}", "exec"), namespace)
    charts = [n for n in os.listdir(tmp) if n.endswith(".png")]
    assert charts, "the notebook saved no chart"
    for name in charts:
        with open(name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
        assert os.path.getsize(name) > 10_000, f"{name} is too small to hold a chart"
print(f"ran {len(blocks)} blocks, saved {len(charts)} chart(s)")
