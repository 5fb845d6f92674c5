"""A real trial program for the NAS tests: records its argv, prints an accuracy read from the architecture.

The accuracy is 0.5 plus 0.1 per layer whose operation id is ``--good-op`` (0 by default), so a controller
that learns raises it; arguments it does not know (Katib's ``--num_epochs``) are recorded and ignored.
"""

import argparse
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--architecture", default="")
parser.add_argument("--argv-dir", default="")
parser.add_argument("--good-op", type=int, default=0)
args, _ = parser.parse_known_args()

name = os.environ.get("KATIB_TRIAL_NAME", "unknown")
if args.argv_dir:
    Path(args.argv_dir, f"{name}.json").write_text(json.dumps(sys.argv[1:]))
# As Katib's RunTrial.py: single quotes back to double ones; the quotes Katib's template writes around
# the value (a shell would strip them there) are stripped here.
architecture = json.loads(args.architecture.strip('"').replace("'", '"'))
accuracy = 0.5 + 0.1 * sum(1 for layer in architecture if layer[0] == args.good_op)
print(f"Validation-Accuracy={accuracy}", flush=True)
