"""Running a DSL ``Experiment`` on this machine: the same pipeline as ``katib-flows run``, from Python.

Called by ``Experiment.run`` and ``tune``. Check the document, open the store, register, run the local
lanes with a notebook-friendly progress display, and hand back a ``Result``. The store and the logs
folder default to the CLI's (``$KATIB_FLOWS_DB``/``$KATIB_FLOWS_LOGS``, else the user data folder), so a
run from a notebook shows up in ``katib-flows experiments`` and can be resumed from the shell.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from katib_flows.dsl._progress import progress_reporter
from katib_flows.dsl._result import Result
from katib_flows.errors import AlreadyExistsError, NotFoundError, SpecError
from katib_flows.paths import logs_dir, name_from_file, resolve_db_url

if TYPE_CHECKING:
    from katib_flows.dsl._experiment import Experiment


def store_url(db: str | None) -> str:
    """The store URL: ``db``, else ``$KATIB_FLOWS_DB``, else the CLI's default SQLite file."""
    return resolve_db_url(db)


def experiment_name(experiment: Experiment) -> str:
    """The experiment's name; for a nameless spec read from a file, derived from the file name as the CLI does."""
    if experiment.name:
        return experiment.name
    if experiment.source is not None:
        return name_from_file(experiment.source)
    raise SpecError("metadata.name: the experiment needs a name to run; give Experiment(name=...)")


def run_local(
    experiment: Experiment,
    *,
    db: str | None,
    seed: int | None,
    replace: bool,
    progress: bool,
    deadline: float | None,
    verbose: bool,
    before_register: Callable[[str, str], None] | None = None,
) -> Result:
    """Register and run ``experiment``; ``before_register(namespace, name)`` runs once ``replace`` cleared the
    old one."""
    from katib_flows.engine import algorithm_for, register_experiment
    from katib_flows.local import SOURCE_DIR_ANNOTATION, LocalRun, RunOptions
    from katib_flows.store import Store

    prepared = experiment.prepared(
        namespace=experiment.namespace or "default",
        annotations={SOURCE_DIR_ANNOTATION: str(experiment.resolved_working_dir())},
    )
    name, namespace = prepared.name, prepared.namespace or "default"
    algorithm_for(prepared)
    url = store_url(db)
    logs = logs_dir()
    with Store(url, upgrade=url.startswith("sqlite")) as store:
        if replace:
            with suppress(NotFoundError):
                store.delete_experiment(namespace, name)
            shutil.rmtree(logs / namespace / name, ignore_errors=True)
        if before_register is not None:
            before_register(namespace, name)
        try:
            register_experiment(store, prepared, namespace=namespace, name=name, seed=seed)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(
                f"{exc}; run(replace=True) deletes it first, Result({name!r}) reads its results, and "
                f"`katib-flows resume {name}` continues it"
            ) from exc
        reporter = progress_reporter(progress, verbose=verbose)
        LocalRun(store, namespace, name, reporter, RunOptions(deadline=deadline, logs_dir=logs)).run()
    return Result(name, namespace=namespace, db=url, space=experiment.parameters)
