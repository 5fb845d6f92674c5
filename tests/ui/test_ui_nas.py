"""The UI shows NAS trials by their architecture: the API adds the worded ``architecture`` the CLI prints,
and the experiment page has an architecture column where a NAS experiment has no parameters, which sorts and
filters on the words it shows."""

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


TWO = [([[104], [0, 0]], 0.4), ([[28], [105, 1]], 0.8)]
#: A third whose words sort between the two, where its JSON sorts last ("[[3]" after "[[28]").
THREE = [*TWO, ([[3], [0, 1]], 0.6)]


def populate_enas(store: Store, trials: list[tuple[list[list[int]], float]] = TWO) -> None:
    """Katib's enas-cpu.yaml with two layers and finished trials (architecture, accuracy), their assignments
    in Katib's formats; the second is the best."""
    document: dict[str, Any] = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    document["spec"]["nasConfig"]["graphConfig"]["numLayers"] = 2
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.experiment is not None
    nas = to_search_problem(checked.experiment.spec).nas
    assert nas is not None
    operations = sg.expand_operations(nas)
    register_experiment(store, checked.experiment, namespace="kubeflow", name="enas-cpu", seed=0)
    with store.locked_experiment("kubeflow", "enas-cpu") as tx:
        for i, (architecture, accuracy) in enumerate(trials):
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


def test_the_table_sorts_and_filters_architectures_as_worded(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as store:
        populate_enas(store, THREE)
        with serving(store) as url, httpx.Client(base_url=url, timeout=300) as client:
            base = "/api/v1/namespaces/kubeflow/experiments/enas-cpu/trials"

            def names(**query: str) -> tuple[str, list[str]]:
                reply = client.get(base, params=query)
                assert reply.status_code == 200, reply.text
                return reply.headers["X-Total-Count"], [t["name"] for t in reply.json()]

            assert names(q="Convolution 7x7") == ("1", ["enas-cpu-1"])
            assert names(q="skip from input") == ("2", ["enas-cpu-1", "enas-cpu-2"])
            # "32" is in every trial's nn_config (input_sizes), but shown only as "32 filters" in two rows.
            assert names(q="32") == ("2", ["enas-cpu-0", "enas-cpu-2"])
            assert names(q="architecture=1: avg") == ("1", ["enas-cpu-0"])
            worded = ["enas-cpu-0", "enas-cpu-2", "enas-cpu-1"]  # avg pooling, convolution 3x3, convolution 7x7
            assert names(sort="param:architecture") == ("3", worded)
            assert names(sort="param:architecture", order="desc", limit="2") == ("3", worded[::-1][:2])


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


@pytest.mark.slow
def test_the_architecture_column_sorts_and_filters_as_worded_in_the_browser(browser: Any, tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as store:
        populate_enas(store, THREE)
        with serving(store) as url:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/experiments/kubeflow/enas-cpu", timeout=120_000)
            rows = "document.querySelectorAll('#trials tbody tr')"
            cells = f"Array.from({rows}).map(r => r.cells[4].textContent)"
            page.wait_for_function(f"{rows}.length === 3", timeout=120_000)
            page.fill("#filter", "convolution 7x7")
            page.wait_for_function(f"{rows}.length === 1", timeout=30_000)
            assert page.evaluate(cells) == [
                "1: convolution 7x7, 128 filters, stride 1 | 2: avg pooling 3x3 (skip from input)"
            ]
            page.fill("#filter", "")
            page.wait_for_function(f"{rows}.length === 3", timeout=30_000)
            page.click("#trials th[data-sort='param:architecture']")
            page.wait_for_function(f"{cells}[1].includes('48 filters')", timeout=30_000)
            assert page.evaluate(cells) == sorted(page.evaluate(cells))
            page.click("#trials th[data-sort='param:architecture']")
            page.wait_for_function(f"{cells}[0].includes('7x7')", timeout=30_000)
            assert page.evaluate(cells) == sorted(page.evaluate(cells), reverse=True)
            page.close()
            assert errors == []
