"""Keras files: models trained and saved by real Keras 3 (JAX backend) in both formats load with
``oximl.models.load_model`` and predict like ``keras_model.predict`` within 1e-5; their compile config comes along;
unsupported layers and damaged files are clear errors. Needs the packages of ``requirements-keras.txt``."""

import importlib.util
import json
import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from oximl.errors import FormatError  # noqa: E402
from oximl.models import load_model  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _fixture_script():
    """The fixture script's model builders (tests/fixtures/keras/make_fixtures.py): one definition of the models."""
    spec = importlib.util.spec_from_file_location("keras_fixtures", ROOT / "tests/fixtures/keras/make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _fixture_script()
LOSS_AND_METRICS = {"classifier": ("categorical_crossentropy", ["accuracy"]),
                    "binary": ("binary_crossentropy", ["accuracy", "precision"]),
                    "regressor": ("mean_squared_error", ["mae"])}


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("name", sorted(fixtures.BUILDERS))
def test_fresh_keras_models_predict_the_same_in_oximl(tmp_path, name, fmt):
    model, x = fixtures.trained(name, seed=3)
    path = tmp_path / f"{name}.{fmt}"
    model.save(path)
    expected = np.asarray(model.predict(x, verbose=0))
    loaded = load_model(path)
    got = loaded.predict(x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    # The compile config comes along: the loss and metrics the fixture script compiled with.
    compiled = json.loads(loaded._core.compiled_json)
    assert (compiled["loss"]["name"], compiled["metrics"]) == LOSS_AND_METRICS[name]


def test_an_unsupported_layer_is_refused_by_name(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.LayerNormalization(name="norm")])
    model.save(tmp_path / "m.keras")
    with pytest.raises(FormatError, match="norm.*LayerNormalization"):
        load_model(tmp_path / "m.keras")


def test_truncated_files_are_format_errors(tmp_path):
    model, _ = fixtures.trained("classifier")
    for fmt in ["keras", "h5"]:
        path = tmp_path / f"m.{fmt}"
        model.save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(FormatError):
            load_model(path)
