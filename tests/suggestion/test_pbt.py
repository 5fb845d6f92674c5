"""PBT: the population fills, exploit takes the donor's checkpoint, explore moves values, failures re-run."""

from __future__ import annotations

from pathlib import PurePath

import katib_flows_suggestion as sg
from katib_flows_suggestion._pbt import LABEL_GENERATION, LABEL_MEMBER, LABEL_PARENT

P = sg.Parameter
SPACE = (P("lr", "double", 0.01, 0.1, 0.01), P("layers", "int", 1, 8), P("opt", "categorical", values=("a", "b", "c")))
SETTINGS = {"suggestion_trial_dir": "/ckpt", "n_population": "5", "truncation_threshold": "0.2"}


def _problem(**settings: str) -> sg.Problem:
    return sg.Problem(SPACE, "accuracy", "maximize", settings={**SETTINGS, **settings})


def _population(problem: sg.Problem, values: list[float]) -> list[sg.Trial]:
    pbt = sg.get_algorithm("pbt")
    history: list[sg.Trial] = []
    for i, value in enumerate(values):
        decision = pbt.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        assert decision.labels == {LABEL_GENERATION: "0", LABEL_MEMBER: str(i)}
        history.append(sg.Trial(f"m{i}", decision.assignments, "Succeeded", value, labels=decision.labels))
    return history


def test_exploit_starts_from_the_donors_checkpoint_with_the_donors_values_explored() -> None:
    problem = _problem()
    history = _population(problem, [0.1, 0.9, 0.5, 0.6, 0.7])  # m0 is the worst, m1 the best (maximize)
    decision = sg.get_algorithm("pbt").suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion)
    # Lowest generation first, then member 0: the worst member exploits the only donor (top 20% of 5 = 1).
    assert decision.labels == {LABEL_GENERATION: "1", LABEL_PARENT: "m1", LABEL_MEMBER: "0"}
    donor = history[1].assignments
    assert decision.assignments != donor
    lr_ratio = float(decision.assignments["lr"]) / float(donor["lr"])
    assert 0.5 < lr_ratio < 2.0


def test_other_members_explore_from_their_own_checkpoint() -> None:
    problem = _problem()
    history = _population(problem, [0.8, 0.9, 0.1, 0.6, 0.7])
    running = sg.Trial("c0", history[0].assignments, "Running", labels={LABEL_GENERATION: "1", LABEL_MEMBER: "0"})
    decision = sg.get_algorithm("pbt").suggest(problem, [*history, running], 0)
    assert isinstance(decision, sg.Suggestion)
    assert decision.labels == {LABEL_GENERATION: "1", LABEL_PARENT: "m1", LABEL_MEMBER: "1"}


def test_resample_probability_one_draws_every_value_afresh() -> None:
    problem = _problem(resample_probability="1")
    history = _population(problem, [0.5, 0.9, 0.1, 0.6, 0.7])
    pbt = sg.get_algorithm("pbt")
    seen = set()
    for seed in range(20):
        decision = pbt.suggest(problem, history, seed)
        assert isinstance(decision, sg.Suggestion)
        seen.add(decision.assignments["layers"])
    assert len(seen) > 3  # perturbation alone reaches at most two neighbours of the donor's value


def test_a_failed_member_is_run_again_as_it_was() -> None:
    problem = _problem()
    history = _population(problem, [0.5, 0.9, 0.1, 0.6, 0.7])
    child = sg.Trial(
        "c", history[3].assignments, "Failed", labels={LABEL_GENERATION: "1", LABEL_PARENT: "m3", LABEL_MEMBER: "3"}
    )
    others = [
        sg.Trial(f"r{m}", history[m].assignments, "Running", labels={LABEL_GENERATION: "1", LABEL_MEMBER: str(m)})
        for m in (0, 1, 2, 4)
    ]
    decision = sg.get_algorithm("pbt").suggest(problem, [*history, *others, child], 0)
    assert decision == sg.Suggestion(dict(child.assignments), labels=dict(child.labels))


def test_wait_while_every_member_trains() -> None:
    problem = _problem()
    history = [sg.Trial(t.name, t.assignments, "Running", labels=t.labels) for t in _population(problem, [0.0] * 5)]
    decision = sg.get_algorithm("pbt").suggest(problem, history, 0)
    assert isinstance(decision, sg.Wait) and "all 5 members" in decision.reason


def test_generations_advance_in_a_long_run() -> None:
    problem = _problem()
    pbt = sg.get_algorithm("pbt")
    history: list[sg.Trial] = []
    for i in range(40):
        decision = pbt.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        score = float(decision.assignments["lr"]) * 5 + int(decision.assignments["layers"]) / 8
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", score, labels=decision.labels))
    generations = [int(t.labels[LABEL_GENERATION]) for t in history]
    assert max(generations) == 7  # 5 members, one step each in turn
    assert all(t.labels.get(LABEL_PARENT) in {h.name for h in history[:i]} for i, t in enumerate(history) if i >= 5)


def test_checkpoint_directories() -> None:
    dirs = sg.checkpoint_dirs("/data/pbt", "exp", "exp-child", {LABEL_PARENT: "exp-parent"})
    assert dirs == sg.CheckpointDirs(PurePath("/data/pbt/exp/exp-child"), PurePath("/data/pbt/exp/exp-parent"))
    assert sg.checkpoint_dirs("/data/pbt", "exp", "exp-first", {LABEL_GENERATION: "0"}).parent is None
