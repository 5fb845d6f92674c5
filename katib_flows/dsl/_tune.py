"""``tune(fn, ...)``: tune a Python function, each trial a subprocess calling it with typed values.

A crash of one trial (an exception, a segfault, ``os._exit``) fails that trial only: the notebook keeps
running. The function goes to the trial processes pickled into one file beside the experiment's logs, with the
caller's ``sys.path`` (as multiprocessing's spawn does), so what the notebook imports, the trials import:

- with cloudpickle installed (``pip install 'katib-flows[notebook]'``), by value, so functions defined
  in a notebook cell, closures and lambdas all work;
- without it, by reference with the standard pickle, so the function must be importable: defined at
  the top level of a module on ``sys.path`` (not in ``__main__``), as multiprocessing requires.

The trial's values arrive as keyword arguments of their Python types (``search.int`` gives an ``int``,
a ``categorical([True, False])`` a ``bool``), not as Katib's strings. The function returns its metrics
(a dict, or a number for the objective) or reports them with ``report_metrics`` (per step, for curves
and early stopping); as in Katib, the objective and the objective's ``additional`` metrics are kept.
Everything else is an ``Experiment`` whose trial command runs ``_trial``.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import Any

from katib_flows.dsl._experiment import Experiment
from katib_flows.dsl._result import Result
from katib_flows.dsl._run import logs_dir, run_local
from katib_flows.dsl.search import Objective, Param
from katib_flows.errors import SpecError
from katib_flows.paths import slug

PAYLOAD = "function.pkl"


def tune(
    fn: Callable[..., Any],
    *,
    parameters: Mapping[str, Param],
    objective: Objective,
    name: str | None = None,
    algorithm: str = "random",
    algorithm_settings: Mapping[str, Any] | None = None,
    max_trials: int = 10,
    parallel: int = 1,
    max_failed: int | None = None,
    early_stopping: str | None = None,
    early_stopping_settings: Mapping[str, Any] | None = None,
    namespace: str | None = None,
    db: str | None = None,
    seed: int | None = None,
    replace: bool = False,
    progress: bool = True,
    deadline: float | None = None,
    verbose: bool = False,
) -> Result:
    """Run ``fn(**values)`` as the trial of an experiment on this machine; returns its ``Result``."""
    data = _pickle(fn)
    name = name or slug(getattr(fn, "__name__", "tune"), prefix="tune")
    payload_path = logs_dir() / (namespace or "default") / name / PAYLOAD
    experiment = Experiment(
        name,
        objective=objective,
        parameters=parameters,
        algorithm=algorithm,
        algorithm_settings=algorithm_settings,
        max_trials=max_trials,
        parallel=parallel,
        max_failed=max_failed,
        early_stopping=early_stopping,
        early_stopping_settings=early_stopping_settings,
        namespace=namespace,
        metrics_collector="Push",
        command=[
            sys.executable,
            "-m",
            "katib_flows.dsl._trial",
            str(payload_path),
            *(f"{p}=${{trialParameters.{p}}}" for p in parameters),
        ],
    )

    def before_register(namespace: str, name: str) -> None:
        payload_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"fn": data, "params": dict(parameters), "objective": objective.metric, "sys_path": list(sys.path)}
        payload_path.write_bytes(pickle.dumps(payload))

    return run_local(
        experiment,
        db=db,
        seed=seed,
        replace=replace,
        progress=progress,
        deadline=deadline,
        verbose=verbose,
        before_register=before_register,
    )


def _pickle(fn: Callable[..., Any]) -> bytes:
    """``fn`` pickled, checked now (in the notebook) so that trial processes will be able to load it."""
    if not callable(fn):
        raise SpecError(f"tune needs a function, got {type(fn).__name__}")
    if find_spec("cloudpickle") is not None:
        import cloudpickle

        return bytes(cloudpickle.dumps(fn))
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    if module in (None, "__main__") or "<" in qualname:
        raise SpecError(
            f"tune cannot send {qualname or fn!r} to trial processes: without cloudpickle the function must be "
            "defined at the top level of an importable module (not in a notebook or __main__); "
            "pip install cloudpickle (or 'katib-flows[notebook]') to tune any function"
        )
    try:
        return pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise SpecError(f"tune cannot pickle {qualname}: {exc}") from exc
