"""The DARTS search network for 8x8 images: mixed operations on every edge, cells, and the architect.

Katib's primitives (``search-space``) name the candidate operations of each edge; ``none`` is added last, as
Katib's trial does. A cell has two inputs (the two previous cells' outputs) and ``num_nodes`` intermediate
nodes, each fed by every earlier node through a mixed operation: a softmax over ``alpha`` weighs the
candidates. Normal cells keep the size; reduction cells (one of two layers, or at 1/3 and 2/3 of three or
more) halve it and double the channels. ``Architect`` takes Katib's second-order step on the alphas (the
gradient of the validation loss after one virtual SGD step of the weights, its Hessian term by finite
differences); ``genotype`` keeps per node the two strongest edges and their strongest operation but ``none``.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out, affine=False),
        )


class DilatedConv(nn.Sequential):
    """ReLU, a depthwise dilated convolution, a pointwise one, BatchNorm."""

    def __init__(self, c: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c, c, kernel, stride, padding, dilation=dilation, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c, affine=False),
        )


class SeparableConv(nn.Sequential):
    """Two depthwise-separable convolutions in a row (the first may reduce)."""

    def __init__(self, c: int, kernel: int, stride: int) -> None:
        padding = kernel // 2
        super().__init__(DilatedConv(c, kernel, stride, padding, 1), DilatedConv(c, kernel, 1, padding, 1))


class Pool(nn.Sequential):
    def __init__(self, kind: str, c: int, stride: int) -> None:
        pool = nn.MaxPool2d(3, stride, 1) if kind == "max" else nn.AvgPool2d(3, stride, 1, count_include_pad=False)
        super().__init__(pool, nn.BatchNorm2d(c, affine=False))


class Zero(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride] * 0.0


class FactorizedReduce(nn.Module):
    """Halve the size with two 1x1 convolutions of stride 2, one shifted by a pixel, side by side."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.conv2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        return self.bn(torch.cat([self.conv1(x), self.conv2(F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:])], dim=1))


#: Katib's primitives (its trial's ``operations.py`` names), by name: (channels, stride) -> module.
OPERATIONS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda c, stride: Zero(stride),
    "avg_pooling_3x3": lambda c, stride: Pool("avg", c, stride),
    "max_pooling_3x3": lambda c, stride: Pool("max", c, stride),
    "skip_connection": lambda c, stride: nn.Identity() if stride == 1 else FactorizedReduce(c, c),
    "separable_convolution_3x3": lambda c, stride: SeparableConv(c, 3, stride),
    "separable_convolution_5x5": lambda c, stride: SeparableConv(c, 5, stride),
    "dilated_convolution_3x3": lambda c, stride: DilatedConv(c, 3, stride, 2, 2),
    "dilated_convolution_5x5": lambda c, stride: DilatedConv(c, 5, stride, 4, 2),
}


class MixedOp(nn.Module):
    def __init__(self, c: int, stride: int, primitives: list[str]) -> None:
        super().__init__()
        self.ops = nn.ModuleList(OPERATIONS[p](c, stride) for p in primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum((w * op(x) for w, op in zip(weights, self.ops, strict=True)), torch.zeros(()))


class Cell(nn.Module):
    def __init__(
        self, num_nodes: int, c_pp: int, c_p: int, c: int, reduction_prev: bool, reduction: bool, primitives: list[str]
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self.edges = nn.ModuleList(
            nn.ModuleList(MixedOp(c, 2 if reduction and j < 2 else 1, primitives) for j in range(2 + i))
            for i in range(num_nodes)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for edges, w in zip(self.edges, weights, strict=True):
            states.append(
                sum((edge(s, w[j]) for j, (edge, s) in enumerate(zip(edges, states, strict=True))), torch.zeros(()))
            )
        return torch.cat(states[2:], dim=1)


class SearchNetwork(nn.Module):
    def __init__(
        self,
        primitives: list[str],
        *,
        init_channels: int,
        input_channels: int,
        num_classes: int,
        num_layers: int,
        num_nodes: int,
        stem_multiplier: int,
    ) -> None:
        super().__init__()
        unknown = [p for p in primitives if p not in OPERATIONS]
        if unknown:
            raise ValueError(f"unknown primitives {unknown}; this trial knows {sorted(OPERATIONS)}")
        self.primitives = primitives
        self.num_nodes = num_nodes
        c = stem_multiplier * init_channels
        self.stem = nn.Sequential(nn.Conv2d(input_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        c_pp, c_p, c = c, c, init_channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(num_layers):
            reduction = (num_layers == 2 and i == 1) or (num_layers > 2 and i in (num_layers // 3, 2 * num_layers // 3))
            if reduction:
                c *= 2
            self.cells.append(Cell(num_nodes, c_pp, c_p, c, reduction_prev, reduction, primitives))
            reduction_prev = reduction
            c_pp, c_p = c_p, c * num_nodes
        self.classifier = nn.Linear(c_p, num_classes)
        self.has_reduction = any(cell.reduction for cell in self.cells)
        n = len(primitives)
        self.alpha_normal = nn.ParameterList(nn.Parameter(1e-3 * torch.randn(i + 2, n)) for i in range(num_nodes))
        self.alpha_reduce = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(i + 2, n)) for i in range(num_nodes if self.has_reduction else 0)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normal = [F.softmax(a, dim=-1) for a in self.alpha_normal]
        reduce = [F.softmax(a, dim=-1) for a in self.alpha_reduce]
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, reduce if cell.reduction else normal)
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(x), y)

    def weights(self) -> Iterator[nn.Parameter]:
        return (p for name, p in self.named_parameters() if not name.startswith("alpha_"))

    def alphas(self) -> Iterator[nn.Parameter]:
        return (p for name, p in self.named_parameters() if name.startswith("alpha_"))

    def _parse(self, alphas: nn.ParameterList) -> list[list[tuple[str, int]]]:
        gene = []
        for edges in alphas:
            strongest, ops = torch.topk(edges[:, :-1], 1)  # the last primitive is "none", never chosen
            _, chosen = torch.topk(strongest.view(-1), 2)
            gene.append([(self.primitives[int(ops[e])], int(e)) for e in chosen])
        return gene

    def genotype(self) -> Genotype:
        concat = range(2, 2 + self.num_nodes)
        return Genotype(self._parse(self.alpha_normal), concat, self._parse(self.alpha_reduce), concat)

    def alpha_text(self) -> str:
        """The softmax of every node's alphas, one row per incoming edge, one column per primitive."""
        rows = []
        for kind, alphas in (("normal", self.alpha_normal), ("reduce", self.alpha_reduce)):
            for i, alpha in enumerate(alphas):
                for j, edge in enumerate(F.softmax(alpha.detach(), dim=-1).tolist()):
                    rows.append(f"{kind} node {i} edge {j}: " + " ".join(f"{w:.3f}" for w in edge))
        return "\n".join(rows)


class Architect:
    """The alphas' gradient by DARTS's second-order approximation (Liu et al. 2019, eq. 7-8), as Katib's trial.

    grad_alpha L_val(w', alpha) - xi * (grad_alpha L_train(w+) - grad_alpha L_train(w-)) / (2 eps), where
    w' = w - xi * (momentum buffer + grad_w L_train(w) + weight decay * w) is one virtual SGD step and
    w+- = w +- eps * grad_w' L_val(w', alpha), eps = 0.01 / |grad_w' L_val|.
    """

    def __init__(self, model: SearchNetwork, momentum: float, weight_decay: float) -> None:
        self.model = model
        self.virtual = copy.deepcopy(model)
        self.momentum = momentum
        self.weight_decay = weight_decay

    def step(
        self,
        train: tuple[torch.Tensor, torch.Tensor],
        valid: tuple[torch.Tensor, torch.Tensor],
        xi: float,
        w_optim: torch.optim.Optimizer,
    ) -> None:
        weights = list(self.model.weights())
        grads = torch.autograd.grad(self.model.loss(*train), weights)
        with torch.no_grad():
            for w, vw, g in zip(weights, self.virtual.weights(), grads, strict=True):
                buffer = w_optim.state[w].get("momentum_buffer")
                m = buffer * self.momentum if buffer is not None else 0.0
                vw.copy_(w - xi * (m + g + self.weight_decay * w))
            for a, va in zip(self.model.alphas(), self.virtual.alphas(), strict=True):
                va.copy_(a)
        v_alphas, v_weights = list(self.virtual.alphas()), list(self.virtual.weights())
        v_grads = torch.autograd.grad(self.virtual.loss(*valid), v_alphas + v_weights, allow_unused=True)
        dalpha = v_grads[: len(v_alphas)]
        dw = [
            g if g is not None else torch.zeros_like(w)
            for g, w in zip(v_grads[len(v_alphas) :], v_weights, strict=True)
        ]
        hessian = self._hessian(dw, train)
        with torch.no_grad():
            for a, da, h in zip(self.model.alphas(), dalpha, hessian, strict=True):
                a.grad = (da if da is not None else torch.zeros_like(a)) - xi * h

    def _hessian(self, dw: list[torch.Tensor], train: tuple[torch.Tensor, torch.Tensor]) -> list[torch.Tensor]:
        eps = 0.01 / (torch.cat([d.view(-1) for d in dw]).norm() + 1e-12)
        weights, alphas = list(self.model.weights()), list(self.model.alphas())

        def shift(scale: float) -> None:
            with torch.no_grad():
                for w, d in zip(weights, dw, strict=True):
                    w.add_(scale * eps * d)

        shift(1.0)
        positive = torch.autograd.grad(self.model.loss(*train), alphas)
        shift(-2.0)
        negative = torch.autograd.grad(self.model.loss(*train), alphas)
        shift(1.0)
        return [(p - n) / (2.0 * eps) for p, n in zip(positive, negative, strict=True)]
