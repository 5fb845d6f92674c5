"""The step options of ``compile`` and ``submit`` are generated from ``StepOptions``: one spelling, one default."""

from __future__ import annotations

import dataclasses

from katib_flows.argo._options import StepOptions
from katib_flows.cli import cli
from katib_flows.cli._options import from_values

DOCUMENTED = [f.name for f in dataclasses.fields(StepOptions) if "help" in f.metadata]


def test_every_documented_field_is_an_option_of_compile_and_submit() -> None:
    assert DOCUMENTED == [
        "image", "db_secret", "service_account", "generation_iterations", "trial_runner", "checkpoints_claim"
    ]  # fmt: skip
    for command in ("compile", "submit"):
        params = {p.name: p for p in cli.commands[command].params}
        for name in DOCUMENTED:
            assert params[name].opts == ["--" + name.replace("_", "-")], (command, name)


def test_values_not_given_or_empty_keep_the_dataclass_defaults() -> None:
    given = {name: None for name in DOCUMENTED} | {"image": "reg/kf:2", "db_secret": "", "generate_name": True}
    options = from_values(StepOptions, given)
    assert options == StepOptions(image="reg/kf:2")
