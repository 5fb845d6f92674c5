"""``prepare``: the one way a loaded Experiment document becomes the checked Experiment a front end acts on.

Called by every front end before it runs, compiles, submits or stores an experiment: the CLI's ``run``,
``compile``, ``submit`` and ``step init``, the DSL (``Experiment.spec``, ``run``, ``compile``, ``submit``) and
``local.take_over`` (``resume --max-trials``). It applies the caller's name, namespace, annotations and spec
overrides to a copy of the document and checks the result again, because what the caller changed obeys
the same rules as the file (a ``--name`` must be a DNS label, ``--max-trials`` must leave room for the
parallel trials). Every error found is raised together as one ``SpecError``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from katib_flows.spec._load import ENVELOPE_KEYS, check_document
from katib_flows.spec._models import Experiment


def prepare(
    document: Mapping[str, Any],
    *,
    source: str,
    name: str | None = None,
    namespace: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Experiment:
    """The checked, defaulted Experiment of ``document`` with the caller's changes; ``SpecError`` otherwise.

    ``name`` and ``namespace`` replace ``metadata.name``/``metadata.namespace`` when given (None keeps the
    document's); ``overrides`` replace fields of ``spec`` by their Katib names (``maxTrialCount``...), a None
    value leaving the field as it is; ``annotations`` are added to ``metadata.annotations``. ``source`` names
    the document in messages (a file, ``Experiment(NAME)``...). ``document`` itself is not changed.
    """
    changed = copy.deepcopy(dict(document))
    if not ENVELOPE_KEYS & changed.keys():  # a bare spec, as check_document reads one
        changed = {"spec": changed}
    metadata = changed.setdefault("metadata", {})
    if name:
        metadata["name"] = name
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata.setdefault("annotations", {}).update(annotations)
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    if given:
        changed.setdefault("spec", {}).update(given)
    return check_document(changed, source).experiment_or_raise()
