"""A local run suggests through its ``SuggestionCache``, and its trials are the ones a fresh process would suggest.

With one lane every trial is claimed after the previous one finished, so trial k must be exactly what a
stateless ``suggest`` gives from the first k trials as stored, with the experiment's seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import katib_flows_suggestion as sg
from local_helpers import script_experiment

from katib_flows.cli import _exit, main
from katib_flows.engine import _decide, experiment_of
from katib_flows.spec import to_search_problem
from katib_flows.store import Store


def test_a_local_run_suggests_what_a_fresh_process_would(local_env: str, write_experiment: Callable[..., Path]) -> None:
    document = script_experiment(
        args=["--value=${trialParameters.value}", "--exit=${trialParameters.fail}"],
        parameters=[
            {"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.001"}},
            {"name": "fail", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "1"}},
        ],
        algorithm="multivariate-tpe",
        maxTrialCount=14,
        maxFailedTrialCount=14,
        parallelTrialCount=1,
    )
    document["algorithm"]["algorithmSettings"] = [{"name": "n_startup_trials", "value": "4"}]
    assert main(["run", str(write_experiment(document)), "--name", "warm", "--seed", "5", "-q"]) == _exit.SUCCEEDED

    with Store(local_env) as store:
        record = store.get_experiment("default", "warm")
        trials = store.list_trials("default", "warm")
    experiment = experiment_of(record)
    problem = to_search_problem(experiment.spec)
    history = _decide.history(experiment, trials)
    assert len(history) == 14
    assert {t.status for t in history} == {"Succeeded", "Failed"}
    algorithm = sg.get_algorithm("multivariate-tpe")
    for k, trial in enumerate(history):
        expected = algorithm.suggest(problem, history[:k], record.seed)
        assert isinstance(expected, sg.Suggestion)
        assert expected.assignments == dict(trial.assignments), k
