"""A real PBT trial for the local-run tests: trains on top of the checkpoint it finds, in Katib's simple-pbt form.

It reads ``state.json`` from ``--checkpoint`` (the parent's copy, or nothing), adds ``--steps`` steps and its
own name to the lineage, writes it back, and reports ``Validation-accuracy`` = accumulated steps x lr, so a
line that trains longer scores higher. It also records the directory it was given and the environment's.
"""

import argparse
import json
import os
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--checkpoint", required=True)
parser.add_argument("--steps", type=int, default=10)
args = parser.parse_args()

folder = Path(args.checkpoint)
state_file = folder / "state.json"
state = json.loads(state_file.read_text()) if state_file.exists() else {"steps": 0, "lineage": []}
state["steps"] += args.steps
state["lineage"].append(os.environ["KATIB_TRIAL_NAME"])
state["given"] = args.checkpoint
state["env"] = os.environ.get("KATIB_TRIAL_CHECKPOINT_DIR")
state_file.write_text(json.dumps(state))
print(f"Validation-accuracy={state['steps'] * args.lr}", flush=True)
