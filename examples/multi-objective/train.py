"""Train a small neural network on scikit-learn's digits and print its accuracy and its size.

The trial script of the multi-objective example: a larger network is more accurate but costs more to
store and serve, so the experiment maximises ``accuracy`` and minimises ``weights`` (the number of
trained parameters) and keeps the trade-offs on its Pareto front. Both are printed as ``name=value``
lines for Katib's StdOut collector. No download: the data set ships with scikit-learn.
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=16, help="hidden units")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    model = MLPClassifier(hidden_layer_sizes=(args.units,), learning_rate_init=args.lr, random_state=0)
    classes = np.unique(y)
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(x_train[order], y_train[order], classes=classes)
        print(f"epoch={epoch} accuracy={model.score(x_valid, y_valid):.6f}", flush=True)
    weights = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
    print(f"weights={weights}", flush=True)


if __name__ == "__main__":
    main()
