"""Keep point-proposing algorithms from repeating a point of a finite space, and end them when it is used up.

Called by ``random``, ``tpe``, ``multivariate-tpe``, ``sobol``, ``cmaes`` and ``bayesianoptimization`` on
each proposal (``fresh``), and by ``hyperband`` and ``asha`` for their new configurations. When every
parameter has a finite list of values (ints, doubles with a step, lists), a point already held by any trial
of the history, whatever its status, is replaced by the first unused point of a seeded order over the
space (grid search's order, so the replacement is spread over the space and costs O(history)); once every
point is held, the answer is ``Exhausted``. A space with a continuous double is treated as infinite: a
repeat there is a coincidence, and the proposal passes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from katib_flows_suggestion._base import Decision, Exhausted, Parameter, Suggestion, Trial, Value
from katib_flows_suggestion._grid import order_over
from katib_flows_suggestion._space import canonical, grid_values

Key = tuple[Value | None, ...]


def point_key(parameters: Sequence[Parameter], assignments: object) -> Key:
    """The canonical values of ``parameters`` in ``assignments`` (a mapping), None where a value is not feasible."""
    get = getattr(assignments, "get", None)
    return tuple(canonical(p, get(p.name)) if get is not None else None for p in parameters)


def space_size(parameters: Sequence[Parameter]) -> int | None:
    """How many points the space has; None when a double parameter has no step (a continuous space)."""
    size = 1
    for p in parameters:
        values = grid_values(p)
        if values is None:
            return None
        size *= len(values)
    return size


def used_keys(parameters: Sequence[Parameter], history: Sequence[Trial]) -> set[Key]:
    """The points held by trials of the history (any status), as canonical keys."""
    keys = {point_key(parameters, t.assignments) for t in history}
    return {k for k in keys if None not in k}


def fresh(
    parameters: Sequence[Parameter],
    history: Sequence[Trial],
    seed: int,
    proposal: dict[str, Value],
    *,
    used: set[Key] | None = None,
    wrap: Callable[[dict[str, Value]], Decision] = Suggestion,
) -> Decision:
    """``proposal`` if it is new (or the space is continuous), else an unused point, else ``Exhausted``.

    Only ``parameters`` are compared; ``proposal`` may hold other names (a resource parameter), which are
    kept. ``used`` may be passed when the caller has computed it already.
    """
    size = space_size(parameters)
    if size is None:
        return wrap(proposal)
    taken = used_keys(parameters, history) if used is None else used
    if point_key(parameters, proposal) not in taken:
        return wrap(proposal)
    if len(taken) >= size:
        return Exhausted(f"all {size} points of the search space have been tried")
    columns = [grid_values(p) or () for p in parameters]
    order = order_over([len(c) for c in columns], seed)
    for position in range(min(order.total, len(taken) + 1)):
        combination = order.at(position)
        candidate = tuple(column[i] for column, i in zip(columns, combination, strict=True))
        if candidate not in taken:
            return wrap({**proposal, **{p.name: v for p, v in zip(parameters, candidate, strict=True)}})
    raise AssertionError(f"unreachable: {len(taken)} used points of {size} and no free one among the first positions")
