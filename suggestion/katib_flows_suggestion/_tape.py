"""Reverse-mode differentiation of small numpy expressions: just what enas's LSTM controller needs.

Used by ``_enas_controller`` only. Each operation returns a ``Var`` holding its value, its inputs and the
function that maps the gradient of its output to the gradients of its inputs; ``gradients`` walks the
graph once, from the loss back to the leaves. Written here because Katib's controller is a TensorFlow
graph and this package must not pull TensorFlow (or torch) in for a network of a few thousand weights;
``tests/suggestion/test_enas.py`` checks every operation against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
_Back = Callable[[Array], Sequence[Array | None]]


class Var:
    """A value in the graph: a leaf (a weight, a constant) or the result of an operation."""

    __slots__ = ("back", "grad", "parents", "value")

    def __init__(self, value: Any, parents: tuple[Var, ...] = (), back: _Back | None = None) -> None:
        self.value: Array = np.asarray(value, dtype=np.float64)
        self.parents = parents
        self.back = back
        self.grad: Array | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __add__(self, other: Var) -> Var:
        return _op(
            self.value + other.value,
            (self, other),
            lambda g: (_unbroadcast(g, self.shape), _unbroadcast(g, other.shape)),
        )

    def __sub__(self, other: Var) -> Var:
        return _op(
            self.value - other.value,
            (self, other),
            lambda g: (_unbroadcast(g, self.shape), -_unbroadcast(g, other.shape)),
        )

    def __mul__(self, other: Var) -> Var:
        a, b = self.value, other.value
        return _op(a * b, (self, other), lambda g: (_unbroadcast(g * b, self.shape), _unbroadcast(g * a, other.shape)))

    def __neg__(self) -> Var:
        return _op(-self.value, (self,), lambda g: (-g,))

    def __matmul__(self, other: Var) -> Var:
        a, b = self.value, other.value

        def back(g: Array) -> tuple[Array, Array]:
            return _unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape), _unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape)

        return _op(a @ b, (self, other), back)

    def __getitem__(self, key: Any) -> Var:
        shape = self.shape

        fancy = isinstance(key, np.ndarray) or (isinstance(key, tuple) and any(isinstance(k, np.ndarray) for k in key))

        def back(g: Array) -> tuple[Array]:
            full = np.zeros(shape)
            if fancy:
                np.add.at(full, key, g)  # an index may repeat (two layers, one operation): add, do not overwrite
            else:
                full[key] = g  # slices: each position once
            return (full,)

        return _op(self.value[key], (self,), back)


def const(value: Any) -> Var:
    """A value no gradient flows into."""
    return Var(value)


def _op(value: Array, parents: tuple[Var, ...], back: _Back) -> Var:
    return Var(value, parents, back)


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """``g`` summed back to ``shape`` over the axes numpy broadcast."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def tanh(x: Var) -> Var:
    y = np.tanh(x.value)
    return _op(y, (x,), lambda g: (g * (1.0 - y * y),))


def sigmoid(x: Var) -> Var:
    y = 1.0 / (1.0 + np.exp(-x.value))
    return _op(y, (x,), lambda g: (g * y * (1.0 - y),))


def log(x: Var) -> Var:
    return _op(np.log(x.value), (x,), lambda g: (g / x.value,))


def log_softmax(x: Var) -> Var:
    """Over the last axis."""
    shifted = x.value - x.value.max(axis=-1, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    soft = np.exp(y)
    return _op(y, (x,), lambda g: (g - soft * g.sum(axis=-1, keepdims=True),))


def pick(x: Var, index: NDArray[np.int64]) -> Var:
    """``x[..., index]`` element by element: one entry of the last axis per position of ``index``."""
    chosen = np.take_along_axis(x.value, index[..., None], axis=-1)[..., 0]

    def back(g: Array) -> tuple[Array]:
        full = np.zeros(x.shape)
        np.put_along_axis(full, index[..., None], g[..., None], axis=-1)
        return (full,)

    return _op(chosen, (x,), back)


def total(x: Var, axis: int | None = None) -> Var:
    """The sum over ``axis`` (over everything when None)."""
    shape = x.shape

    def back(g: Array) -> tuple[Array]:
        return (np.broadcast_to(g if axis is None else np.expand_dims(g, axis), shape).copy(),)

    return _op(x.value.sum(axis=axis), (x,), back)


def reshape(x: Var, shape: tuple[int, ...]) -> Var:
    original = x.shape
    return _op(x.value.reshape(shape), (x,), lambda g: (g.reshape(original),))


def stack(xs: Sequence[Var], axis: int) -> Var:
    xs = tuple(xs)  # the caller's list may grow afterwards

    def back(g: Array) -> list[Array]:
        return [np.take(g, i, axis=axis) for i in range(len(xs))]

    return _op(np.stack([x.value for x in xs], axis=axis), xs, back)


def gradients(loss: Var, leaves: Sequence[Var]) -> list[Array]:
    """d loss / d leaf for each of ``leaves`` (zeros where the loss does not depend on it)."""
    order: list[Var] = []
    seen: set[int] = set()
    todo: list[tuple[Var, bool]] = [(loss, False)]
    while todo:  # an iterative post-order walk: the graph of a deep controller is deeper than the recursion limit
        node, expanded = todo.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        todo.append((node, True))
        todo.extend((parent, False) for parent in node.parents if id(parent) not in seen)
    for node in order:
        node.grad = None
    loss.grad = np.ones(loss.shape)
    for node in reversed(order):
        if node.back is None or node.grad is None:
            continue
        for parent, g in zip(node.parents, node.back(node.grad), strict=True):
            if g is not None:
                parent.grad = g if parent.grad is None else parent.grad + g
    return [leaf.grad if leaf.grad is not None else np.zeros(leaf.shape) for leaf in leaves]
