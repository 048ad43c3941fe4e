"""oximl.sklearn.MLPClassifier beside scikit-learn's MLPClassifier with the same settings on the digits data:
test accuracy and training time (one run; min of repeats). Run: python benches/compare/sklearn_mlp.py"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.preprocessing import StandardScaler

from oximl.sklearn import MLPClassifier as OxMLP

SETTINGS = dict(hidden_layer_sizes=(64,), alpha=1e-4, batch_size=32, learning_rate_init=1e-3, max_iter=30,
                tol=0.0, n_iter_no_change=1000)


def data():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def run(cls, seeds, repeats=3):
    X_train, X_test, y_train, y_test = data()
    accuracy, seconds = [], []
    for seed in seeds:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            model = cls(random_state=seed, **SETTINGS).fit(X_train, y_train)
            best = min(best, time.perf_counter() - start)
        seconds.append(best)
        accuracy.append(model.score(X_test, y_test))
    return float(np.mean(accuracy)), float(np.sum(seconds))


def compare(seeds=(0, 1, 2), repeats=3):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk_acc, sk_s = run(SkMLP, seeds, repeats)
    ox_acc, ox_s = run(OxMLP, seeds, repeats)
    return {"sklearn_accuracy": sk_acc, "oximl_accuracy": ox_acc, "sklearn_seconds": sk_s, "oximl_seconds": ox_s,
            "speedup": sk_s / ox_s}


if __name__ == "__main__":
    r = compare()
    print(f"digits, {SETTINGS}")
    print(f"scikit-learn MLPClassifier: accuracy {r['sklearn_accuracy']:.4f}, {r['sklearn_seconds']:.3f} s")
    print(f"oximl.sklearn.MLPClassifier: accuracy {r['oximl_accuracy']:.4f}, {r['oximl_seconds']:.3f} s")
    print(f"speed ratio: {r['speedup']:.1f}x")
