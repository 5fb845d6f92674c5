"""The UI in real headless Chromium (Debian's package, driven by playwright) while a real local run is in
progress: trials appear without a reload, the parallel coordinates draw one line per completed trial, the
table filters, metric curves compare, the console stays clean; then Stop from the page ends the run as
Ctrl-C does and ``katib-flows resume`` spends exactly the rest of the budget.

``KATIB_FLOWS_UPDATE_SCREENSHOT=1`` saves the experiment page as docs/ui-experiment.png for the README (the
committed one was then reduced to 128 colours to keep it small).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ui_helpers import serving

from katib_flows.cli import _exit, main
from katib_flows.engine import REASON_INTERRUPTED, Counts
from katib_flows.store import Store, TrialStatus

SCRIPT = Path(__file__).resolve().parent / "ui_trial.py"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "ui-experiment.png"
BUDGET = 60  # at 8 s a trial, two at a time, the run outlasts the page's checks on a busy machine

_LINES = "document.getElementById('plot-parallel-coordinates')._fullData[0].dimensions[0].values.length"
_ROWS = "document.querySelectorAll('#trials tbody tr').length"
_NAMES = "Array.from(document.querySelectorAll('#trials tbody tr')).map(r => r.cells[1].textContent)"


def _experiment(tmp_path: Path) -> Path:
    document = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "live"},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "score"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [
                {"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                {"name": "units", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}},
            ],
            "trialTemplate": {"command": [
                sys.executable, str(SCRIPT), "${trialParameters.value}", "${trialParameters.units}",
            ]},
            "maxTrialCount": BUDGET,
            "parallelTrialCount": 2,
        },
    }  # fmt: skip
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _succeeded(store: Store) -> int:
    return sum(t.status is TrialStatus.SUCCEEDED for t in store.list_trials("default", "live"))


def _wait(condition: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_live_run_in_the_browser_then_stop_and_resume(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("KATIB_FLOWS_LOGS", str(tmp_path / "logs"))
    env = {**os.environ, "KATIB_FLOWS_DB": url, "UI_TRIAL_STEP_SECONDS": "2"}
    with Store(url, upgrade=True) as store, serving(store) as base:
        run = subprocess.Popen(
            [sys.executable, "-m", "katib_flows", "run", str(_experiment(tmp_path)), "-q"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            _wait(lambda: store.list_experiments("default") and _succeeded(store) >= 1, "a first trial")
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(  # leaving a page cancels its poll in flight (net::ERR_ABORTED): not a failure
                "requestfailed",
                lambda r: None if r.failure == "net::ERR_ABORTED" else problems.append(f"request failed: {r.url}"),
            )
            page.on("dialog", lambda dialog: dialog.accept())  # Stop asks for confirmation
            page.goto(f"{base}/experiments/default/live", timeout=120_000)  # 5 MB of plotly.js on a busy machine
            page.wait_for_function(f"{_ROWS} > 0 && document.getElementById('plot-history')._fullData", timeout=300_000)
            page.evaluate("window.loadedOnce = true")  # gone if the page reloads
            # Importance arrives on its own request, after the figures it does not hold up.
            page.wait_for_function(
                "document.getElementById('plot-importance')._fullData?.length === 1 && "
                "document.getElementById('importance-wait').hidden",
                timeout=120_000,
            )
            seen = page.evaluate(_NAMES)

            # A trial the page did not show appears, and the page was not reloaded.
            page.wait_for_function(f"{_NAMES}.length > {len(seen)}", timeout=120_000)
            assert page.evaluate("window.loadedOnce") is True

            # Filtering the table: one trial by name, then by status.
            name = page.evaluate(_NAMES)[0]
            page.fill("#filter", name)
            page.wait_for_function(f"{_ROWS} === 1 && {_NAMES}[0] === '{name}'", timeout=30_000)
            page.fill("#filter", "")
            page.select_option("#status", "Succeeded")
            page.wait_for_function(
                "Array.from(document.querySelectorAll('#trials tbody tr')).every(r => r.cells[2].textContent === "
                "'Succeeded') && document.getElementById('page').textContent.includes('of')",
                timeout=30_000,
            )

            # Two finished trials' curves overlaid.
            boxes = page.locator("#trials tbody tr", has=page.locator("td.Succeeded")).locator("input[type=checkbox]")
            boxes.nth(0).check()
            boxes.nth(1).check()
            page.click("#compare")
            page.wait_for_function("document.getElementById('plot-curves')._fullData?.length === 2", timeout=60_000)
            page.select_option("#status", "")

            # Stop from the page: the run ends as after Ctrl-C.
            assert run.poll() is None, "the run ended before the page could stop it"
            page.click("#stop")
            _, err = run.communicate(timeout=60)
            assert run.returncode == _exit.INTERRUPTED, f"exit {run.returncode}: {err.decode()[-3000:]}"
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
        trials = store.list_trials("default", "live")
        assert all(t.status.terminal for t in trials)
        completed = sum(t.status is TrialStatus.SUCCEEDED and t.objective_value is not None for t in trials)
        assert 0 < Counts.of(trials).total < BUDGET
        # One line per completed trial in the parallel coordinates, once the page has caught up.
        page.wait_for_function(f"{_LINES} === {completed}", timeout=30_000)
        page.wait_for_function("document.getElementById('stop').textContent === 'Stop requested'", timeout=30_000)
        assert page.evaluate("window.loadedOnce") is True
        if os.environ.get("KATIB_FLOWS_UPDATE_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), clip={"x": 0, "y": 0, "width": 1300, "height": 1000})

        # A trial's page: its parameters, observation log and output.
        page.goto(f"{base}/experiments/default/live/trials/{name}", timeout=120_000)
        page.wait_for_function(
            "document.querySelectorAll('#observations tbody tr').length === 4 && "
            "document.getElementById('output').textContent.includes('last line before exit')",
            timeout=30_000,
        )
        page.close()
        assert problems == []

    # resume from the CLI, with quick trials: exactly the budget, nothing run twice.
    monkeypatch.setenv("UI_TRIAL_STEP_SECONDS", "0")
    assert main(["resume", "live", "--db", url, "-q"]) == _exit.SUCCEEDED
    with Store(url) as store:
        trials = store.list_trials("default", "live")
    assert Counts.of(trials).total == BUDGET
    assert sum(t.status is TrialStatus.SUCCEEDED for t in trials) == BUDGET
    assert len({t.name for t in trials}) == len(trials)
    assert all(t.status is TrialStatus.KILLED for t in trials if t.reason == REASON_INTERRUPTED)
