"""Deterministic seeds: one base seed per experiment, mixed with the call's position in the history.

Algorithms call ``derive(seed, len(history), ...)`` so that two fresh instances asked the same question
draw the same numbers, while successive calls with a growing history draw different ones. Built on
numpy's ``SeedSequence``, which mixes its inputs well and gives the same output on every platform.
"""

from __future__ import annotations

import numpy as np

_MASK = (1 << 64) - 1


def derive(*parts: int) -> int:
    """A 32-bit seed (what ``numpy.random.RandomState`` and optuna's samplers accept) mixed from ``parts``."""
    return int(np.random.SeedSequence([p & _MASK for p in parts]).generate_state(1, np.uint32)[0])


def generator(*parts: int) -> np.random.Generator:
    """A numpy generator seeded from ``parts``."""
    return np.random.default_rng(np.random.SeedSequence([p & _MASK for p in parts]))
