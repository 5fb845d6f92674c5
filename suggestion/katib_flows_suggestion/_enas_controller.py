"""ENAS's LSTM controller in numpy: Katib's ``Controller.py`` (a TensorFlow 1 graph) step for step.

Used by ``_enas``. For each of ``num_layers`` layers the controller samples an operation id, then (from the
second layer on) one skip bit per earlier layer through an attention over the earlier layers' hidden
states, exactly as Katib's: the same weights (``w_lstm`` without bias, ``g_emb``, ``w_emb``, ``w_soft``,
``attn_w_1``, ``attn_w_2``, ``attn_v``), initialised uniformly in [-0.01, 0.01], the same LSTM cell, logits
divided by ``controller_temperature`` and squashed by ``controller_tanh_const * tanh``, the skip-rate
penalty (``controller_skip_target``, ``controller_skip_weight``) and the entropy bonus in the reward
(``controller_entropy_weight``). Training is REINFORCE: loss = -log p(architecture) * (reward - baseline)
+ skip_weight * skip penalty, minimised with Adam (TensorFlow 1's defaults) at
``controller_learning_rate``; the baseline is Katib's moving average, baseline -= (1 - decay) *
(baseline - reward), updated at every training step.

Where we differ from Katib: each step is taken on the architectures the trials actually ran, each with
its own reward (a batch, the mean of their losses). Katib feeds the mean reward of all completed trials to
a freshly sampled architecture at every step, so its gradient does not know which architecture earned
what. ``score`` and ``sample`` share one forward pass (``_forward``), with the choices given or drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from katib_flows_suggestion import _tape as t
from katib_flows_suggestion._tape import Array, Var

#: One architecture: per layer [operation id, skip bit per earlier layer...] (Katib's ``architecture``).
Architecture = list[list[int]]

_ADAM_BETA1, _ADAM_BETA2, _ADAM_EPSILON = 0.9, 0.999, 1e-8  # tf.compat.v1.train.AdamOptimizer's defaults


@dataclass(frozen=True)
class ControllerConfig:
    """The controller's shape and Katib's settings that shape its forward pass and loss."""

    num_layers: int
    num_operations: int
    hidden_size: int = 64
    temperature: float | None = 5.0
    tanh_const: float | None = 2.25
    entropy_weight: float | None = 1e-5
    baseline_decay: float = 0.999
    learning_rate: float = 5e-5
    skip_target: float = 0.4
    skip_weight: float | None = 0.8


@dataclass
class Weights:
    """The controller's trainable weights, with Katib's names and shapes (H = hidden size, N = operations)."""

    w_lstm: Array  # [2H, 4H]
    g_emb: Array  # [1, H]
    w_emb: Array  # [N, H]
    w_soft: Array  # [H, N]
    attn_w_1: Array  # [H, H]
    attn_w_2: Array  # [H, H]
    attn_v: Array  # [H, 1]

    @staticmethod
    def shapes(config: ControllerConfig) -> dict[str, tuple[int, ...]]:
        h, n = config.hidden_size, config.num_operations
        return {
            "w_lstm": (2 * h, 4 * h),
            "g_emb": (1, h),
            "w_emb": (n, h),
            "w_soft": (h, n),
            "attn_w_1": (h, h),
            "attn_w_2": (h, h),
            "attn_v": (h, 1),
        }

    @classmethod
    def initial(cls, config: ControllerConfig, rng: np.random.Generator) -> Weights:
        """Katib's initialiser: uniform in [-0.01, 0.01]."""
        return cls(**{name: rng.uniform(-0.01, 0.01, shape) for name, shape in cls.shapes(config).items()})

    @classmethod
    def zeros(cls, config: ControllerConfig) -> Weights:
        return cls(**{name: np.zeros(shape) for name, shape in cls.shapes(config).items()})

    def arrays(self) -> dict[str, Array]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class TrainStats:
    """What Katib logs every ``controller_log_every_steps`` steps."""

    step: int
    loss: float
    entropy: float
    grad_norm: float
    baseline: float
    skip_rate: float


@dataclass
class _Pass:
    log_prob: Var  # [B] log p of each architecture
    entropy: Array  # [B] Katib's sample entropy (no gradient)
    skip_penalty: Var  # [B] mean over layers of Katib's skip KL term (zeros with one layer)
    skip_count: Array  # [B]
    choices: list[Architecture]


def _lstm(x: Var, c: Var, h: Var, w_lstm: tuple[Var, Var], hidden: int) -> tuple[Var, Var]:
    """Katib's ``_lstm``: [x, h] @ w_lstm split into i, f, o, g (no bias); ``w_lstm`` comes as its x and h rows."""
    ifog = x @ w_lstm[0] + h @ w_lstm[1]
    i = t.sigmoid(ifog[:, :hidden])
    f = t.sigmoid(ifog[:, hidden : 2 * hidden])
    o = t.sigmoid(ifog[:, 2 * hidden : 3 * hidden])
    g = t.tanh(ifog[:, 3 * hidden :])
    c = i * g + f * c
    return c, o * t.tanh(c)


def _shape_logits(logits: Var, config: ControllerConfig) -> Var:
    if config.temperature is not None:
        logits = logits * t.const(1.0 / config.temperature)
    if config.tanh_const is not None:
        logits = t.const(config.tanh_const) * t.tanh(logits)
    return logits


def _draw(log_probs: Array, rng: np.random.Generator) -> NDArray[np.int64]:
    """One draw per row of ``log_probs`` (any leading shape) from its categorical distribution."""
    probs = np.exp(log_probs)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random(log_probs.shape[:-1])[..., None] * cumulative[..., -1:]
    return np.minimum((u >= cumulative).sum(axis=-1), log_probs.shape[-1] - 1).astype(np.int64)


def _forward(
    config: ControllerConfig,
    w: dict[str, Var],
    architectures: Sequence[Architecture] | None,
    rng: np.random.Generator | None,
) -> _Pass:
    """Katib's ``_build_sampler`` for a batch: the choices of ``architectures``, or drawn with ``rng``."""
    batch = len(architectures) if architectures is not None else 1
    hidden = config.hidden_size
    c = h = t.const(np.zeros((batch, hidden)))
    inputs = w["g_emb"]
    log_probs: list[Var] = []
    entropies: list[Array] = []
    penalties: list[Var] = []
    skip_count = np.zeros(batch)
    all_h: list[Var] = []
    all_h_w: list[Var] = []
    choices: list[Architecture] = [[] for _ in range(batch)]
    targets = t.const(np.array([1.0 - config.skip_target, config.skip_target]))
    # Split once: each slice's gradient is a full-size array, so slicing per cell would cost 4 per layer.
    w_lstm = (w["w_lstm"][:hidden], w["w_lstm"][hidden:])
    for layer in range(config.num_layers):
        c, h = _lstm(inputs, c, h, w_lstm, hidden)
        op_log_probs = t.log_softmax(_shape_logits(h @ w["w_soft"], config))  # [B, N]
        if architectures is not None:
            ops = np.array([a[layer][0] for a in architectures], dtype=np.int64)
        else:
            assert rng is not None
            ops = _draw(op_log_probs.value, rng)
        chosen = t.pick(op_log_probs, ops)
        log_probs.append(chosen)
        entropies.append(-chosen.value * np.exp(chosen.value))
        for b in range(batch):
            choices[b].append([int(ops[b])])
        c, h = _lstm(w["w_emb"][ops], c, h, w_lstm, hidden)
        if layer > 0:
            query = t.reshape(h @ w["attn_w_2"], (batch, 1, hidden)) + t.stack(all_h_w, axis=1)  # [B, layer, H]
            query = total(t.tanh(query) @ w["attn_v"], axis=-1)  # [B, layer]
            logits = _shape_logits(t.stack([-query, query], axis=-1), config)  # [B, layer, 2]
            skip_log_probs = t.log_softmax(logits)
            if architectures is not None:
                skips = np.array([a[layer][1 : layer + 1] for a in architectures], dtype=np.int64)
            else:
                assert rng is not None
                skips = _draw(skip_log_probs.value, rng)
            chosen_skips = t.pick(skip_log_probs, skips)  # [B, layer]
            log_probs.append(total(chosen_skips, axis=-1))
            entropies.append((-chosen_skips.value * np.exp(chosen_skips.value)).sum(axis=-1))
            skip_prob = t.sigmoid(logits)
            kl = skip_prob * t.log(skip_prob * t.const(1.0 / targets.value))
            penalties.append(total(total(kl, axis=-1), axis=-1))
            for b in range(batch):
                choices[b][layer].extend(int(s) for s in skips[b])
            counts = skips.sum(axis=-1).astype(np.float64)
            skip_count += counts
            mask = t.const(skips.astype(np.float64)[:, None, :])  # [B, 1, layer]
            inputs = total(mask @ t.stack(all_h, axis=1), axis=1) * t.const(1.0 / (1.0 + counts)[:, None])
        else:
            inputs = w["g_emb"]
        all_h.append(h)
        all_h_w.append(h @ w["attn_w_1"])
    log_prob = log_probs[0]
    for term in log_probs[1:]:
        log_prob = log_prob + term
    if penalties:
        penalty = t.stack(penalties, axis=-1)
        skip_penalty = total(penalty, axis=-1) * t.const(1.0 / len(penalties))
    else:
        skip_penalty = t.const(np.zeros(batch))
    return _Pass(log_prob, np.sum(entropies, axis=0), skip_penalty, skip_count, choices)


def total(x: Var, axis: int) -> Var:
    return t.total(x, axis=axis)


def _variables(weights: Weights) -> dict[str, Var]:
    return {name: Var(value) for name, value in weights.arrays().items()}


def sample(config: ControllerConfig, weights: Weights, rng: np.random.Generator) -> Architecture:
    """One architecture drawn from the controller (Katib's ``sample_arc``, organised per layer)."""
    return _forward(config, _variables(weights), None, rng).choices[0]


def operation_probabilities(config: ControllerConfig, weights: Weights) -> Array:
    """The controller's distribution over the first layer's operation (it depends on the weights only)."""
    w = _variables(weights)
    zeros = t.const(np.zeros((1, config.hidden_size)))
    w_lstm = (w["w_lstm"][: config.hidden_size], w["w_lstm"][config.hidden_size :])
    _, h = _lstm(w["g_emb"], zeros, zeros, w_lstm, config.hidden_size)
    return np.exp(t.log_softmax(_shape_logits(h @ w["w_soft"], config)).value[0])


@dataclass
class Trainer:
    """The weights with Adam's moments, the baseline and the step count: what training carries on."""

    weights: Weights
    adam_m: Weights
    adam_v: Weights
    baseline: float = 0.0
    train_step: int = 0

    def step(self, config: ControllerConfig, architectures: Sequence[Architecture], rewards: Array) -> TrainStats:
        """One REINFORCE step on the architectures the trials ran and their rewards (higher is better)."""
        w = _variables(self.weights)
        forward = _forward(config, w, architectures, None)
        reward = rewards + (config.entropy_weight * forward.entropy if config.entropy_weight is not None else 0.0)
        self.baseline -= (1.0 - config.baseline_decay) * (self.baseline - float(reward.mean()))
        advantage = t.const(reward - self.baseline)
        loss = -(forward.log_prob * advantage)
        if config.skip_weight is not None:
            loss = loss + forward.skip_penalty * t.const(config.skip_weight)
        loss = t.total(loss) * t.const(1.0 / len(architectures))
        names = list(w)
        grads = t.gradients(loss, [w[name] for name in names])
        self.train_step += 1
        lr = config.learning_rate * np.sqrt(1 - _ADAM_BETA2**self.train_step) / (1 - _ADAM_BETA1**self.train_step)
        for name, grad in zip(names, grads, strict=True):
            m = getattr(self.adam_m, name)
            v = getattr(self.adam_v, name)
            m[...] = _ADAM_BETA1 * m + (1 - _ADAM_BETA1) * grad
            v[...] = _ADAM_BETA2 * v + (1 - _ADAM_BETA2) * grad * grad
            value = getattr(self.weights, name)
            value[...] = value - lr * m / (np.sqrt(v) + _ADAM_EPSILON)
        pairs = config.num_layers * (config.num_layers - 1) / 2
        return TrainStats(
            step=self.train_step,
            loss=float(loss.value),
            entropy=float(forward.entropy.mean()),
            grad_norm=float(np.sqrt(sum(float((g * g).sum()) for g in grads))),
            baseline=self.baseline,
            skip_rate=float(forward.skip_count.mean() / pairs) if pairs else 0.0,
        )
