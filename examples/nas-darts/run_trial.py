"""One DARTS trial on scikit-learn's digits (8x8 images), in PyTorch on the CPU: Katib's trial interface.

katib-flows' ``darts`` algorithm (like Katib's) gives every trial three strings, which Katib's darts
Experiments pass as ``--algorithm-settings``, ``--search-space`` and ``--num-layers``:

    --algorithm-settings="{'num_epochs': '1', 'w_lr': 0.025, ...}"   (JSON with ' for ")
    --search-space="['max_pooling_3x3', 'skip_connection']"
    --num-layers="1"

Katib's template writes double quotes around each value; on Kubernetes Katib's collector runs the command
through ``sh -c``, which strips them, while katib-flows runs it as an argument list, so they are stripped here.
The trial runs the bilevel search (the weights on one half of the data by SGD, the alphas on the other half
by Adam with DARTS's second-order gradient, as Katib's trial) for ``num_epochs``, prints its progress, and
ends with ``Best-Genotype=Genotype(...)``: the genotype of the epoch with the best validation accuracy,
without spaces, which the Experiment's filter ``([\\w-]+)=(Genotype.*)`` collects as the objective.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np
import torch
from model import Architect, SearchNetwork
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset


def katib_value(text: str) -> str:
    """The assignment as Katib's trial reads it: surrounding double quotes gone (as ``sh -c`` would do)."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def read_json(flag: str, text: str) -> Any:
    try:
        return json.loads(katib_value(text).replace("'", '"'))
    except json.JSONDecodeError as exc:
        sys.exit(f"{flag} must be Katib's JSON with ' for \" (as the darts algorithm writes it): {exc}: {text!r}")


def digits() -> TensorDataset:
    x, y = load_digits(return_X_y=True)
    images = torch.tensor(x, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    images = (images - images.mean()) / images.std()
    return TensorDataset(images, torch.tensor(y, dtype=torch.long))


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithm-settings", required=True, help="Katib's darts settings (JSON, ' for \")")
    parser.add_argument("--search-space", required=True, help="Katib's primitives (JSON list, ' for \")")
    parser.add_argument("--num-layers", required=True, help="cells in the network")
    args = parser.parse_args()

    settings = read_json("--algorithm-settings", args.algorithm_settings)
    primitives = [*read_json("--search-space", args.search_space), "none"]
    num_layers = int(katib_value(args.num_layers))
    print(">>> Algorithm settings")
    for key, value in settings.items():
        print(f"{key:<20}{value}")
    print(f">>> Primitives {primitives}\n>>> Number of layers {num_layers}", flush=True)

    num_epochs = int(settings["num_epochs"])
    w_lr, w_lr_min = float(settings["w_lr"]), float(settings["w_lr_min"])
    w_momentum, w_weight_decay = float(settings["w_momentum"]), float(settings["w_weight_decay"])
    w_grad_clip = float(settings["w_grad_clip"])
    alpha_lr, alpha_weight_decay = float(settings["alpha_lr"]), float(settings["alpha_weight_decay"])
    data = digits()
    # batch_size None (Katib's "None"): the whole half at once.
    batch_size = int(settings["batch_size"]) if settings["batch_size"] is not None else len(data) // 2
    # The data is in memory: worker processes only add their start-up, so no more than the CPUs we may use.
    num_workers = min(int(settings["num_workers"]), len(os.sched_getaffinity(0)))
    print_step = int(settings["print_step"])

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    np.random.seed(2)
    torch.manual_seed(2)
    model = SearchNetwork(
        primitives,
        init_channels=int(settings["init_channels"]),
        input_channels=1,
        num_classes=10,
        num_layers=num_layers,
        num_nodes=int(settings["num_nodes"]),
        stem_multiplier=int(settings["stem_multiplier"]),
    )
    w_optim = torch.optim.SGD(model.weights(), w_lr, momentum=w_momentum, weight_decay=w_weight_decay)
    alpha_optim = torch.optim.Adam(model.alphas(), alpha_lr, betas=(0.5, 0.999), weight_decay=alpha_weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(w_optim, num_epochs, eta_min=w_lr_min)
    architect = Architect(model, w_momentum, w_weight_decay)

    # As Katib's trial: the first half of the data trains the weights, the second half the alphas and validation.
    half = len(data) // 2
    train_loader = DataLoader(
        data, batch_size, sampler=SubsetRandomSampler(range(half)), num_workers=num_workers, drop_last=False
    )
    valid_loader = DataLoader(
        data, batch_size, sampler=SubsetRandomSampler(range(half, len(data))), num_workers=num_workers
    )

    started = time.monotonic()
    best_top1, best_genotype = -1.0, model.genotype()
    for epoch in range(1, num_epochs + 1):
        lr = scheduler.get_last_lr()[0]
        print(f"\n>>> Epoch {epoch}/{num_epochs} (w_lr {lr:.4g})\n>>> Alphas (softmax)\n{model.alpha_text()}")
        model.train()
        steps = len(train_loader)
        total_loss = total_correct = seen = 0.0
        for step, ((train_x, train_y), (valid_x, valid_y)) in enumerate(zip(train_loader, valid_loader, strict=False)):
            alpha_optim.zero_grad()
            architect.step((train_x, train_y), (valid_x, valid_y), lr, w_optim)
            alpha_optim.step()

            w_optim.zero_grad()
            logits = model(train_x)
            loss = nn.functional.cross_entropy(logits, train_y)
            loss.backward()
            nn.utils.clip_grad_norm_(list(model.weights()), w_grad_clip)
            w_optim.step()

            n = len(train_y)
            total_loss += loss.item() * n
            total_correct += accuracy(logits, train_y) * n
            seen += n
            if step % print_step == 0 or step == steps - 1:
                print(
                    f"Train: [{epoch}/{num_epochs}] Step {step:03d}/{steps - 1:03d} "
                    f"Loss {total_loss / seen:.3f} Prec@1 {total_correct / seen:.1%}",
                    flush=True,
                )
        scheduler.step()

        model.eval()
        correct = count = 0.0
        with torch.no_grad():
            for valid_x, valid_y in valid_loader:
                correct += accuracy(model(valid_x), valid_y) * len(valid_y)
                count += len(valid_y)
        top1 = correct / count
        genotype = model.genotype()
        print(f"Valid: [{epoch}/{num_epochs}] Final Prec@1 {top1:.4%} ({time.monotonic() - started:.1f}s)")
        print(f"Model genotype: {genotype}", flush=True)
        if top1 > best_top1:
            best_top1, best_genotype = top1, genotype

    print(f"\nFinal best Prec@1 = {best_top1:.4%}")
    print(f"Best-Genotype={str(best_genotype).replace(' ', '')}", flush=True)


if __name__ == "__main__":
    main()
