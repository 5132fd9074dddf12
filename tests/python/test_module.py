"""`import danlu` against the command line and against hand figures.

Run by ctest with PYTHONPATH=build/python, DANLU_SOURCE_DIR and DANLU_BINARY
(the `danlu` executable the module must agree with).
"""

import json
import os
import subprocess
import tempfile
import unittest

import danlu

ROOT = os.environ["DANLU_SOURCE_DIR"]
BINARY = os.environ["DANLU_BINARY"]
FLAGSHIP = os.path.join(ROOT, "scenarios", "llama3-405b-h100.yaml")
SWEEP = os.path.join(ROOT, "scenarios", "sweeps", "llama3-70b-systems.yaml")

# Llama 3 8B on one DGX H100, written as a dict.
SMALL = {
    "name": "llama3-8b-dgx",
    "model": {"preset": "llama3-8b", "seq_len": 8192},
    "cluster": {"system": "dgx-h100", "gpus": 8},
    "training": {"global_batch": 64, "parallelism": {"tp": 1, "pp": 1}},
}


def cli(*args):
    out = subprocess.run([BINARY, *args], check=True, capture_output=True, text=True)
    return out.stdout


class Run(unittest.TestCase):
    def test_same_report_as_the_command_line(self):
        self.assertEqual(danlu.run(FLAGSHIP), json.loads(cli("run", FLAGSHIP, "--format", "json")))

    def test_overrides_are_what_set_does(self):
        got = danlu.run(FLAGSHIP, overrides={"training.precision": "fp8", "cluster.gpus": 8192,
                                             "training.parallelism.dp": 64})
        want = json.loads(cli("run", FLAGSHIP, "--format", "json", "--set", "training.precision=fp8",
                              "--set", "cluster.gpus=8192", "--set", "training.parallelism.dp=64"))
        self.assertEqual(got, want)
        self.assertEqual(got["gpus"], 8192)
        # The list form is accepted too.
        self.assertEqual(danlu.run(FLAGSHIP, overrides=["training.precision=fp8", "cluster.gpus=8192",
                                                        "training.parallelism.dp=64"]), want)

    def test_a_dict_is_the_same_scenario_as_its_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "small.yaml")
            with open(path, "w") as f:
                json.dump(SMALL, f)  # JSON is YAML
            self.assertEqual(danlu.run(SMALL), danlu.run(path))
        r = danlu.run(SMALL)
        # 64 sequences of 8,192 tokens a step; Llama 3 8B has 8.03B parameters.
        self.assertAlmostEqual(r["step"]["tokens_per_s"] * r["step"]["time_s"], 64 * 8192, delta=1e-6 * 64 * 8192)
        self.assertAlmostEqual(r["model"]["params"] / 8.03e9, 1.0, delta=0.01)

    def test_the_des_engine(self):
        r = danlu.run(SMALL, engine="des")
        self.assertEqual(r["engine"], "des")
        # The two engines agree within 5% (as the calibration runs require).
        self.assertAlmostEqual(r["step"]["time_s"] / danlu.run(SMALL)["step"]["time_s"], 1.0, delta=0.05)


class Errors(unittest.TestCase):
    def test_a_misspelt_key_names_the_path_and_the_fix(self):
        with self.assertRaises(danlu.InputError) as e:
            danlu.run(FLAGSHIP, overrides={"training.precison": "fp8"})
        self.assertIn('training.precison: unknown key; did you mean "precision"?', str(e.exception))

    def test_a_bad_value_in_a_dict_gives_its_key_path(self):
        # The JSON text the module writes for a dict has line:col the caller
        # never saw: the key path alone locates the value.
        bad = json.loads(json.dumps(SMALL))
        bad["training"]["micro_batch"] = "one"
        with self.assertRaises(ValueError) as e:  # InputError is a ValueError
            danlu.run(bad)
        self.assertEqual(str(e.exception), '<dict>: training.micro_batch: expected a positive integer, found "one"')
        bad = json.loads(json.dumps(SMALL))
        bad["cluster"]["gpuz"] = 8
        with self.assertRaises(danlu.InputError) as e:
            danlu.run(bad)
        self.assertTrue(str(e.exception).startswith('<dict>: cluster.gpuz: unknown key'), str(e.exception))

    def test_a_nul_in_a_path_is_refused_not_cut_short(self):
        # The OS reads a path up to its NUL: "flagship.yaml\0x" would open the
        # flagship, and an output would land on a shorter name.
        with self.assertRaisesRegex(danlu.InputError, "holds a NUL character"):
            danlu.run(FLAGSHIP + "\0junk")
        with self.assertRaisesRegex(danlu.InputError, "output path holds a NUL character"):
            danlu.calibrate([os.path.join(ROOT, "scenarios/calibration/sc21-1.7b.yaml")], output="/tmp/danlu\0x")

    def test_an_output_that_cannot_be_written_is_an_oserror(self):
        with self.assertRaises(OSError) as e:
            danlu.calibrate([os.path.join(ROOT, "scenarios/calibration/sc21-1.7b.yaml")], output="/dev/full")
        self.assertIsInstance(e.exception, danlu.OutputError)
        self.assertIn("/dev/full: could not write the whole file", str(e.exception))

    def test_a_file_that_is_not_there(self):
        with self.assertRaisesRegex(danlu.InputError, "cannot open the file"):
            danlu.run(os.path.join(ROOT, "no-such.yaml"))

    def test_wrong_python_types(self):
        with self.assertRaises(TypeError):
            danlu.run(42)
        with self.assertRaises(TypeError):
            danlu.run(SMALL, overrides=[1, 2])
        with self.assertRaisesRegex(danlu.InputError, "expected time, cost or energy"):
            danlu.search(SMALL, objective="speed")


class Sweep(unittest.TestCase):
    def test_every_point_as_the_command_line_gives_it(self):
        rows = list(danlu.sweep(SWEEP))
        self.assertEqual(len(rows), 5 * 3 * 2)
        want = {r["point"]: r for r in map(json.loads, cli("sweep", SWEEP).splitlines())}
        self.assertEqual({r["point"]: r for r in rows}, want)
        # fp4 on H100 cannot run: a row with the reason, not an exception.
        bad = [r for r in rows if r["point"].startswith("cluster.system=dgx-h100, training.precision=fp4")]
        self.assertEqual([r["status"] for r in bad], ["invalid", "invalid"])
        self.assertIn("fp4", bad[0]["error"])

    def test_a_scenario_without_a_sweep(self):
        with self.assertRaisesRegex(danlu.InputError, "no sweep: block"):
            next(danlu.sweep(SMALL))


class Search(unittest.TestCase):
    def test_best_first_and_overrides_fix_a_dimension(self):
        best = danlu.search(SMALL, top=3)
        self.assertEqual(len(best), 3)
        times = [b["step"]["time_s"] for b in best]
        self.assertEqual(times, sorted(times))
        fixed = danlu.search(SMALL, overrides={"training.zero": 1}, top=5)
        self.assertTrue(fixed)
        self.assertEqual({b["layout"]["zero"] for b in fixed}, {1})
        # 8 GPUs: every layout's tp x pp x dp x cp is 8.
        for b in best + fixed:
            l = b["layout"]
            self.assertEqual(l["tp"] * l["pp"] * l["dp"] * l["cp"], 8)


class Catalog(unittest.TestCase):
    def test_names_and_entries(self):
        names = danlu.catalog()
        self.assertIn("gb200-nvl72", names["systems"])
        self.assertIn("deepseek-v3", names["models"])
        h100 = danlu.catalog("accelerators", "h100-sxm")
        self.assertEqual(h100["hbm_bytes"], 80 * 2**30)  # 80 GiB of HBM3, as the device reports it
        self.assertEqual(danlu.catalog("systems", "gb200-nvl72")["scale_up"]["domain"], 72)
        self.assertEqual(len(danlu.catalog("fabrics")), len(names["fabrics"]))
        with self.assertRaisesRegex(danlu.InputError, "did you mean"):
            danlu.catalog("systems", "dgx-h10")


class Calibrate(unittest.TestCase):
    def test_fit_on_selene_and_use_the_profile(self):
        with tempfile.TemporaryDirectory() as tmp:
            profile = os.path.join(tmp, "selene.yaml")
            fit = danlu.calibrate(os.path.join(ROOT, "scenarios", "calibration"), output=profile)
            self.assertEqual(fit["cases"], 19)
            self.assertLess(fit["in_sample"]["mape"], 0.05)  # the Selene bound of the README
            self.assertIn("a100-sxm-80gb", fit["accelerators"])
            with open(profile) as f:
                self.assertEqual(f.read(), fit["profile_yaml"])
            r = danlu.run(os.path.join(ROOT, "scenarios", "calibration", os.listdir(
                os.path.join(ROOT, "scenarios", "calibration"))[0]), calibration=profile)
            self.assertGreater(r["step"]["time_s"], 0)


if __name__ == "__main__":
    unittest.main()
