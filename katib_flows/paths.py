"""Where a local run keeps things on this machine, shared by the CLI and the Python DSL.

The store defaults to a SQLite file in the per-user data folder (``KATIB_FLOWS_DB`` overrides), trial
output to a ``logs`` folder beside it (``KATIB_FLOWS_LOGS`` overrides), PBT checkpoints to a ``checkpoints``
folder beside it (``KATIB_FLOWS_CHECKPOINTS`` overrides), and a nameless Experiment file is named after the
file (``slug``). One place, so a run from a notebook shows up in ``katib-flows experiments``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DB_ENV = "KATIB_FLOWS_DB"
LOGS_ENV = "KATIB_FLOWS_LOGS"
CHECKPOINTS_ENV = "KATIB_FLOWS_CHECKPOINTS"


def _data_folder() -> Path:
    import platformdirs

    return platformdirs.user_data_path("katib-flows", appauthor=False)


def default_db_url() -> str:
    """The embedded default: a SQLite file in the per-user data folder."""
    return f"sqlite:///{_data_folder() / 'katib-flows.db'}"


def resolve_db_url(db_url: str | None) -> str:
    """``db_url``, else ``$KATIB_FLOWS_DB``, else the default SQLite file."""
    return db_url or os.environ.get(DB_ENV) or default_db_url()


def logs_dir() -> Path:
    """Where local runs keep each trial's output, as ``<namespace>/<experiment>/<trial>.log``."""
    folder = os.environ.get(LOGS_ENV)
    return Path(folder) if folder else _data_folder() / "logs"


def trial_log_path(namespace: str, experiment: str, trial: str) -> Path:
    """Where a local run keeps one trial's output (``katib-flows logs`` and the UI read it there)."""
    return logs_dir() / namespace / experiment / f"{trial}.log"


def checkpoints_dir() -> Path:
    """Where trials keep PBT checkpoints, as ``<namespace>/<experiment>/<trial>/`` (see ``trial._checkpoint``)."""
    folder = os.environ.get(CHECKPOINTS_ENV)
    return Path(folder) if folder else _data_folder() / "checkpoints"


def slug(text: str, prefix: str = "experiment") -> str:
    """An experiment name (a DNS-1123 label of at most 40 characters) made of ``text``.

    Runs of anything but lowercase letters, digits and dashes become one dash; a name that would not start
    with a letter gets ``prefix`` and a dash in front. Used for nameless files, and for ``tune``'s functions.
    """
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"{prefix}-{name}".strip("-")
    return name[:40].rstrip("-")


def name_from_file(file: Path) -> str:
    """The name of a nameless Experiment file (``run``, ``compile``, ``submit``, the DSL): its stem as a slug."""
    return slug(file.stem)
