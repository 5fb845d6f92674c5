"""PBT on scikit-learn's digits: each trial trains a linear classifier a few more epochs from its checkpoint.

Written like Katib's simple-pbt trial: it is told one fixed ``--checkpoint`` folder. It loads the weights
and the epoch count found there (its parent's, copied in before it started; nothing in generation 0),
trains ``--epochs`` more epochs of SGD with the learning rate it was given, reports the validation
accuracy after each, and saves its weights back for its children. Weights are saved with numpy, not
pickled, so loading a checkpoint runs no code.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--checkpoint", required=True, help="the folder with the parent's checkpoint; ours goes there")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, test_size=0.3, random_state=0)
classes = np.arange(10)
folder = Path(args.checkpoint)
weights, state = folder / "weights.npz", folder / "state.json"

model = SGDClassifier(learning_rate="constant", eta0=args.lr, random_state=0)
model.partial_fit(X_train[:10], y_train[:10], classes=classes)  # shapes the model; the weights are replaced below
done = 0
if weights.exists():
    saved = np.load(weights)
    model.coef_, model.intercept_ = saved["coef"].copy(), saved["intercept"].copy()
    done = json.loads(state.read_text())["epochs"]

rng = np.random.default_rng(done)
for epoch in range(done, done + args.epochs):
    order = rng.permutation(len(X_train))
    model.partial_fit(X_train[order], y_train[order])
    print(f"epoch={epoch} Validation-accuracy={model.score(X_val, y_val):.4f}", flush=True)

folder.mkdir(parents=True, exist_ok=True)
np.savez(weights, coef=model.coef_, intercept=model.intercept_)
state.write_text(json.dumps({"epochs": done + args.epochs}))
