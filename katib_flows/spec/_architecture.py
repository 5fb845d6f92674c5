"""An ENAS trial's architecture for people: its layers, their operations and skip connections, in words.

ENAS gives each trial two assignments in Katib's formats (``architecture``, ``nn_config``: JSON with ``'``
for ``"``); as text they are long and say little (``[[28], [104, 1]]`` and a page of nn_config). Called by
``report._views`` (``trial_view`` and ``optimal_view`` add the ``architecture`` this builds), which the CLI's
``trials`` and ``best``, the HTML report and the UI all print from, and by the local run's progress lines,
so there is one way to read and one way to word an architecture. It lives with the spec, the lowest layer,
because it is pure and the local runner (below the report) prints it too.

Katib's numbering: layer 0 is the input, layers count from 1; layer ``l``'s list holds its operation's id
and ``l - 1`` skip bits, bit ``i`` joining layer ``i``'s output to it (layer ``l - 1`` always is). A trial
whose assignments are not an architecture in that format (any other algorithm's, or a malformed one) has
no architecture view: its assignments are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The assignments ENAS gives a trial (``katib_flows_suggestion.NAS_ASSIGNMENTS["enas"]``).
ARCHITECTURE, NN_CONFIG = "architecture", "nn_config"


@dataclass(frozen=True)
class Layer:
    """One layer of an architecture: Katib's number, the operation and the layers its skip connections join."""

    number: int
    operation: int
    type: str
    parameters: dict[str, str]
    skips: tuple[int, ...]

    def operation_text(self) -> str:
        """The operation in words: ``convolution 7x7, 128 filters, stride 1``, ``max pooling 3x3``."""
        rest = dict(self.parameters)
        head = self.type.replace("_", " ")
        if self.type == "reduction" and "reduction_type" in rest:
            head = rest.pop("reduction_type").replace("_", " ")
        size = rest.pop("filter_size", None) or rest.pop("pool_size", None)
        if size is not None:
            head += f" {size}x{size}"
        parts = [head]
        if "num_filter" in rest:
            parts.append(f"{rest.pop('num_filter')} filters")
        for key, label in (("stride", "stride"), ("depth_multiplier", "depth multiplier")):
            if key in rest:
                parts.append(f"{label} {rest.pop(key)}")
        parts += [f"{k}={v}" for k, v in rest.items()]  # parameters of operations Katib's examples do not have
        return ", ".join(parts)

    def skips_text(self) -> str:
        """``skip from input, layer 2``, or empty without skip connections."""
        if not self.skips:
            return ""
        return "skip from " + ", ".join("input" if s == 0 else f"layer {s}" for s in self.skips)


def read_architecture(assignments: Mapping[str, Any]) -> tuple[Layer, ...] | None:
    """The layers of an ENAS trial's assignments, or None when they hold no architecture in Katib's format."""
    if ARCHITECTURE not in assignments or NN_CONFIG not in assignments:
        return None
    from katib_flows_suggestion import read_katib_json

    try:
        architecture = read_katib_json(str(assignments[ARCHITECTURE]).strip().strip('"'))
        nn_config = read_katib_json(str(assignments[NN_CONFIG]).strip().strip('"'))
        embedding = nn_config["embedding"]
        layers = []
        for number, row in enumerate(architecture, start=1):
            if len(row) != number or any(bit not in (0, 1) for bit in row[1:]):
                return None
            entry = embedding[str(row[0])]
            parameters = {str(k): str(v) for k, v in entry.get("opt_params", {}).items()}
            skips = tuple(i for i, bit in enumerate(row[1:]) if bit == 1)
            layers.append(Layer(number, int(row[0]), str(entry["opt_type"]), parameters, skips))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return tuple(layers) or None


def summary_text(layers: tuple[Layer, ...]) -> str:
    """One line for tables: ``1: convolution 7x7, 128 filters, stride 1 | 2: max pooling 3x3 (skip from input)``."""
    return " | ".join(
        f"{layer.number}: {layer.operation_text()}" + (f" ({layer.skips_text()})" if layer.skips else "")
        for layer in layers
    )


def architecture_lines(layers: tuple[Layer, ...]) -> list[str]:
    """A line per layer, for ``best`` and a trial's page: ``layer 2: max pooling 3x3; skip from input [op 104]``."""
    return [
        f"layer {layer.number}: {layer.operation_text()}"
        + (f"; {layer.skips_text()}" if layer.skips else "")
        + f" [operation {layer.operation}]"
        for layer in layers
    ]


def architecture_view(assignments: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``architecture`` of a trial's JSON view: a summary line and each layer, or None for no architecture."""
    layers = read_architecture(assignments)
    if layers is None:
        return None
    return {
        "summary": summary_text(layers),
        "layers": [
            {
                "layer": layer.number,
                "operation": layer.operation,
                "type": layer.type,
                "parameters": layer.parameters,
                "skipConnections": list(layer.skips),
                "description": line,
            }
            for layer, line in zip(layers, architecture_lines(layers), strict=True)
        ],
    }
