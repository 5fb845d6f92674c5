"""Katib's ENAS architecture format, read and built into a PyTorch network (the ENAS example's model).

``train.py`` calls ``read_assignment`` on the ``--architecture`` and ``--nn_config`` strings and
``build_model`` on what they hold. The formats are Katib's (``pkg/suggestion/v1beta1/nas/enas``):

- architecture: one list per layer. Layers count from 1, layer 0 being the input image; layer ``l``'s
  list holds ``l`` integers: the id of its operation, then ``l - 1`` skip bits, bit ``i`` connecting the
  output of layer ``i`` to layer ``l``; layer ``l - 1`` is always connected. ``[[3], [0, 1]]`` is two layers,
  the second taking the first's output and, through its skip bit, the input image too.
- nn_config: ``{"num_layers", "input_sizes" (height, width, channels), "output_sizes", "embedding"}``, where
  ``embedding`` maps each operation id used (as a string) to ``{"opt_id", "opt_type", "opt_params"}``.
- both arrive as JSON with ``'`` for ``"`` (Katib's services write them so). Katib's template puts them in
  ``"..."``, which a shell strips in Katib's pods (its metrics collector runs the command through ``sh -c``);
  a trial started without a shell, as katib-flows starts local trials, sees the quotes, so they are
  stripped here.

The network follows Katib's ``ModelConstructor.py`` and ``op_library.py``: a layer's inputs are
concatenated on channels after zero-padding the smaller ones to the largest height and width; convolutions
are ReLU, then the convolution with TensorFlow's "same" padding, then batch norm; a reduction is max or
average pooling with stride ``pool_size`` and no padding, or the identity where the input is too small
to pool; global average pooling and a linear layer end the network. One difference, on purpose: Katib's
``op_library`` looks the parameters up at the top of the embedding entry, where its service never puts
them (they are under ``opt_params``), so Katib's own trial builds every operation with its defaults; here
the parameters the controller chose are used.
"""

from __future__ import annotations

import json
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

#: Katib's op_library defaults, used for a parameter an operation does not list.
DEFAULTS: dict[str, dict[str, Any]] = {
    "convolution": {"num_filter": 64, "filter_size": 3, "stride": 1},
    "separable_convolution": {"num_filter": 64, "filter_size": 3, "stride": 1, "depth_multiplier": 1},
    "depthwise_convolution": {"filter_size": 3, "stride": 1, "depth_multiplier": 1},
    "reduction": {"reduction_type": "max_pooling", "pool_size": 2, "stride": None},
}


class ArchitectureError(ValueError):
    """An ``--architecture`` or ``--nn_config`` that is not in Katib's format; the message says what is wrong."""


def read_assignment(text: str, option: str) -> Any:
    """The JSON value of one of Katib's NAS assignments, as a trial receives it on its command line."""
    raw = text.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    try:
        return json.loads(raw.replace("'", '"'))
    except json.JSONDecodeError as exc:
        raise ArchitectureError(f"{option}: not JSON in Katib's format ({exc.msg}): {text[:200]!r}") from exc


def check(architecture: Any, nn_config: Any) -> None:
    """Raise ``ArchitectureError`` unless the two values fit Katib's format and each other."""
    if not isinstance(nn_config, dict):
        raise ArchitectureError(f"--nn_config: expected an object, got {type(nn_config).__name__}")
    missing = [k for k in ("num_layers", "input_sizes", "output_sizes", "embedding") if k not in nn_config]
    if missing:
        raise ArchitectureError(f"--nn_config: missing {', '.join(missing)}")
    if len(nn_config["input_sizes"]) != 3:
        raise ArchitectureError(
            f"--nn_config: input_sizes must be [height, width, channels], got {nn_config['input_sizes']}"
        )
    layers = nn_config["num_layers"]
    if not isinstance(architecture, list) or len(architecture) != layers:
        raise ArchitectureError(
            f"--architecture: expected a list of {layers} layers (num_layers), got {architecture!r}"
        )
    embedding = nn_config["embedding"]
    for number, layer in enumerate(architecture, start=1):  # Katib's numbers: layer 0 is the input
        if not isinstance(layer, list) or len(layer) != number:
            raise ArchitectureError(
                f"--architecture: layer {number} must be [operation id, {number - 1} skip bits], got {layer!r}"
            )
        if str(layer[0]) not in embedding:
            raise ArchitectureError(
                f"--architecture: layer {number} uses operation {layer[0]}, not in nn_config's embedding"
            )
        entry = embedding[str(layer[0])]
        if entry.get("opt_type") not in DEFAULTS:
            raise ArchitectureError(
                f"--nn_config: operation {layer[0]} has opt_type {entry.get('opt_type')!r}; this trial builds "
                f"{', '.join(DEFAULTS)}"
            )
        if any(bit not in (0, 1) for bit in layer[1:]):
            raise ArchitectureError(f"--architecture: layer {number}'s skip bits must be 0 or 1, got {layer[1:]}")


def _int(value: Any) -> int:
    return int(float(value))  # Katib's categorical values are strings ("3"), its ints numbers


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding on one side of one dimension: (before, after), the extra pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Operation(nn.Module):
    """One layer's operation on its (concatenated) input, as Katib's op_library builds it."""

    def __init__(self, opt_type: str, params: dict[str, Any], channels: int) -> None:
        super().__init__()
        self.opt_type = opt_type
        p = {**DEFAULTS[opt_type], **params}
        self.body: nn.Module
        if opt_type == "reduction":
            self.pool_size = _int(p["pool_size"])
            self.stride = _int(p["stride"]) if p["stride"] is not None else self.pool_size
            self.average = p["reduction_type"] == "avg_pooling"
            self.out_channels = channels
            return
        self.kernel, self.stride = _int(p["filter_size"]), _int(p["stride"])
        if opt_type == "convolution":
            self.out_channels = _int(p["num_filter"])
            self.body = nn.Conv2d(channels, self.out_channels, self.kernel, self.stride)
        else:
            depthwise = channels * _int(p["depth_multiplier"])
            self.body = nn.Conv2d(channels, depthwise, self.kernel, self.stride, groups=channels)
            self.out_channels = depthwise
            if opt_type == "separable_convolution":
                self.out_channels = _int(p["num_filter"])
                self.body = nn.Sequential(self.body, nn.Conv2d(depthwise, self.out_channels, 1))
        self.norm = nn.BatchNorm2d(self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if self.opt_type == "reduction":
            if min(height, width) < max(self.pool_size, 2):  # Katib: an input of 1 pixel is not reduced
                return x
            pool = F.avg_pool2d if self.average else F.max_pool2d
            return pool(x, self.pool_size, self.stride)
        top, bottom = _same_padding(height, self.kernel, self.stride)
        left, right = _same_padding(width, self.kernel, self.stride)
        return self.norm(self.body(F.pad(F.relu(x), (left, right, top, bottom))))


def _concat(inputs: list[torch.Tensor]) -> torch.Tensor:
    """Katib's ``concat``: zero-pad to the largest height and width (the odd pixel after), then stack channels."""
    if len(inputs) == 1:
        return inputs[0]
    height = max(x.shape[-2] for x in inputs)
    width = max(x.shape[-1] for x in inputs)
    padded = []
    for x in inputs:
        dh, dw = height - x.shape[-2], width - x.shape[-1]
        padded.append(F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)))
    return torch.cat(padded, dim=1)


class Network(nn.Module):
    """The sampled network: its layers, each fed by the previous one and its skip connections, then a classifier."""

    def __init__(self, architecture: list[list[int]], nn_config: dict[str, Any]) -> None:
        super().__init__()
        check(architecture, nn_config)
        self.architecture = architecture
        height, width, channels = (int(v) for v in nn_config["input_sizes"])
        shapes = [(channels, height, width)]  # per layer output, layer 0 being the input
        self.ops = nn.ModuleList()
        for index, layer in enumerate(architecture):
            entry = nn_config["embedding"][str(layer[0])]
            sources = self._sources(index, layer)
            op = Operation(entry["opt_type"], dict(entry.get("opt_params", {})), sum(shapes[s][0] for s in sources))
            self.ops.append(op)
            # The shape after the op, found by running it once on a zero input of the concatenated shape.
            with torch.no_grad():
                probe = torch.zeros(1, sum(shapes[s][0] for s in sources), *self._joined(shapes, sources))
                op.eval()
                shape = op(probe).shape
            shapes.append((shape[1], shape[2], shape[3]))
        self.classifier = nn.Linear(shapes[-1][0], int(nn_config["output_sizes"][-1]))

    @staticmethod
    def _sources(index: int, layer: list[int]) -> list[int]:
        """The layers whose outputs ``architecture[index]`` (layer ``index + 1``) reads: the previous one, then
        those its skip bits name (0 being the input image)."""
        return [index] + [i for i, bit in enumerate(layer[1:]) if bit == 1]

    @staticmethod
    def _joined(shapes: list[tuple[int, int, int]], sources: list[int]) -> tuple[int, int]:
        return max(shapes[s][1] for s in sources), max(shapes[s][2] for s in sources)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        for index, (layer, op) in enumerate(zip(self.architecture, self.ops, strict=True)):
            outputs.append(op(_concat([outputs[s] for s in self._sources(index, layer)])))
        return self.classifier(outputs[-1].mean(dim=(2, 3)))


def build_model(architecture: list[list[int]], nn_config: dict[str, Any]) -> Network:
    """The network of one ENAS suggestion."""
    return Network(architecture, nn_config)
