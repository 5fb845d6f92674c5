"""The workload of a contract-suite trial run by the local runner: does what its plan file says.

The plan (JSON, written by ``runner_harness.LocalHarness``) gives the log lines to print and how the
workload ends: ``succeeded`` (exit 0), ``failed`` (exit 1) or ``running`` (trains on until stopped).
"""

import json
import sys
import time
from pathlib import Path

plan = json.loads(Path(sys.argv[1]).read_text())
for line in plan["lines"]:
    print(line, flush=True)
if plan["end"] == "running":
    time.sleep(300)
sys.exit(1 if plan["end"] == "failed" else 0)
