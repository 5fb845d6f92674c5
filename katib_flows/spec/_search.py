"""From a validated Experiment spec to the plain ``Problem`` the search algorithms read.

Called by the rules (to validate algorithm settings against the space) and by the engine (to suggest).
Only call it on a spec whose parameters passed the rules: numbers are parsed here without checks.
"""

from __future__ import annotations

from typing import cast

import katib_flows_suggestion as sg

from katib_flows.spec._models import ExperimentSpec


def to_search_problem(spec: ExperimentSpec) -> sg.Problem:
    objective = spec.objective
    parameters = []
    for p in spec.parameters or []:
        fs = p.feasible_space
        assert fs is not None and p.name is not None
        parameters.append(
            sg.Parameter(
                name=p.name,
                type=cast(sg.ParameterType, p.parameter_type),
                min=float(fs.min) if fs.min is not None else None,
                max=float(fs.max) if fs.max is not None else None,
                step=float(fs.step) if fs.step is not None else None,
                values=tuple(fs.list or ()),
                distribution=cast(sg.Distribution, fs.distribution or "uniform"),
            )
        )
    return sg.Problem(
        parameters=tuple(parameters),
        objective=(objective.objective_metric_name or "") if objective else "",
        direction="minimize" if objective is not None and objective.type == "minimize" else "maximize",
        settings=spec.algorithm.settings() if spec.algorithm else {},
        max_trial_count=spec.max_trial_count,
        parallel_trial_count=spec.parallel_trial_count or 3,
        additional_objectives=tuple(
            (o.objective_metric_name or "", "minimize" if o.type == "minimize" else "maximize")
            for o in ((objective.additional_objectives or []) if objective else [])
        ),
    )
