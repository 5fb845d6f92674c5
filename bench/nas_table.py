"""Score every architecture of the ENAS example's space once, in one process: a lookup table for ``bench/nas.py``.

The ENAS example (``examples/nas-enas/experiment.yaml``, Katib's enas-cpu.yaml on digits) has one layer, so
an architecture is one of its 106 operations (with one layer there are no skip bits). Each operation's
network is built and trained exactly as the example's trial does (``train.py``'s ``train``: seed 0, 10
epochs, Adam at 0.01), and its objective is what the trial would report: the best ``Validation-Accuracy``
over the epochs (Katib's default strategy for a maximised objective). The trial trains with a fixed seed,
so a trial of operation k scores exactly ``table[k]``; ``bench/nas.py --table`` then replays searches over
the table (tabular NAS benchmarks, as NAS-Bench-101 and -201 do), many seeds in seconds.

    .venv/bin/python bench/nas_table.py       # about 5 minutes; writes bench/data/enas_digits_table.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import katib_flows_suggestion as sg
import torch

from katib_flows.spec import load_file, to_search_problem

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nas-enas"
TABLE = Path(__file__).resolve().parent / "data" / "enas_digits_table.json"
EPOCHS = 10  # the example's --num_epochs


def operations() -> tuple[sg.ExpandedOperation, ...]:
    spec = load_file(EXAMPLE / "experiment.yaml").experiment_or_raise().spec
    problem = to_search_problem(spec)
    assert problem.nas is not None
    return sg.expand_operations(problem.nas)


def main() -> None:
    sys.path.insert(0, str(EXAMPLE))
    from model import build_model  # the example's own network, as its trial builds it
    from train import train

    torch.set_num_threads(1)
    ops = operations()
    rows = []
    started = time.perf_counter()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    for op_id, op in enumerate(ops):
        nn_config = {
            "num_layers": 1,
            "input_sizes": [8, 8, 1],
            "output_sizes": [10],
            "embedding": {str(op_id): op.as_dict()},
        }
        torch.manual_seed(0)
        model = build_model([[op_id]], nn_config)
        accuracy = max(train(model, nn_config, EPOCHS))
        rows.append({**op.as_dict(), "accuracy": accuracy})
        print(f"{op_id:3} {op.as_dict()} {accuracy:.4f}", flush=True)
    print(f"{len(ops)} operations in {time.perf_counter() - started:.0f} s")
    lines = ",\n".join(f"  {json.dumps(row)}" for row in rows)  # one operation per line, for reading diffs
    TABLE.write_text(
        f'{{"example": "examples/nas-enas/experiment.yaml", "epochs": {EPOCHS}, "operations": [\n{lines}\n]}}\n'
    )


if __name__ == "__main__":
    main()
