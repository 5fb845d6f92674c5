"""Plug-in algorithms: a distribution that declares an entry point in ``katib_flows.algorithms`` is found.

Every lookup here is a real ``importlib.metadata`` entry-point scan of ``sys.path``: the quick tests put a
distribution's files (a package and its ``.dist-info``) in a temporary folder on ``sys.path``; the slow test
builds a wheel of that distribution, installs it with pip into a folder and lints and suggests with it in a
fresh interpreter, as a user who ``pip install``s a plug-in would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import katib_flows_suggestion as sg
import pytest

#: The plug-in: an algorithm with one typed setting that proposes each parameter's midpoint, scaled.
PLUGIN_SOURCE = """
from katib_flows_suggestion import Algorithm, Suggestion
from katib_flows_suggestion._settings import Setting


class Middle(Algorithm):
    name = "middle-demo"
    schema = (Setting("shift", "float", low=0, high=1),)

    def suggest(self, problem, history, seed):
        shift = self.read_settings(problem).get("shift") or 0.0
        return Suggestion({p.name: p.min + (0.5 + shift) * (p.max - p.min) for p in problem.parameters})


NotAnAlgorithm = object()
"""

ENTRY_POINTS = """[katib_flows.algorithms]
middle-demo = kf_middle_demo:Middle
broken-demo = kf_middle_demo:NotAnAlgorithm
tpe = kf_middle_demo:Middle
"""

DIST = "kf_middle_demo-0.1"


def _files() -> dict[str, str]:
    """The distribution's files by path, as a wheel or an installed distribution lays them out."""
    return {
        "kf_middle_demo/__init__.py": PLUGIN_SOURCE,
        f"{DIST}.dist-info/METADATA": "Metadata-Version: 2.1\nName: kf-middle-demo\nVersion: 0.1\n",
        f"{DIST}.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{DIST}.dist-info/entry_points.txt": ENTRY_POINTS,
    }


def _wheel(folder: Path) -> Path:
    """A real wheel of the plug-in distribution, RECORD and hashes included."""
    path = folder / f"{DIST}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in _files().items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
            wheel.writestr(name, data)
        record.append(f"{DIST}.dist-info/RECORD,,")
        wheel.writestr(f"{DIST}.dist-info/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plug-in distribution's files on ``sys.path``, found by ``importlib.metadata`` like any installed one."""
    for name, text in _files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kf_middle_demo", raising=False)


PROBLEM = sg.Problem((sg.Parameter("x", "double", 0.0, 4.0),), "loss", "minimize", settings={"shift": "0.25"})


def test_without_the_plugin_its_name_is_unknown_and_the_error_lists_the_valid_names() -> None:
    assert "middle-demo" not in sg.algorithm_names()
    with pytest.raises(sg.UnknownAlgorithmError, match=r"unknown algorithm 'middle-demo'; valid algorithms: random, "):
        sg.get_algorithm("middle-demo")


@pytest.mark.usefixtures("installed")
def test_an_installed_plugin_is_found_validated_and_suggests() -> None:
    assert sg.algorithm_names()[: len(sg.ALGORITHM_NAMES)] == sg.ALGORITHM_NAMES
    assert "middle-demo" in sg.algorithm_names()
    algorithm = sg.get_algorithm("middle-demo")
    assert algorithm.name == "middle-demo" and algorithm.settings == ("shift",)
    assert algorithm.suggest(PROBLEM, [], 0) == sg.Suggestion({"x": 3.0})
    assert sg.validate_settings("middle-demo", PROBLEM) == []
    bad = sg.Problem(PROBLEM.parameters, "loss", "minimize", settings={"shfit": "2"})
    (problem,) = sg.validate_settings("middle-demo", bad)
    assert problem.message == "unknown setting shfit for algorithm middle-demo; valid settings: shift"
    assert problem.fix == "rename it to shift"
    with pytest.raises(sg.UnknownAlgorithmError, match=r"valid algorithms: random, .*, broken-demo, middle-demo$"):
        sg.get_algorithm("midle-demo")


@pytest.mark.usefixtures("installed")
def test_a_plugin_cannot_replace_a_builtin_name_and_a_broken_one_is_named() -> None:
    assert type(sg.get_algorithm("tpe")).__module__ == "katib_flows_suggestion._tpe"
    assert sg.algorithm_names().count("tpe") == 1
    with pytest.raises(
        sg.InvalidPluginError,
        match=r"^entry point broken-demo = kf_middle_demo:NotAnAlgorithm \(group katib_flows.algorithms, "
        r"distribution kf-middle-demo\) must name an Algorithm subclass",
    ):
        sg.get_algorithm("broken-demo")


SCRIPT = """
import katib_flows_suggestion as sg
problem = sg.Problem((sg.Parameter("x", "double", 0.0, 4.0),), "loss", "minimize", settings={"shift": "0.25"})
print(sg.get_algorithm("middle-demo").suggest(problem, [], 0).assignments)
"""

EXPERIMENT = """objective: {type: minimize, objectiveMetricName: loss}
algorithm:
  algorithmName: middle-demo
  algorithmSettings: [{name: shift, value: "0.25"}]
maxTrialCount: 3
parameters:
  - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "4"}}
trialTemplate:
  command: [python3, -c, "print('loss=1')", "${trialParameters.x}"]
"""


@pytest.mark.slow
def test_a_plugin_installed_with_pip_is_found_in_a_fresh_process(tmp_path: Path) -> None:
    site = tmp_path / "site"
    wheel = _wheel(tmp_path)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(pip, check=True, capture_output=True, text=True, timeout=300)
    assert (site / f"{DIST}.dist-info" / "entry_points.txt").is_file()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    suggest = [sys.executable, "-c", SCRIPT]
    out = subprocess.run(suggest, check=True, capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "{'x': 3.0}"
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(EXPERIMENT)
    cli = [sys.executable, "-m", "katib_flows", "lint", str(experiment)]
    linted = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=120)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    without = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert without.returncode != 0 and "middle-demo" in without.stdout + without.stderr
