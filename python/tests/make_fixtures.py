"""Writes the Python side of the cross-language fixtures (see tests/fixtures.rs):
a small iris classifier trained and saved by Python, its input and its predictions, and a StandardScaler
fitted on iris with that input scaled.

    python python/tests/make_fixtures.py
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris

from oximl.layers import Dense
from oximl.models import Sequential
from oximl.preprocessing import StandardScaler

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def main() -> None:
    iris = load_iris()
    model = Sequential([Dense(8, activation="tanh", input_dim=4), Dense(3, activation="softmax")], seed=11)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(iris.data, iris.target, epochs=30, batch_size=16, verbose=0)
    model.save(FIXTURES / "python_model.oximl")
    x = iris.data[7::15].astype(np.float32)
    np.savetxt(FIXTURES / "python_input.csv", x, fmt="%.9g", delimiter=",")
    np.savetxt(FIXTURES / "python_expected.csv", model.predict(x), fmt="%.9g", delimiter=",")
    scaler = StandardScaler().fit(iris.data)
    scaler.save(FIXTURES / "python_scaler.json")
    np.savetxt(FIXTURES / "python_scaled.csv", scaler.transform(x), fmt="%.9g", delimiter=",")


if __name__ == "__main__":
    main()
