"""From a validated Experiment spec to the plain ``Problem`` the search algorithms read.

Called by the rules (to validate algorithm settings against the space) and by the engine (to suggest).
Only call it on a spec whose parameters passed the rules: numbers of ``spec.parameters`` are parsed here
without checks. ``spec.nasConfig`` becomes ``Problem.nas`` (its operations' parameters parsed like
``spec.parameters``; a number that does not parse is left out, for the NAS rules to report).
"""

from __future__ import annotations

import math
from typing import cast

import katib_flows_suggestion as sg

from katib_flows.spec._models import ExperimentSpec, NasConfig, ParameterSpec


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is None or math.isfinite(value) else None


def _parameter(p: ParameterSpec) -> sg.Parameter:
    fs = p.feasible_space
    assert fs is not None and p.name is not None
    return sg.Parameter(
        name=p.name,
        type=cast(sg.ParameterType, p.parameter_type),
        min=_number(fs.min),
        max=_number(fs.max),
        step=_number(fs.step),
        values=tuple(fs.list or ()),
        distribution=cast(sg.Distribution, fs.distribution or "uniform"),
    )


def _nas(nas: NasConfig) -> sg.NasConfig:
    graph = nas.graph_config
    return sg.NasConfig(
        num_layers=graph.num_layers if graph is not None else None,
        input_sizes=tuple(graph.input_sizes or ()) if graph is not None else (),
        output_sizes=tuple(graph.output_sizes or ()) if graph is not None else (),
        operations=tuple(
            sg.NasOperation(
                type=operation.operation_type or "",
                parameters=tuple(
                    _parameter(p) for p in operation.parameters or [] if p.name and p.feasible_space is not None
                ),
            )
            for operation in nas.operations or []
        ),
    )


def to_search_problem(spec: ExperimentSpec) -> sg.Problem:
    objective = spec.objective
    return sg.Problem(
        parameters=tuple(_parameter(p) for p in spec.parameters or []),
        objective=(objective.objective_metric_name or "") if objective else "",
        direction="minimize" if objective is not None and objective.type == "minimize" else "maximize",
        settings=spec.algorithm.settings() if spec.algorithm else {},
        max_trial_count=spec.max_trial_count,
        parallel_trial_count=spec.parallel_trial_count or 3,
        additional_objectives=tuple(
            (o.objective_metric_name or "", "minimize" if o.type == "minimize" else "maximize")
            for o in ((objective.additional_objectives or []) if objective else [])
        ),
        nas=_nas(spec.nas_config) if spec.nas_config is not None else None,
    )
