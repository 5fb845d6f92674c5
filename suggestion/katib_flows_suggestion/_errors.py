"""The errors this package raises, so callers can tell "no such algorithm" from "not built yet" from "bad settings".

Raised by the registry (``get_algorithm``, ``validate_settings``) and by ``suggest`` when it is handed settings
that ``validate`` would have rejected. The two lookup errors subclass ``LookupError`` so a caller that only
asks "can I get this algorithm?" can catch both at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_flows_suggestion._base import SettingProblem


class UnknownAlgorithmError(LookupError):
    """The name is not one of Katib's algorithms."""


class InvalidPluginError(UnknownAlgorithmError):
    """An entry point of group ``katib_flows.algorithms`` that does not load, or is not an ``Algorithm`` of its name."""


class NotImplementedAlgorithmError(LookupError):
    """The name is a Katib algorithm that katib-flows does not run (yet); its settings can still be validated."""


class InvalidSettingsError(ValueError):
    """``suggest`` was called with algorithm settings that break the algorithm's rules."""

    def __init__(self, algorithm: str, problems: Sequence[SettingProblem]) -> None:
        self.algorithm = algorithm
        self.problems = tuple(problems)
        details = "; ".join(p.message for p in problems)
        super().__init__(f"invalid settings for algorithm {algorithm}: {details}")
