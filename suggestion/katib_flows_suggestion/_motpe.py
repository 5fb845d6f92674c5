"""``motpe``: multi-objective TPE (Ozaki et al. 2020), optuna's TPESampler given every objective's direction.

An extension name for experiments with ``objective.additionalObjectives``; ``tpe`` and ``multivariate-tpe``
become the same sampler when they see several objectives, so ``motpe`` is the name that says so. The
sampler ranks finished trials by non-dominated sorting (ties broken by hypervolume contribution) to pick the
"good" ones, then proposes like TPE. Settings are ``multivariate-tpe``'s: ``n_startup_trials`` (random
trials first, default 10), ``n_ei_candidates`` and ``random_state``; the estimators are independent per
parameter, as in the MOTPE paper. With a single objective it is plain independent TPE.
"""

from __future__ import annotations

from katib_flows_suggestion._tpe import TPE


class MOTPE(TPE):
    """TPE over several objectives; see the module docstring."""

    name = "motpe"
    multivariate = False
