"""A real trial program for the local-run tests: prints metrics, sleeps, fails or records its argv on demand."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--value", type=float, default=0.5)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--exit", type=int, default=0)
parser.add_argument("--steps", type=int, default=1)
parser.add_argument("--step-sleep", type=float, default=0.0)
parser.add_argument("--no-metric", action="store_true")
parser.add_argument("--argv-dir", default="")
parser.add_argument("--pid-dir", default="")
parser.add_argument("--sleep-if-below", type=float, default=None)
parser.add_argument("--metrics-file", default="", help="write the metric lines to this file instead of stdout")
parser.add_argument("--push", action="store_true", help="report the metrics with report_metrics instead")
parser.add_argument("rest", nargs="*")
# Options from the environment come last and win: runners started with different environments run the
# same experiment's trials differently (a good runner and a bad one).
args = parser.parse_args(sys.argv[1:] + os.environ.get("TRIAL_SCRIPT_ARGS", "").split())

name = os.environ.get("KATIB_TRIAL_NAME", "unknown")
if args.argv_dir:
    Path(args.argv_dir, f"{name}.json").write_text(json.dumps(sys.argv[1:]))
if args.pid_dir:
    Path(args.pid_dir, f"{name}.pid").write_text(str(os.getpid()))
print("starting", name, flush=True)
for step in range(args.steps):
    score = args.value + step * 0.001
    if args.no_metric:
        pass
    elif args.push:
        from katib_flows_collector import report_metrics

        report_metrics({"score": score}, step=step)
    elif args.metrics_file:
        with open(args.metrics_file, "a") as metrics:
            metrics.write(f"step={step} score={score}\n")
    else:
        print(f"step={step} score={score}", flush=True)
    time.sleep(args.step_sleep)
if args.sleep_if_below is not None and args.value < args.sleep_if_below:
    time.sleep(60)
time.sleep(args.sleep)
print("last line before exit", flush=True)
sys.exit(args.exit)
