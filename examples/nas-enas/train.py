"""Train one architecture sampled by ENAS on scikit-learn's digits and print its accuracy.

The trial script of the ENAS example (``experiment.yaml`` beside it), in the place of Katib's
``RunTrial.py``: it takes the same arguments (``--architecture`` and ``--nn_config`` in Katib's formats,
``--num_epochs``, ``--num_gpus``, which is accepted and ignored: this runs on the CPU), builds the network
(``model.py``), trains it with Adam and prints Katib's metric lines every epoch (``Validation-Accuracy=...``
and the others), which Katib's StdOut collector reads. No download: digits (8x8 grey images, 10 classes)
ships with scikit-learn. Where ``nn_config``'s ``input_sizes`` are not 8x8x1 (Katib's enas-cpu.yaml asks
for 32x32x3), the images are resized and their channel repeated to fit, so Katib's spec runs unchanged.
"""

import argparse
import sys
import time
from collections.abc import Iterator

import numpy as np
import torch
from model import ArchitectureError, build_model, read_assignment
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.nn import functional as F

DIGITS_CLASSES = 10


def load_data(height: int, width: int, channels: int) -> tuple[torch.Tensor, ...]:
    """Digits as (N, channels, height, width) tensors in [0, 1]: 75% to train, 25% to validate (stratified)."""
    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)

    def images(a: np.ndarray) -> torch.Tensor:
        t = torch.tensor(a / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
        if (height, width) != (8, 8):
            t = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)
        return t.repeat(1, channels, 1, 1)

    return images(x_train), torch.tensor(y_train), images(x_valid), torch.tensor(y_valid)


def settle_batch_norm(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Batch norm's statistics recomputed over all training images with the current weights ("precise BN").

    The one-layer networks of this search feed batch norm straight into the classifier, so the running
    averages of a few dozen batches move validation accuracy by 20 points from one epoch to the next.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), 256):
            model(x[start : start + 256])
    for norm in norms:
        norm.momentum = 0.1


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        logits = model(x)
    return float((logits.argmax(1) == y).float().mean()), float(F.cross_entropy(logits, y))


def train(
    model: torch.nn.Module,
    nn_config: dict,
    num_epochs: int,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    seed: int = 0,
    verbose: bool = False,
) -> Iterator[float]:
    """Train ``model`` with Adam, yielding the validation accuracy after each epoch (and printing Katib's
    metric lines when ``verbose``). ``bench/nas_table.py`` imports this to score every operation in one process."""
    height, width, channels = (int(v) for v in nn_config["input_sizes"])
    x_train, y_train, x_valid, y_valid = load_data(height, width, channels)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    for epoch in range(num_epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        settle_batch_norm(model, x_train)
        train_accuracy, train_loss = evaluate(model, x_train, y_train)
        accuracy, valid_loss = evaluate(model, x_valid, y_valid)
        if verbose:
            print(f"\nEpoch {epoch + 1}/{num_epochs} ({time.perf_counter() - started:.1f}s)")
            print(f"Training-Accuracy={train_accuracy:.6f}")
            print(f"Training-Loss={train_loss:.6f}")
            print(f"Validation-Accuracy={accuracy:.6f}")
            print(f"Validation-Loss={valid_loss:.6f}", flush=True)
        yield accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architecture", required=True, help="Katib's ENAS architecture (JSON, ' for \")")
    parser.add_argument("--nn_config", required=True, help="Katib's ENAS nn_config (JSON, ' for \")")
    parser.add_argument("--num_epochs", type=int, default=10, help="passes over the training images")
    parser.add_argument("--num_gpus", type=int, default=0, help="accepted as Katib's RunTrial.py does; unused")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=0.01, help="Adam's step size")
    parser.add_argument("--seed", type=int, default=0, help="the same seed trains the same network the same way")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    args = parser.parse_args()

    try:
        architecture = read_assignment(args.architecture, "--architecture")
        nn_config = read_assignment(args.nn_config, "--nn_config")
        torch.manual_seed(args.seed)
        model = build_model(architecture, nn_config)
    except ArchitectureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    classes = int(nn_config["output_sizes"][-1])
    if classes != DIGITS_CLASSES:
        print(
            f"error: --nn_config: output_sizes ends with {classes}, but digits has {DIGITS_CLASSES} classes; "
            f"set spec.nasConfig.graphConfig.outputSizes to [{DIGITS_CLASSES}]",
            file=sys.stderr,
        )
        return 2
    print(f">>> architecture {architecture}", flush=True)
    torch.set_num_threads(args.threads)
    for _ in train(model, nn_config, args.num_epochs, args.batch_size, args.learning_rate, args.seed, verbose=True):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
