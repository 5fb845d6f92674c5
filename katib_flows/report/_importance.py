"""Parameter importance from the history, computed by Optuna's evaluators on an in-memory study.

fANOVA (random forests, the classic) when scikit-learn is installed, else PED-ANOVA, Optuna's default,
which needs nothing more. Called by the importance figure; returns scores normalised to sum to 1 and the
method's name, or no scores when fewer than two completed trials differ.
"""

from __future__ import annotations

import warnings
from importlib.util import find_spec

from katib_flows.report._history import History
from katib_flows.report._optuna import quiet_optuna, study_from


def importances(history: History) -> tuple[dict[str, float], str]:
    """(importance per parameter, most important first; the method used)."""
    import optuna

    evaluator: optuna.importance.BaseImportanceEvaluator
    if find_spec("sklearn") is not None:
        evaluator, method = optuna.importance.FanovaImportanceEvaluator(seed=0), "fANOVA"
    else:
        evaluator, method = optuna.importance.PedAnovaImportanceEvaluator(), "PED-ANOVA"
    completed = history.completed()
    if len(completed) < 2 or len({t.objective_value for t in completed}) < 2 or not history.parameters:
        return {}, method
    study = study_from(history)
    with warnings.catch_warnings(), quiet_optuna():
        warnings.simplefilter("ignore")  # experimental-feature and fit warnings are not the reader's concern
        target = (lambda t: t.values[0]) if len(history.objectives) > 1 else None
        scores = optuna.importance.get_param_importances(study, evaluator=evaluator, target=target)
    return {name: float(score) for name, score in scores.items()}, method
