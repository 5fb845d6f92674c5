"""Rules for the document's envelope (``apiVersion``, ``kind``, ``metadata``) and the trial counts.

Called by ``check`` in ``__init__.py``; the grid-size warning on ``spec.maxTrialCount`` is here too,
since it is a rule on the count (checked only once the rest of the document is sound).
"""

from __future__ import annotations

import re

from katib_flows_suggestion import grid_size

from katib_flows.spec._models import Experiment, ExperimentSpec
from katib_flows.spec._problems import Problem
from katib_flows.spec._search import to_search_problem

API_VERSION = "kubeflow.org/v1beta1"
NAME_MAX = 40
# Katib applies this regex unanchored at the end; trial and Job names derive from the experiment's,
# so we require the whole name to be a DNS-1123 label.
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def check_envelope(exp: Experiment) -> list[Problem]:
    problems = []
    if exp.api_version is not None and exp.api_version != API_VERSION:
        problems.append(
            Problem(
                "apiVersion",
                f"must be {API_VERSION}",
                f"write apiVersion: {API_VERSION}",
                value=exp.api_version,
                rule="api-version",
            )
        )
    if exp.kind is not None and exp.kind != "Experiment":
        problems.append(Problem("kind", "must be Experiment", "write kind: Experiment", value=exp.kind, rule="kind"))
    name = exp.metadata.name
    if name is not None and (not _NAME.match(name) or len(name) > NAME_MAX):
        problems.append(
            Problem(
                "metadata.name",
                f"must be lowercase letters, digits and '-', start with a letter, end with a letter or digit, "
                f"at most {NAME_MAX} characters",
                "rename the experiment, e.g. 'random-search-1'",
                value=name,
                rule="experiment-name",
            )
        )
    namespace = exp.metadata.namespace
    if namespace is not None and not _NAME.match(namespace):
        problems.append(
            Problem(
                "metadata.namespace",
                "must be a DNS-1123 label",
                "use e.g. 'team-a'",
                value=namespace,
                rule="namespace",
            )
        )
    return problems


def check_counts(spec: ExperimentSpec) -> list[Problem]:
    problems = []
    parallel, most, failed = spec.parallel_trial_count, spec.max_trial_count, spec.max_failed_trial_count
    if parallel is not None and parallel <= 0:
        problems.append(
            Problem(
                "spec.parallelTrialCount",
                "must be greater than 0",
                "set it to 1 or more",
                value=parallel,
                rule="positive",
            )
        )
    if most is not None and most <= 0:
        problems.append(
            Problem(
                "spec.maxTrialCount",
                "must be greater than 0",
                "set it to 1 or more, or leave it out for no limit",
                value=most,
                rule="positive",
            )
        )
    if failed is not None and failed < 0:
        problems.append(
            Problem(
                "spec.maxFailedTrialCount",
                "must be 0 or more",
                "set it to 0 or more",
                value=failed,
                rule="non-negative",
            )
        )
    if most is not None and most > 0:
        if parallel is not None and parallel > most:
            problems.append(
                Problem(
                    "spec.parallelTrialCount",
                    f"must not exceed spec.maxTrialCount ({most})",
                    f"lower it to {most} or raise maxTrialCount",
                    value=parallel,
                    rule="parallel-le-max",
                )
            )
        if failed is not None and failed > most:
            # Katib rejects this, yet its own simple-pbt.yaml example has it; it is harmless (the limit can
            # never be reached), so we warn.
            problems.append(
                Problem(
                    "spec.maxFailedTrialCount",
                    f"exceeds spec.maxTrialCount ({most}), so it can never be reached",
                    f"lower it to {most} or less",
                    value=failed,
                    severity="warning",
                    rule="failed-le-max",
                )
            )
    return problems


def check_search_space_size(spec: ExperimentSpec) -> list[Problem]:
    algorithm = spec.algorithm.algorithm_name if spec.algorithm else None
    if algorithm != "grid" or spec.max_trial_count is None or not spec.parameters:
        return []
    size = grid_size(to_search_problem(spec))
    if size is None or spec.max_trial_count <= size:
        return []
    # Katib rejects this; we run the whole grid and end with "search space exhausted".
    return [
        Problem(
            "spec.maxTrialCount",
            f"is larger than the grid ({size} combinations); the experiment will end when the grid is exhausted",
            f"lower it to {size}",
            value=spec.max_trial_count,
            rule="grid-size",
            severity="warning",
        )
    ]
