"""A plain script as a trial: it reads its hyperparameters from the command line and prints ``loss=...``.

Anything that prints ``name=value`` works with Katib's default StdOut collector; no katib-flows import.
"""

import argparse
import math

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, required=True)
parser.add_argument("--shape", choices=["bowl", "ridge"], default="bowl")
args = parser.parse_args()

# Branin-like bowl with its minimum 0.0 at (1, -2); the ridge variant is harder.
loss = (args.x - 1) ** 2 + (args.y + 2) ** 2
if args.shape == "ridge":
    loss += 0.5 * abs(math.sin(3 * args.x))
print(f"loss={loss:.6f}")
