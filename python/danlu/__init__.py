"""danlu (丹炉): cluster hardware simulator and capacity planner for LLM training.

The same engine as the `danlu` command, called from Python:

    import danlu
    r = danlu.run("scenarios/llama3-405b-h100.yaml", overrides={"training.precision": "fp8"})
    r["step"]["time_s"], r["cost"]["capex_usd"]

A scenario is a file path or a dict shaped like the YAML (docs/scenario.md);
results are the dicts docs/report.md defines. Bad input raises
danlu.InputError (a ValueError) with the message the command line prints:
file:line:col (for a dict, its key path), the field's path, what was expected
and what was found. An output that cannot be written raises danlu.OutputError
(an OSError); work stopped at a budget, danlu.BudgetError.
"""

import json
import os

from . import _danlu
from ._danlu import BudgetError, InputError, OutputError

InputError.__module__ = BudgetError.__module__ = OutputError.__module__ = "danlu"

__all__ = ["run", "sweep", "search", "catalog", "calibrate", "InputError", "BudgetError", "OutputError"]


def _scenario(scenario):
    """(source, is_text): a path as is, a dict as JSON text (JSON is YAML)."""
    if isinstance(scenario, dict):
        return json.dumps(scenario, indent=1), True
    if isinstance(scenario, (str, os.PathLike)):
        return os.fspath(scenario), False
    raise TypeError(f"scenario: expected a file path or a dict, found {type(scenario).__name__}")


def _overrides(overrides):
    """["PATH=VALUE", ...] from a dict {path: value} or a list of such strings."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{path}={json.dumps(value)}" for path, value in overrides.items()]
    if isinstance(overrides, (list, tuple)) and all(isinstance(o, str) for o in overrides):
        return list(overrides)
    raise TypeError("overrides: expected a dict {path: value} or a list of 'path=value' strings")


def _calibration(calibration):
    return "" if calibration is None else os.fspath(calibration)


def run(scenario, overrides=None, engine=None, calibration=None):
    """One training step of `scenario`: the report dict of docs/report.md.

    overrides: {"training.precision": "fp8", "cluster.gpus": 8192} (what --set does).
    engine: "analytic" or "des" (default: the scenario's sim.engine).
    calibration: a profile written by calibrate(), or "none" (default: built in).
    """
    source, is_text = _scenario(scenario)
    return json.loads(_danlu.run(source, is_text, _overrides(overrides), engine or "", _calibration(calibration)))


def sweep(scenario, overrides=None, engine=None, calibration=None):
    """Every point of the scenario's sweep: block, yielded as each is evaluated.

    Each row is {"point": "path=value, ...", "status": "ok" | "does-not-fit" |
    "invalid", ...the report, "layout": {...}}; an invalid point has "error".
    """
    source, is_text = _scenario(scenario)
    points = _danlu.Sweep(source, is_text, _overrides(overrides), engine or "", _calibration(calibration))
    for i in range(len(points)):
        yield json.loads(points.row(i))


def search(scenario, overrides=None, objective="time", top=10, calibration=None):
    """The best `top` parallel layouts by objective ("time", "cost" or "energy").

    A layout field given in overrides is fixed; the scenario's search: block
    limits the rest. Each result is a report dict with its "layout".
    """
    source, is_text = _scenario(scenario)
    return json.loads(_danlu.search(source, is_text, _overrides(overrides), objective, int(top),
                                    _calibration(calibration)))


def catalog(kind=None, name=None):
    """The built-in catalog: {kind: [names]}; all entries of a kind
    ("accelerators", "systems", "fabrics", "models"); or one entry."""
    if name is not None and kind is None:
        raise TypeError("catalog: a name needs its kind, e.g. catalog('systems', 'dgx-h100')")
    return json.loads(_danlu.catalog(kind or "", name or ""))


def calibrate(paths, cross_validate=False, output=None):
    """Fit a calibration profile to scenarios with `measured:` figures.

    paths: files or directories (searched recursively). Returns the fitted
    values, the in-sample error ({"runs", "mape", ...}) and, with
    cross_validate, the leave-one-system-out error; "profile_yaml" is the
    profile, also written to `output` when given (use it as calibration=).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return json.loads(_danlu.calibrate([os.fspath(p) for p in paths], bool(cross_validate),
                                       "" if output is None else os.fspath(output)))
