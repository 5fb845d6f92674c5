"""The UI shows NAS trials by their architecture: the API adds the worded ``architecture`` the CLI prints,
and the experiment page has an architecture column where a NAS experiment has no parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import katib_flows_suggestion as sg
import pytest
import yaml
from ui_helpers import serving

from katib_flows.engine import register_experiment
from katib_flows.report import trial_view
from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import ExperimentCondition, Store, TrialStatus

NAS = next(p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents if (p / "shared").is_dir())


def populate_enas(store: Store) -> None:
    """Katib's enas-cpu.yaml with two layers and two finished trials, their assignments in Katib's formats."""
    document: dict[str, Any] = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    document["spec"]["nasConfig"]["graphConfig"]["numLayers"] = 2
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.experiment is not None
    nas = to_search_problem(checked.experiment.spec).nas
    assert nas is not None
    operations = sg.expand_operations(nas)
    register_experiment(store, checked.experiment, namespace="kubeflow", name="enas-cpu", seed=0)
    with store.locked_experiment("kubeflow", "enas-cpu") as tx:
        for i, (architecture, accuracy) in enumerate([([[104], [0, 0]], 0.4), ([[28], [105, 1]], 0.8)]):
            embedding = {layer[0]: operations[layer[0]].as_dict() for layer in architecture}
            nn_config = {"num_layers": 2, "input_sizes": [32, 32, 3], "output_sizes": [10], "embedding": embedding}
            assignments = {"architecture": sg.katib_json(architecture), "nn_config": sg.katib_json(nn_config)}
            tx.add_trial(f"enas-cpu-{i}", assignments, status=TrialStatus.RUNNING)
            observation = {"Validation-Accuracy": {"min": str(accuracy), "max": str(accuracy), "latest": str(accuracy)}}
            tx.finish_trial(f"enas-cpu-{i}", TrialStatus.SUCCEEDED, observation=observation, objective_value=accuracy)
        tx.set_condition(
            ExperimentCondition.SUCCEEDED, "ExperimentMaxTrialsReached", "done", optimal_trial="enas-cpu-1"
        )


def test_the_api_and_the_page_show_architectures(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as store:
        populate_enas(store)
        with serving(store) as url, httpx.Client(base_url=url, timeout=300) as client:
            base = "/api/v1/namespaces/kubeflow/experiments/enas-cpu"
            trials = client.get(f"{base}/trials").json()
            assert trials == [trial_view(t) for t in store.list_trials("kubeflow", "enas-cpu")]
            assert (
                trials[0]["architecture"]["summary"] == "1: avg pooling 2x2 | 2: convolution 3x3, 32 filters, stride 1"
            )
            best = client.get(base).json()["currentOptimalTrial"]
            assert [layer["description"] for layer in best["architecture"]["layers"]] == [
                "layer 1: convolution 7x7, 128 filters, stride 1 [operation 28]",
                "layer 2: avg pooling 3x3; skip from input [operation 105]",
            ]
            one = client.get(f"{base}/trials/enas-cpu-1").json()
            assert one["architecture"] == best["architecture"]
            page = client.get("/experiments/kubeflow/enas-cpu").text
            assert 'data-sort="param:architecture">architecture</th>' in page


@pytest.mark.slow
def test_the_pages_show_architectures_in_the_browser(browser: Any, tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as store:
        populate_enas(store)
        with serving(store) as url:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/experiments/kubeflow/enas-cpu", timeout=120_000)
            page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 2", timeout=120_000)
            cells = page.evaluate(
                "Array.from(document.querySelectorAll('#trials tbody tr')).map(r => r.cells[4].textContent)"
            )
            assert cells == [
                "1: avg pooling 2x2 | 2: convolution 3x3, 32 filters, stride 1",
                "1: convolution 7x7, 128 filters, stride 1 | 2: avg pooling 3x3 (skip from input)",
            ]
            assert page.text_content("#best") == f"Best: enas-cpu-1 = 0.8  ({cells[1]})"

            page.goto(f"{url}/experiments/kubeflow/enas-cpu/trials/enas-cpu-1", timeout=120_000)
            page.wait_for_function("document.querySelectorAll('#parameters tbody tr').length === 4", timeout=120_000)
            rows = page.evaluate(
                "Array.from(document.querySelectorAll('#parameters tbody tr')).map(r => r.cells[0].textContent + "
                "' = ' + r.cells[1].textContent)"
            )
            assert rows[:3] == [
                "layer 1 = convolution 7x7, 128 filters, stride 1 [operation 28]",
                "layer 2 = avg pooling 3x3; skip from input [operation 105]",
                "architecture = [[28], [105, 1]]",
            ]
            assert page.get_attribute("#parameters tbody tr:nth-child(4) td:nth-child(2)", "class") == "raw"
            page.close()
            assert errors == []
