"""``katib-flows report`` and ``export`` on a real run: CSV, JSON, an Optuna storage that Optuna loads, PNG images."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import optuna
import pytest

from katib_flows.cli import _exit, main
from katib_flows.store import Store, TrialStatus


def _trials(url: str) -> list:  # type: ignore[type-arg]
    with Store(url) as store:
        return sorted(store.list_trials("default", "digits-random"), key=lambda t: t.seq)


def test_csv_has_one_row_per_trial(digits_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "digits-random", "--db", digits_store, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    trials = _trials(digits_store)
    assert [r["trial"] for r in rows] == [t.name for t in trials]
    assert {"lr", "units", "alpha", "batch_size", "metric:accuracy", "metric:loss", "objective"} <= set(rows[0])
    assert float(rows[0]["objective"]) == trials[0].objective_value
    assert float(rows[0]["units"]) == trials[0].assignments["units"]


def test_json_has_trials_and_observation_logs(digits_store: str, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    assert main(["export", "digits-random", "--db", digits_store, "--format", "json", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    trials = _trials(digits_store)
    assert document["status"]["condition"] == "Succeeded"
    assert [t["name"] for t in document["trials"]] == [t.name for t in trials]
    assert document["trials"][0]["parameterAssignments"][0]["name"] == "lr"
    logs = document["observationLogs"][trials[0].name]
    assert [log["step"] for log in logs if log["metric"] == "accuracy"] == list(range(15))


def test_optuna_storage_loads_with_the_same_trials(digits_store: str, tmp_path: Path) -> None:
    path = tmp_path / "digits.optuna.db"
    assert main(["export", "digits-random", "--db", digits_store, "--format", "optuna", "-o", str(path)]) == 0
    study = optuna.load_study(study_name="digits-random", storage=f"sqlite:///{path}")
    trials = _trials(digits_store)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert len(study.trials) == len(trials)
    for ours, theirs in zip(trials, study.trials, strict=True):
        assert theirs.user_attrs["katib_trial"] == ours.name
        assert theirs.params == ours.assignments
        if ours.status is TrialStatus.SUCCEEDED:
            assert theirs.state == optuna.trial.TrialState.COMPLETE
            assert theirs.value == ours.objective_value
        assert len(theirs.intermediate_values) == 15  # accuracy at each epoch
    best = max(trials, key=lambda t: t.objective_value or 0)
    assert study.best_trial.user_attrs["katib_trial"] == best.name
    assert study.best_params == best.assignments
    # The file is new each time: exporting over it is refused, not merged.
    assert (
        main(["export", "digits-random", "--db", digits_store, "--format", "optuna", "-o", str(path)])
        == _exit.BAD_INPUT
    )


def test_unknown_experiment_is_not_found(digits_store: str) -> None:
    assert main(["report", "nope", "--db", digits_store]) == _exit.NOT_FOUND
    assert main(["export", "nope", "--db", digits_store, "--format", "csv"]) == _exit.NOT_FOUND


def test_png_images_one_per_figure(digits_store: str, tmp_path: Path) -> None:
    assert main(["report", "digits-random", "--db", digits_store, "--format", "png", "-o", str(tmp_path)]) == 0
    images = sorted(p.name for p in tmp_path.glob("*.png"))
    assert images == [f"digits-random-{k}.png" for k in ("curves", "history", "importance", "parallel-coordinates")]
    for image in tmp_path.glob("*.png"):
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 10_000


def test_png_without_a_browser_says_what_to_install(
    digits_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert main(["report", "digits-random", "--db", digits_store, "--format", "png"]) == _exit.BAD_INPUT
    assert "apt-get install chromium" in capsys.readouterr().err


def test_export_and_report_take_the_format_with_o_and_the_file_with_capital_o(
    digits_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    assert main(["export", "digits-random", "--db", digits_store, "-o", "csv", "-O", str(new)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["export", "digits-random", "--db", digits_store, "--format", "csv", "--output", str(old)]) == 0
    err = capsys.readouterr().err
    assert "`--format csv` is deprecated; write `-o/--output csv`" in err
    assert f"`-o/--output {old}` is deprecated" in err
    assert old.read_text(encoding="utf-8") == new.read_text(encoding="utf-8")
    assert main(["export", "digits-random", "--db", digits_store]) == _exit.BAD_INPUT
    assert "give the format: -o/--output csv|json|optuna" in capsys.readouterr().err
    page = tmp_path / "page.html"
    assert main(["report", "digits-random", "--db", digits_store, "-o", "html", "-O", str(page)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
