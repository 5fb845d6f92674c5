"""darts: every trial gets Katib's three assignments, character for character.

The expected strings are what Katib's ``pkg/suggestion/v1beta1/nas/darts/service.py`` sends for Katib's
darts-cpu.yaml and darts-gpu.yaml (read from ../shared/katib-examples/nas/, never copied): its defaults in its
order with the spec's settings over them as strings, ``json.dumps`` with ``"`` replaced by ``'``, one
primitive per value of each operation's first parameter, and numLayers as text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import pytest
import yaml

from katib_flows.spec import check_document, to_search_problem

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)

#: Katib's defaults as its service prints them (json.dumps of 3e-4 is 0.0003).
DEFAULTS = (
    "'num_epochs': 50, 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
    "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, "
    "'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3"
)


def _problem(name: str, **changes: Any) -> sg.Problem:
    document = yaml.safe_load((NAS / f"{name}.yaml").read_text(encoding="utf-8"))
    document["spec"].update(changes)
    checked = check_document(document, f"{name}.yaml")
    assert checked.ok and checked.experiment is not None, checked
    return to_search_problem(checked.experiment.spec)


def _suggest(problem: sg.Problem, history: tuple[sg.Trial, ...] = ()) -> dict[str, sg.Value]:
    decision = sg.get_algorithm("darts").suggest(problem, list(history), seed=1)
    assert isinstance(decision, sg.Suggestion)
    return decision.assignments


def test_katibs_darts_cpu_gets_katibs_three_strings() -> None:
    assignments = _suggest(_problem("darts-cpu"))
    assert assignments == {
        "algorithm-settings": (
            "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
            "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, "
            "'num_workers': 4, 'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}"
        ),
        "search-space": "['max_pooling_3x3']",
        "num-layers": "1",
    }
    # What Katib's run_trial.py does with them.
    settings = json.loads(str(assignments["algorithm-settings"]).replace("'", '"'))
    assert int(settings["num_epochs"]) == 1 and float(settings["w_lr"]) == 0.025


def test_katibs_darts_gpu_lists_a_primitive_per_filter_size_and_skip_connection_bare() -> None:
    assignments = _suggest(_problem("darts-gpu"))
    assert assignments["search-space"] == (
        "['separable_convolution_3x3', 'dilated_convolution_3x3', 'dilated_convolution_5x5', "
        "'avg_pooling_3x3', 'max_pooling_3x3', 'skip_connection']"
    )
    assert assignments["num-layers"] == "3"
    assert assignments["algorithm-settings"] == "{" + DEFAULTS.replace("'num_epochs': 50", "'num_epochs': '3'") + "}"


def test_none_becomes_null_and_unknown_settings_are_appended_as_katib_does() -> None:
    settings = [
        {"name": "my_setting", "value": "7"},
        {"name": "batch_size", "value": "None"},
    ]
    problem = _problem("darts-cpu", algorithm={"algorithmName": "darts", "algorithmSettings": settings})
    text = str(_suggest(problem)["algorithm-settings"])
    assert text == "{" + DEFAULTS.replace("'batch_size': 128", "'batch_size': null") + ", 'my_setting': '7'}"


def test_every_trial_gets_the_same_assignments() -> None:
    problem = _problem("darts-cpu")
    first = _suggest(problem)
    done = sg.Trial("darts-cpu-1", first, "Succeeded")
    assert _suggest(problem, (done,)) == first


@pytest.mark.parametrize(
    ("nas", "message"),
    [
        (None, "darts searches spec.nasConfig, which is missing"),
        (
            sg.NasConfig(None, operations=(sg.NasOperation("skip_connection"),)),
            "needs spec.nasConfig.graphConfig.numLayers",
        ),
        (
            sg.NasConfig(1, operations=(sg.NasOperation("max_pooling", (sg.Parameter("filter_size", "int", 3, 5),)),)),
            "max_pooling_<k>x<k> per value k of the operation's first parameter, which has no list",
        ),
    ],
)
def test_what_darts_cannot_build_a_search_space_from_is_refused_with_the_fix(
    nas: sg.NasConfig | None, message: str
) -> None:
    problem = sg.Problem((), "Best-Genotype", "maximize", nas=nas)
    [problem_found] = sg.validate_settings("darts", problem)
    assert message in problem_found.message and problem_found.fix
    with pytest.raises(sg.InvalidSettingsError, match="darts"):
        sg.get_algorithm("darts").suggest(problem, [], seed=0)
