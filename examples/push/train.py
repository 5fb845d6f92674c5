"""Push metrics from Python training code with ``report_metrics`` instead of printing them.

With ``metricsCollectorSpec.collector.kind: Push`` nothing parses the output: each call sends one report
(here one per epoch, with its step) to the runner. ``katib_flows_collector`` is tiny and standard-library
only, so it can go into any training image; ``katib_flows.report_metrics`` is the same function.
"""

import argparse
import math

from katib_flows_collector import report_metrics

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--momentum", type=float, required=True)
parser.add_argument("--epochs", type=int, default=8)
args = parser.parse_args()

# A toy learning curve: the validation loss falls towards a floor that depends on the hyperparameters.
floor = (math.log10(args.lr) + 2) ** 2 / 10 + (args.momentum - 0.9) ** 2
for epoch in range(args.epochs):
    loss = floor + math.exp(-(epoch + 1) * args.lr * 20)
    report_metrics({"loss": loss, "lr": args.lr}, step=epoch)
