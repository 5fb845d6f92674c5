"""Katib's validating webhook as a list of rules over a defaulted Experiment, plus the checks Katib
leaves to run time (numbers that parse, min <= max, step > 0, lists not empty) so they fail at lint.

``check(experiment)`` returns every broken rule as a ``Problem``; it never raises for user input. It is
called by ``_load`` and walks the spec section by section, one module each: ``_envelope`` (apiVersion,
kind, metadata, trial counts), ``_objective``, ``_algorithm`` (with early stopping), ``_parameters``
(with ``_nas``), ``_collector`` and ``_trial_template``. Where we differ from Katib on purpose, the
comment says so (DESIGN.md section 8).
"""

from __future__ import annotations

from katib_flows_suggestion import NAS_ASSIGNMENTS

from katib_flows.spec._models import Experiment
from katib_flows.spec._problems import Problem
from katib_flows.spec._rules._algorithm import check_algorithm, check_early_stopping
from katib_flows.spec._rules._choices import bad_choice
from katib_flows.spec._rules._collector import check_collector
from katib_flows.spec._rules._envelope import check_counts, check_envelope, check_search_space_size
from katib_flows.spec._rules._objective import check_objective
from katib_flows.spec._rules._parameters import check_parameters
from katib_flows.spec._rules._trial_template import check_trial_template

RESUME_POLICIES = ("Never", "LongRunning", "FromVolume")


def check(experiment: Experiment) -> list[Problem]:
    problems = check_envelope(experiment)
    spec = experiment.spec
    problems += check_counts(spec)
    problems += check_objective(spec)
    problems += check_algorithm(spec)
    problems += check_early_stopping(spec)
    problems += check_parameters(spec)
    problems += check_collector(spec.metrics_collector_spec)
    if spec.resume_policy not in RESUME_POLICIES:
        problems.append(bad_choice("spec.resumePolicy", spec.resume_policy, RESUME_POLICIES, "resume-policy"))
    if spec.trial_template is None:
        problems.append(Problem("spec.trialTemplate", "is required", "add a trialTemplate", rule="required"))
    else:
        nas = None
        if spec.nas_config is not None:
            algorithm = spec.algorithm.algorithm_name if spec.algorithm else None
            nas = NAS_ASSIGNMENTS.get(algorithm or "", ())
        problems += check_trial_template(spec.trial_template, spec.parameters or [], nas)
    if not problems or all(not p.is_error for p in problems):
        problems += check_search_space_size(spec)
    return problems
