"""The cross-language fixtures of tests/fixtures (checked from Rust by tests/fixtures.rs):
models saved by Rust and by Python predict their recorded outputs here as there, and the seeded split is the same.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from oximl import _oximl
from oximl.layers import Dense
from oximl.models import Sequential, load_model
from oximl.preprocessing import StandardScaler, train_test_split

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def matrix(name):
    return np.loadtxt(FIXTURES / name, delimiter=",", dtype=np.float32, ndmin=2)


@pytest.mark.parametrize("side", ["rust", "python"])
def test_saved_model_predicts_its_recorded_output(side):
    # The same 1e-6 as the Rust test: the last bits may differ between CPU levels (FMA or not).
    model = load_model(FIXTURES / f"{side}_model.oximl")
    np.testing.assert_allclose(model.predict(matrix(f"{side}_input.csv")), matrix(f"{side}_expected.csv"), rtol=0, atol=1e-6)
    raw = (FIXTURES / f"{side}_model.oximl").read_bytes()
    from_bytes = _oximl.Sequential.from_bytes(raw)
    assert np.array_equal(from_bytes.predict(matrix(f"{side}_input.csv")), model.predict(matrix(f"{side}_input.csv")))


def test_python_saves_the_bytes_rust_reads(tmp_path):
    # Re-saving a Rust-written model from Python gives a file Rust's format reader (from_bytes) takes back
    # unchanged: the layers, the compile settings and the weights.
    model = load_model(FIXTURES / "rust_model.oximl")
    model.save(tmp_path / "again.oximl")
    again = _oximl.Sequential.from_bytes((tmp_path / "again.oximl").read_bytes())
    assert again.layers_json == model._core.layers_json and again.compiled_json == model._core.compiled_json
    assert all(np.array_equal(a, b) for a, b in zip(again.get_weights(), model.get_weights()))
    # A model built in Python with known weights: equal logits, so every class gets 1/3 after reloading.
    fresh = Sequential([Dense(3, activation="softmax", input_dim=4)])
    fresh.set_weights([np.ones((4, 3)), np.zeros(3)])
    fresh.save(tmp_path / "fresh.oximl")
    np.testing.assert_allclose(load_model(tmp_path / "fresh.oximl").predict(np.eye(4)), 1 / 3, rtol=1e-6)


def test_stratified_iris_split_gives_the_rows_rust_gives():
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    from sklearn.datasets import load_iris

    split = json.loads((FIXTURES / "split.json").read_text())
    y = load_iris().target
    train, test = train_test_split(np.arange(150), test_size=split["test_fraction"], random_state=split["seed"], stratify=y)
    assert test.tolist() == split["test"] and train.tolist() == split["train"]


def test_saved_scaler_scales_as_recorded():
    scaler = StandardScaler.load(FIXTURES / "python_scaler.json")
    assert np.array_equal(scaler.transform(matrix("python_input.csv")), matrix("python_scaled.csv"))
