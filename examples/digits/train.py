"""Train a small neural network on scikit-learn's bundled digits data and print its metrics.

The trial script of the digits example: katib-flows runs it once per trial with the suggested
hyperparameters as arguments and reads ``accuracy=...`` lines from its output (Katib's StdOut
collector). No download: the data set ships with scikit-learn.
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
    parser.add_argument("--lr", type=float, default=0.001, help="learning rate")
    parser.add_argument("--units", type=int, default=64, help="hidden units")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    model = MLPClassifier(
        hidden_layer_sizes=(args.units,),
        learning_rate_init=args.lr,
        alpha=args.alpha,
        batch_size=args.batch_size,
        random_state=args.seed,
    )
    classes = np.unique(y)
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # One call is one pass over the data in minibatches of batch_size.
            model.partial_fit(x_train[order], y_train[order], classes=classes)
        accuracy = model.score(x_valid, y_valid)
        print(f"epoch={epoch} loss={model.loss_:.6f} accuracy={accuracy:.6f}", flush=True)


if __name__ == "__main__":
    main()
