"""Running from Python: ``Experiment.run`` and ``tune`` with real trial processes, and the ``Result`` they return."""

from __future__ import annotations

import io
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from katib_flows import Experiment, Result, search, tune
from katib_flows.dsl._progress import ProgressReporter
from katib_flows.errors import AlreadyExistsError, SpecError
from katib_flows.store import Store, TrialStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _script(max_trials: int = 4) -> Experiment:
    experiment = Experiment.from_yaml(EXAMPLES / "script" / "experiment.yaml")
    experiment.name, experiment.max_trials = "dsl-script", max_trials
    return experiment


def test_run_returns_a_result_with_trials_best_and_figures(local_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = _script().run()
    assert result.status == "Succeeded" and result.reason == "ExperimentMaxTrialsReached"
    with Store(local_env) as store:
        optimal = store.get_experiment("default", "dsl-script").optimal_trial
        trials = store.list_trials("default", "dsl-script")
    table = result.trials
    assert isinstance(table, pd.DataFrame) and len(table) == 4
    assert set(table.index) == {t.name for t in trials}
    assert {"status", "objective", "x", "y", "shape", "metric:loss"} <= set(table.columns)
    best = result.best
    assert best is not None and best.name == optimal
    assert best.value == table["objective"].min() and best.metrics["loss"] == best.value
    assert isinstance(best.parameters["x"], float) and best.parameters["shape"] in ("bowl", "ridge")
    assert len(result.plot_history().data[0].y) == 4
    assert len(result.plot_parallel_coordinates().data[0].dimensions[0]["values"]) == 4
    assert result.plot_importance().data and result.plot_curves().data
    with pytest.raises(ValueError, match="two objectives"):
        result.plot_pareto()
    out = capsys.readouterr().out
    assert "dsl-script [########################] 4/4" in out and "experiment dsl-script: Succeeded" in out
    assert "dsl-script" in repr(result) and "Succeeded" in repr(result)


def test_same_name_needs_replace(local_env: str, tmp_path: Path) -> None:
    _script(2).run(progress=False)
    with pytest.raises(AlreadyExistsError, match="replace=True"):
        _script(2).run(progress=False)
    result = _script(3).run(progress=False, replace=True)
    assert len(result.trials) == 3
    assert Result("dsl-script").best == result.best  # any stored experiment, by name
    page = result.report(tmp_path / "r.html")
    assert page.read_text().count("<tr><td>dsl-script-") == 3


def test_trials_is_a_list_without_pandas(local_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _script(2).run(progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = result.trials
    assert isinstance(rows, list) and len(rows) == 2 and rows[0]["status"] == "Succeeded"


def test_nameless_spec_takes_the_file_name(local_env: str) -> None:
    experiment = Experiment.from_yaml(EXAMPLES / "script" / "experiment.yaml")
    experiment.max_trials = experiment.parallel = 1
    assert experiment.run(progress=False).name == "experiment"
    with pytest.raises(SpecError, match="needs a name"):
        Experiment(objective=search.minimize("loss"), command=["true"]).run()


# Trial functions live at module level; cloudpickle sends them by value all the same.
def objective(x: float, units: int, act: str, flag: bool) -> dict[str, Any]:
    assert isinstance(x, float) and isinstance(units, int) and isinstance(flag, bool), (x, units, flag)
    assert act in ("relu", "tanh")
    return {"loss": (x - 1) ** 2 + units / 1000, "units_seen": units}


def crashing(x: float) -> float:
    if x > 0.5:
        os._exit(3)  # as abrupt as a segfault: only this trial's process dies
    return x


def curves(x: float) -> None:
    from katib_flows import report_metrics

    for step in range(3):
        report_metrics({"loss": x / (step + 1)}, step=step)


SPACE = {
    "x": search.double(-3, 3),
    "units": search.int(16, 256, step=16),
    "act": search.categorical(["relu", "tanh"]),
    "flag": search.categorical([True, False]),
}


def test_tune_passes_typed_values_and_collects_returned_metrics(local_env: str) -> None:
    goal = search.minimize("loss", additional=["units_seen"])  # as in Katib, only named metrics are kept
    result = tune(objective, parameters=SPACE, objective=goal, max_trials=4, parallel=2, progress=False)
    assert result.name == "objective" and result.status == "Succeeded"
    table = result.trials
    assert list(table["status"]) == ["Succeeded"] * 4
    assert (table["metric:units_seen"] == table["units"]).all()
    assert result.best is not None and isinstance(result.best.parameters["flag"], bool)


def test_a_crashing_trial_fails_alone(local_env: str) -> None:
    result = tune(
        crashing,
        parameters={"x": search.double(0, 1)},
        objective=search.maximize("x"),
        max_trials=6,
        max_failed=6,
        algorithm_settings={"random_state": 3},
        progress=False,
    )
    statuses = {row["trial"]: row["status"] for row in result.trials.reset_index().to_dict("records")}
    values = {row["trial"]: row["x"] for row in result.trials.reset_index().to_dict("records")}
    assert {s for t, s in statuses.items() if values[t] > 0.5} <= {"Failed"}
    assert {s for t, s in statuses.items() if values[t] <= 0.5} <= {"Succeeded"}
    assert set(statuses.values()) == {"Failed", "Succeeded"}  # seed 3 draws both sides of 0.5


def test_tune_with_report_metrics_keeps_curves(local_env: str) -> None:
    result = tune(curves, parameters={"x": search.double(1, 2)}, objective=search.minimize("loss"), max_trials=2)
    with Store(local_env) as store:
        logs = store.observation_logs("default", "curves")
    assert sorted(len(v) for v in logs.values()) == [3, 3]
    assert all(len(trace.x) == 3 for trace in result.plot_curves().data)


def test_a_lambda_needs_cloudpickle(monkeypatch: pytest.MonkeyPatch) -> None:
    from katib_flows.dsl import _tune

    monkeypatch.setattr(_tune, "find_spec", lambda name: None)
    with pytest.raises(SpecError, match="top level of an importable module"):
        tune(lambda x: x, parameters={"x": search.double(0, 1)}, objective=search.maximize("x"))
    assert pickle.loads(_tune._pickle(objective)) is objective  # importable: fine without cloudpickle


def test_progress_line_counts_and_best() -> None:
    from katib_flows.store import ExperimentCondition, ExperimentRecord, TrialRecord

    record = ExperimentRecord(
        "default", "p", {"spec": {"maxTrialCount": 4, "objective": {"objectiveMetricName": "acc"}}}, 1,
        ExperimentCondition.RUNNING, "", "", [], None, None, None, None,  # type: ignore[arg-type]
    )  # fmt: skip
    out = io.StringIO()
    reporter = ProgressReporter(out)
    reporter.started(record, 2)
    for i, value in enumerate((0.5, 0.8)):
        trial = TrialRecord(
            "default", "p", f"p-{i}", i, {"lr": 0.1 * (i + 1)}, TrialStatus.SUCCEEDED, objective_value=value
        )
        reporter.trial_started(trial, 0)
        reporter.trial_finished(trial)
    failed = TrialRecord("default", "p", "p-2", 2, {"lr": 1.0}, TrialStatus.FAILED, message="exit code 1\nboom")
    reporter.trial_finished(failed)
    reporter._draw()
    text = out.getvalue()
    assert "p-2 failed: exit code 1" in text
    assert "[##################......] 3/4" in reporter.line()
    assert "best acc=0.8 (lr=0.2)" in reporter.line()
