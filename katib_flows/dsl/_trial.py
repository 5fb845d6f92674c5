"""The process one ``tune`` trial runs in: ``python -m katib_flows.dsl._trial PAYLOAD name=value...``.

Started by the local lanes like any trial command. It loads the pickled payload that ``tune`` wrote
(the function pickled on its own, its search space, the objective's name and the caller's ``sys.path``,
added before the function is unpickled so the modules it refers to import here too), turns Katib's
text values back into Python values (``Param.typed``), calls the function with them as keyword
arguments and reports what it returns with ``report_metrics`` (the Push collector reads it): a dict
as metrics, a number as the objective. A function that reports by itself may return None. An
exception prints its traceback and exits 1, so the trial is Failed with the traceback's end in its
message; the notebook lives on.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import Any

from katib_flows_collector import report_metrics


def call(payload: dict[str, Any], assignments: Sequence[str]) -> None:
    sys.path[:0] = [p for p in payload.get("sys_path", []) if p not in sys.path]
    fn = pickle.loads(payload["fn"])  # cloudpickle's output loads with pickle when cloudpickle is installed
    params = payload["params"]
    kwargs = {}
    for item in assignments:
        name, _, text = item.partition("=")
        kwargs[name] = params[name].typed(text) if name in params else text
    result = fn(**kwargs)
    if result is None:
        return
    if isinstance(result, Real) and not isinstance(result, bool):
        result = {payload["objective"]: float(result)}
    if not isinstance(result, dict):
        raise TypeError(
            f"the trial function returned {type(result).__name__}; return a dict of metrics, a number "
            f"(the objective {payload['objective']!r}), or None after calling report_metrics"
        )
    report_metrics(
        {str(k): float(v) if isinstance(v, Real) and not isinstance(v, bool) else v for k, v in result.items()}
    )


def main(argv: Sequence[str]) -> int:
    path, *assignments = argv
    payload = pickle.loads(Path(path).read_bytes())  # written by tune() for this experiment only
    call(payload, assignments)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
