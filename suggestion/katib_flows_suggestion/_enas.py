"""``enas``: Katib's ENAS suggestion, an LSTM controller that samples architectures and learns from their rewards.

Katib's service (``pkg/suggestion/v1beta1/nas/enas``) keeps a TensorFlow controller in a checkpoint file of
its pod; here the controller (``_enas_controller``, numpy) is the algorithm's explicit state, which the
engine stores with the experiment (``Algorithm.stateful``). Each call:

1. takes the stored ``EnasState`` when it fits (its version and the controller's shape), else builds the
   controller afresh from the experiment's seed; a fresh build counts no trial as consumed;
2. trains it on the Succeeded trials it has not consumed yet (Katib learns from Succeeded trials only):
   ``controller_train_steps`` REINFORCE steps on their architectures, the reward being the objective value
   (negated when minimising), logging every ``controller_log_every_steps`` steps as Katib does;
3. samples one architecture with a generator seeded from (seed, history length) and answers with Katib's
   two assignments, in its exact text:
   ``architecture``: the per-layer lists ``[op_id, skip bits...]`` as ``json.dumps`` prints them, e.g.
   ``[[3], [1, 0], [2, 1, 1]]``; ``nn_config``: ``{'num_layers': L, 'input_sizes': [...], 'output_sizes':
   [...], 'embedding': {'3': {'opt_id': 3, 'opt_type': ..., 'opt_params': {...}}, ...}}`` with ``"``
   replaced by ``'`` (``_nas.katib_json``), the embedding holding the operations the layers use;
4. returns the new state when it trained (or built afresh with something to train on).

So the decision is a function of (problem, history, seed, stored state); without a stored state (``suggest``,
or a store that lost it) the controller is rebuilt from the whole history in one batch, which any process
can do. The state is typed (``EnasState``: ``_enas_controller.Trainer``'s arrays, baseline, step count and
the consumed trials) and versioned: a state of another version or shape is rebuilt, never misread.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from katib_flows_suggestion import _enas_controller as ec
from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Problem, Suggestion, Trial
from katib_flows_suggestion._nas import ExpandedOperation, expand_operations, katib_json, read_katib_json
from katib_flows_suggestion._seed import generator

logger = logging.getLogger(__name__)

#: Katib's defaults (``AlgorithmSettings.py``'s ``parseAlgorithmSettings``).
DEFAULTS: dict[str, Any] = {
    "controller_hidden_size": 64,
    "controller_temperature": 5.0,
    "controller_tanh_const": 2.25,
    "controller_entropy_weight": 1e-5,
    "controller_baseline_decay": 0.999,
    "controller_learning_rate": 5e-5,
    "controller_skip_target": 0.4,
    "controller_skip_weight": 0.8,
    "controller_train_steps": 50,
    "controller_log_every_steps": 10,
}

#: Salt mixed into the seed for the initial weights, so they never share draws with the sampling.
_INIT_SALT = 0x454E4153


def _encode(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f8")
    return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode("ascii")}


def _decode(item: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    if tuple(item["shape"]) != shape:
        raise ValueError(f"an array of shape {tuple(item['shape'])} where {shape} was expected")
    return np.frombuffer(base64.b64decode(item["data"]), dtype="<f8").reshape(shape).copy()


@dataclass
class EnasState:
    """What enas keeps between suggestions: the trainer (weights, Adam's moments, baseline, steps) and the
    names of the trials it has trained on. ``VERSION`` changes whenever the JSON layout does."""

    VERSION: ClassVar[int] = 1

    config: ec.ControllerConfig
    trainer: ec.Trainer
    consumed: tuple[str, ...] = ()

    @classmethod
    def fresh(cls, config: ec.ControllerConfig, seed: int) -> EnasState:
        weights = ec.Weights.initial(config, generator(seed, _INIT_SALT))
        return cls(config, ec.Trainer(weights, ec.Weights.zeros(config), ec.Weights.zeros(config)))

    def to_json(self) -> dict[str, Any]:
        trainer = self.trainer
        return {
            "algorithm": "enas",
            "version": self.VERSION,
            "num_layers": self.config.num_layers,
            "num_operations": self.config.num_operations,
            "hidden_size": self.config.hidden_size,
            "weights": {name: _encode(a) for name, a in trainer.weights.arrays().items()},
            "adam_m": {name: _encode(a) for name, a in trainer.adam_m.arrays().items()},
            "adam_v": {name: _encode(a) for name, a in trainer.adam_v.arrays().items()},
            "baseline": trainer.baseline,
            "train_step": trainer.train_step,
            "consumed": list(self.consumed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], config: ec.ControllerConfig) -> EnasState:
        """The state stored as ``to_json`` wrote it; ``ValueError`` saying why when it is of another version
        or another controller shape (the caller rebuilds)."""
        if data.get("algorithm") != "enas" or data.get("version") != cls.VERSION:
            raise ValueError(
                f"stored state is {data.get('algorithm')!r} version {data.get('version')!r}, "
                f"this enas reads version {cls.VERSION}"
            )
        shape = (data.get("num_layers"), data.get("num_operations"), data.get("hidden_size"))
        wanted = (config.num_layers, config.num_operations, config.hidden_size)
        if shape != wanted:
            raise ValueError(
                f"stored controller has (layers, operations, hidden size) {shape}, the experiment {wanted}"
            )
        try:
            shapes = ec.Weights.shapes(config)

            def weights(key: str) -> ec.Weights:
                return ec.Weights(**{f.name: _decode(data[key][f.name], shapes[f.name]) for f in fields(ec.Weights)})

            trainer = ec.Trainer(
                weights("weights"),
                weights("adam_m"),
                weights("adam_v"),
                float(data["baseline"]),
                int(data["train_step"]),
            )
            return cls(config, trainer, tuple(str(name) for name in data["consumed"]))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"stored state is damaged: {type(exc).__name__}: {exc}") from exc


def read_architecture(text: Any, num_layers: int, num_operations: int) -> ec.Architecture | None:
    """A trial's ``architecture`` assignment read back, or None when it does not fit the controller."""
    try:
        value = read_katib_json(str(text))
    except ValueError:
        return None
    if not isinstance(value, list) or len(value) != num_layers:
        return None
    for layer, entry in enumerate(value):
        if not isinstance(entry, list) or len(entry) != layer + 1 or not all(type(x) is int for x in entry):
            return None
        if not 0 <= entry[0] < num_operations or any(bit not in (0, 1) for bit in entry[1:]):
            return None
    return value


def assignments(
    architecture: ec.Architecture, problem: Problem, operations: Sequence[ExpandedOperation]
) -> dict[str, Any]:
    """Katib's ``architecture`` and ``nn_config`` texts for one sampled architecture."""
    nas = problem.nas
    assert nas is not None
    embedding: dict[int, dict[str, Any]] = {}
    for layer in architecture:
        embedding[layer[0]] = operations[layer[0]].as_dict()
    nn_config = {
        "num_layers": nas.num_layers,
        "input_sizes": list(nas.input_sizes),
        "output_sizes": list(nas.output_sizes),
        "embedding": embedding,
    }
    return {"architecture": katib_json(architecture), "nn_config": katib_json(nn_config)}


class Enas(Algorithm):
    """Katib's ENAS; settings and defaults as Katib's (``DEFAULTS``), state in the store (module docstring)."""

    name = "enas"
    stateful = True

    def config(self, problem: Problem) -> tuple[ec.ControllerConfig, dict[str, Any], tuple[ExpandedOperation, ...]]:
        """The controller's config, the settings with Katib's defaults, and the operation list."""
        settings = {**DEFAULTS, **{k: v for k, v in self.read_settings(problem).items()}}
        assert problem.nas is not None and problem.nas.num_layers is not None  # validate said so
        operations = expand_operations(problem.nas)
        config = ec.ControllerConfig(
            num_layers=problem.nas.num_layers,
            num_operations=len(operations),
            hidden_size=int(settings["controller_hidden_size"]),
            temperature=settings["controller_temperature"],
            tanh_const=settings["controller_tanh_const"],
            entropy_weight=settings["controller_entropy_weight"],
            baseline_decay=float(settings["controller_baseline_decay"]),
            learning_rate=float(settings["controller_learning_rate"]),
            skip_target=float(settings["controller_skip_target"]),
            skip_weight=settings["controller_skip_weight"],
        )
        return config, settings, operations

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        return self.suggest_with_state(problem, history, seed, None)

    def suggest_with_state(
        self, problem: Problem, history: Sequence[Trial], seed: int, state: Mapping[str, Any] | None
    ) -> Decision:
        config, settings, operations = self.config(problem)
        current = self.load(state, config, seed)
        changed = self.train(current, problem, history, settings)
        architecture = ec.sample(config, current.trainer.weights, generator(seed, len(history)))
        return Suggestion(assignments(architecture, problem, operations), state=current.to_json() if changed else None)

    @staticmethod
    def load(state: Mapping[str, Any] | None, config: ec.ControllerConfig, seed: int) -> EnasState:
        """The stored state when it fits ``config``, else a fresh controller (said in the log)."""
        if state is not None:
            try:
                return EnasState.from_json(state, config)
            except ValueError as exc:
                logger.warning("enas rebuilds its controller from the trial history: %s", exc)
        return EnasState.fresh(config, seed)

    @staticmethod
    def train(current: EnasState, problem: Problem, history: Sequence[Trial], settings: Mapping[str, Any]) -> bool:
        """Train ``current`` on the Succeeded trials it has not consumed; whether it changed."""
        config, consumed = current.config, set(current.consumed)
        new = [
            (trial.name, architecture, trial.value)
            for trial in history
            if trial.status == "Succeeded" and trial.value is not None and trial.name not in consumed
            for architecture in [
                read_architecture(trial.assignments.get("architecture"), config.num_layers, config.num_operations)
            ]
            if architecture is not None
        ]
        if not new:
            return False
        rewards = np.array([float(value) for _, _, value in new])
        if problem.direction == "minimize":
            rewards = -rewards  # the controller maximises its reward, as Katib's
        architectures = [architecture for _, architecture, _ in new]
        log_every = int(settings["controller_log_every_steps"])
        for step in range(1, int(settings["controller_train_steps"]) + 1):
            stats = current.trainer.step(config, architectures, rewards)
            if step % log_every == 0:
                logger.info(
                    "Controller Step: %d - Loss: %.4f - Entropy: %.9g - Gradient Norm: %.7f - Baseline=%.4f - "
                    "Skip Rate=%.4f",
                    stats.step,
                    stats.loss,
                    stats.entropy,
                    stats.grad_norm,
                    stats.baseline,
                    stats.skip_rate,
                )
        current.consumed = (*current.consumed, *(name for name, _, _ in new))
        return True
