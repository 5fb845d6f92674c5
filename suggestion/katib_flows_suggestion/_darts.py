"""``darts``: Katib's DARTS service. It searches nothing itself: every trial runs the whole differentiable search.

As Katib's ``pkg/suggestion/v1beta1/nas/darts/service.py``, each trial gets the same three assignments, which
the trial template reaches through ``trialParameters[].reference``:

- ``algorithm-settings``: Katib's defaults (``DEFAULTS``, in Katib's order) with the experiment's settings laid
  over them as written (strings; ``"None"`` becomes ``null``; names Katib does not know are appended), as
  ``katib_json`` (JSON with ``'`` for ``"``): ``{'num_epochs': '1', 'w_lr': 0.025, ...}``.
- ``search-space``: one primitive per value of each operation's first parameter, ``<operationType>_<k>x<k>``,
  and ``skip_connection`` bare, as ``katib_json``: ``['max_pooling_3x3', 'skip_connection']``.
- ``num-layers``: ``nasConfig.graphConfig.numLayers`` as text: ``1``.

The trial (``examples/nas-darts/run_trial.py`` here, Katib's ``run_trial.py`` there) prints
``Best-Genotype=Genotype(...)``, a string objective value: the engine counts such a trial as the best one
without comparing values, as Katib does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, NasConfig, Problem, Suggestion, Trial
from katib_flows_suggestion._nas import katib_json

#: Katib's ``get_algorithm_settings`` defaults, in its order (the order of the JSON a trial receives).
DEFAULTS: Mapping[str, Any] = {
    "num_epochs": 50,
    "w_lr": 0.025,
    "w_lr_min": 0.001,
    "w_momentum": 0.9,
    "w_weight_decay": 3e-4,
    "w_grad_clip": 5.0,
    "alpha_lr": 3e-4,
    "alpha_weight_decay": 1e-3,
    "batch_size": 128,
    "num_workers": 4,
    "init_channels": 16,
    "print_step": 50,
    "num_nodes": 4,
    "stem_multiplier": 3,
}


def algorithm_settings(settings: Mapping[str, str]) -> dict[str, Any]:
    """Katib's defaults with ``settings`` over them: values kept as the spec's strings, ``"None"`` as None."""
    merged = dict(DEFAULTS)
    for name, value in settings.items():
        merged[name] = None if value == "None" else value
    return merged


def search_space(nas: NasConfig) -> list[str]:
    """Katib's primitives: ``<operationType>_<k>x<k>`` per value of each operation's first parameter."""
    primitives: list[str] = []
    for operation in nas.operations:
        if operation.type == "skip_connection":
            primitives.append(operation.type)
        elif operation.parameters:
            primitives += [f"{operation.type}_{k}x{k}" for k in operation.parameters[0].values]
    return primitives


def assignments(problem: Problem) -> dict[str, str]:
    """The three assignments every darts trial gets, in Katib's exact strings."""
    nas = problem.nas
    assert nas is not None and nas.num_layers is not None, "validate() requires nasConfig.graphConfig.numLayers"
    return {
        "algorithm-settings": katib_json(algorithm_settings(problem.settings)),
        "search-space": katib_json(search_space(nas)),
        "num-layers": str(nas.num_layers),
    }


class Darts(Algorithm):
    """Settings: Katib's (``DEFAULTS``); unknown names are passed on to the trial, as Katib does."""

    name = "darts"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        self.read_settings(problem)  # Katib's rules; raises InvalidSettingsError with every problem
        return Suggestion(dict(assignments(problem)))
