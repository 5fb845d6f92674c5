"""Early-stopping rules as pure functions: medianstop per DESIGN.md section 8, successive halving, hyperband."""

from __future__ import annotations

import katib_flows_suggestion as sg
import pytest
from katib_flows_suggestion.early_stopping import (
    EARLY_STOPPING_RULES,
    curve,
    read_early_stopping,
    should_stop,
    validate_early_stopping,
)
from katib_flows_suggestion.early_stopping._rules import bracket_of

GOOD = {f"g{i}": curve([1.0, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.28]) for i in range(3)}


def _first_stop(
    rule: str, settings: dict[str, str], values: list[float], completed: dict[str, dict[int, float]]
) -> int | None:
    """Ask after every report, as a runner does; the step at which the rule stops the trial, or None."""
    for step in range(1, len(values) + 1):
        if should_stop(rule, settings, "minimize", completed, "bad", curve(values[:step])).stop:
            return step
    return None


def test_katib_defaults_and_names() -> None:
    assert EARLY_STOPPING_RULES[0] == "medianstop"
    assert read_early_stopping("medianstop", {}) == {"min_trials_required": 3, "start_step": 4}
    assert validate_early_stopping("medianstop", {"min_trials_required": "5", "start_step": "1"}) == []


@pytest.mark.parametrize(
    ("settings", "text"),
    [
        ({"min_trials_required": "0"}, "min_trials_required must be an integer >= 1, got '0'"),
        ({"start_step": "0"}, "start_step must be an integer >= 1"),
        ({"start_step": "x"}, "start_step must be an integer >= 1, got 'x'"),
        ({"min_trial_required": "3"}, "unknown setting min_trial_required for algorithm medianstop"),
    ],
)
def test_medianstop_settings_are_checked(settings: dict[str, str], text: str) -> None:
    (problem,) = validate_early_stopping("medianstop", settings)
    assert text in problem.message and problem.fix
    with pytest.raises(sg.InvalidSettingsError):
        should_stop("medianstop", settings, "minimize", {}, "t", {})


def test_an_unknown_rule_lists_the_valid_ones() -> None:
    with pytest.raises(sg.UnknownAlgorithmError, match="valid ones: medianstop, successivehalving, hyperband"):
        validate_early_stopping("median", {})


def test_medianstop_stops_a_clearly_bad_trial_at_start_step() -> None:
    assert _first_stop("medianstop", {}, [2.0, 1.9, 1.8, 1.7, 1.6, 1.5], GOOD) == 4


def test_medianstop_lets_a_good_trial_run() -> None:
    assert _first_stop("medianstop", {}, [0.9, 0.7, 0.5, 0.45, 0.3, 0.2, 0.2, 0.1], GOOD) is None


def test_medianstop_judges_at_every_report_not_once() -> None:
    """Katib checks once, at the start_step-th report; we keep checking, so a trial that stalls later stops."""
    stalls = [1.0, 0.8, 0.6, 0.5, 0.45, 0.45, 0.45, 0.45]
    assert _first_stop("medianstop", {}, stalls, GOOD) == 5  # at step 4 it equals the median: not worse


def test_medianstop_uses_the_best_value_so_far() -> None:
    """A noisy report worse than the median does not stop a trial whose best value is good."""
    assert _first_stop("medianstop", {}, [0.9, 0.7, 0.5, 0.4, 0.9], GOOD) is None


def test_medianstop_needs_min_trials_required_that_reached_the_step() -> None:
    two = dict(list(GOOD.items())[:2])
    assert _first_stop("medianstop", {}, [2.0] * 6, two) is None
    assert _first_stop("medianstop", {"min_trials_required": "2"}, [2.0] * 6, two) == 4
    short = {name: curve([1.0, 0.9]) for name in "abc"}  # never reached step 4
    assert _first_stop("medianstop", {}, [2.0] * 6, short) is None


def test_medianstop_compares_with_the_median_not_the_mean() -> None:
    completed = {"a": curve([0.1] * 4), "b": curve([0.2] * 4), "c": curve([9.0] * 4)}  # median 0.2, mean 3.1
    assert should_stop("medianstop", {}, "minimize", completed, "t", curve([0.5] * 4)).stop
    assert not should_stop("medianstop", {}, "maximize", completed, "t", curve([0.5] * 4)).stop


def test_medianstop_reads_steps_that_do_not_line_up() -> None:
    """A completed trial that reported at steps 2, 4, 6 has, at step 5, its value of step 4."""
    completed = {n: {2: 1.0, 4: 0.5, 6: 0.4} for n in "abc"}
    assert should_stop("medianstop", {}, "minimize", completed, "t", {1: 0.9, 5: 0.6}).stop
    assert not should_stop("medianstop", {}, "minimize", completed, "t", {1: 0.9, 5: 0.5}).stop


def test_the_running_trial_is_not_its_own_peer() -> None:
    completed = {**GOOD, "bad": curve([0.0] * 6)}
    assert should_stop("medianstop", {}, "minimize", completed, "bad", curve([2.0] * 6)).stop


def test_successive_halving_keeps_the_top_fraction_at_each_rung() -> None:
    settings = {"min_resource": "1", "reduction_factor": "2"}
    others = {f"o{i}": curve([float(i)] * 4) for i in range(4)}  # values 0, 1, 2, 3 at every step
    assert not should_stop("successivehalving", settings, "minimize", others, "t", curve([0.5])).stop
    assert should_stop("successivehalving", settings, "minimize", others, "t", curve([1.5])).stop
    # At step 3 the highest rung reached is step 2 (rungs at 1, 2, 4).
    assert (
        "rung 1 (step 2)"
        in should_stop("successivehalving", settings, "minimize", others, "t", curve([0.5] * 3)).reason
    )
    # Alone, a trial is always in its own top.
    assert not should_stop("successivehalving", settings, "minimize", {}, "t", curve([9.0])).stop


def test_hyperband_splits_trials_into_brackets_by_name() -> None:
    names = [f"trial-{i}" for i in range(300)]
    brackets = [bracket_of(n, 4, 3) for n in names]
    assert set(brackets) == {0, 1, 2, 3}
    assert brackets.count(0) > brackets.count(3)  # the most aggressive bracket gets the largest budget share
    assert validate_early_stopping("hyperband", {"max_resource": "27"}) == []
    (problem,) = validate_early_stopping("hyperband", {})
    assert problem.setting == "max_resource"
    verdict = should_stop("hyperband", {"max_resource": "27"}, "minimize", {}, "trial-1", curve([1.0] * 27))
    assert not verdict.stop and verdict.reason.startswith("bracket ")
