"""The report's data and figures on hand-built histories: counts, best-so-far, importance, Pareto front, HTML."""

from __future__ import annotations

import re

import pytest
from report_helpers import hand_history

from katib_flows import report
from katib_flows.report import Objective


def test_history_keeps_only_succeeded_trials_with_a_value() -> None:
    history = hand_history()
    assert [t.name for t in history.completed()] == ["hand-0", "hand-1", "hand-3"]
    assert history.best_so_far() == [0.5, 0.7, 0.7]
    assert history.best_trial() is not None and history.best_trial().name == "hand-1"  # type: ignore[union-attr]
    assert history.curve("hand-1", "score") == ([0, 1], [0.1, 0.7])
    assert history.metric_names == ["score"]


def test_rows_have_parameters_metrics_and_durations() -> None:
    rows = hand_history().rows()
    assert len(rows) == 5
    assert rows[1] == rows[1] | {"trial": "hand-1", "status": "Succeeded", "objective": 0.7, "lr": 0.05, "units": 32}
    assert rows[1]["metric:score"] == 0.7 and rows[1]["seconds"] == 1.0
    assert rows[2]["objective"] is None and rows[2]["metric:score"] is None


def test_figures_show_one_point_and_one_line_per_completed_trial() -> None:
    history = hand_history()
    figures = report.figures(history)
    assert list(figures) == ["history", "parallel-coordinates", "importance", "curves"]
    points, best = figures["history"].data
    assert list(points.y) == [0.5, 0.7, 0.6] and list(best.y) == [0.5, 0.7, 0.7]
    [parcoords] = figures["parallel-coordinates"].data
    labels = [d.label for d in parcoords.dimensions]
    assert labels == ["lr (log10)", "units", "act", "score"]
    assert all(len(d["values"]) == 3 for d in parcoords.dimensions)
    assert list(parcoords.dimensions[2].ticktext) == ["relu", "tanh"]
    assert len(figures["curves"].data) == 4  # the failed trial reported nothing
    assert {trace.name for trace in figures["curves"].data} == {"hand-0", "hand-1", "hand-3", "hand-4"}


def test_importance_covers_every_parameter_and_sums_to_one() -> None:
    scores, method = report.importances(hand_history())
    assert method in ("fANOVA", "PED-ANOVA")
    assert set(scores) == {"lr", "units", "act"}
    assert sum(scores.values()) == pytest.approx(1.0)


def test_importance_needs_two_different_values() -> None:
    history = hand_history()
    single = type(history)(history.experiment, history.trials[:1], history.logs)
    assert report.importances(single)[0] == {}
    assert "needs at least two" in report.parameter_importance(single).layout.title.text


def test_pareto_optimal_points() -> None:
    values = [(1.0, 5.0), (2.0, 4.0), (1.5, 4.5), (1.0, 4.0), (3.0, 1.0)]
    assert report.pareto_optimal(values, [True, True]) == [0, 1, 2, 4]
    assert report.pareto_optimal(values, [False, False]) == [3, 4]
    assert report.pareto_optimal(values, [True, False]) == [4]


def test_pareto_front_figure_marks_the_front() -> None:
    points = [("a", [1.0, 1.0]), ("b", [2.0, 4.0]), ("c", [1.5, 5.0])]  # c: less accurate and slower than b
    fig = report.pareto_front(points, [Objective("accuracy", True), Objective("latency", False)])
    dominated, front = fig.data
    assert sorted(front.text) == ["a", "b"] and list(dominated.text) == ["c"]
    assert "latency (minimize)" in fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="at least two objectives"):
        report.pareto_front(points, [Objective("accuracy", True)])


def test_html_is_self_contained_and_escapes_values() -> None:
    history = hand_history()
    page = report.render_html(history)
    assert page.count("<script") >= 5 and not re.search(r"<script[^>]+src=", page)  # plotly.js inlined, no CDN
    assert "Plotly.newPlot" in page and 'id="trials"' in page
    assert page.count("<tr><td>hand-") == 5
    assert "maximize score" in page and "[0.001, 0.1] logUniform" in page


def test_an_experiment_without_trials_still_has_a_page() -> None:
    history = hand_history()
    empty = type(history)(history.experiment, [], {})
    page = report.render_html(empty)
    assert "Parameters against score (0 completed trials)" in page and page.count("<tr><td>hand-") == 0
