"""Compression from Python: ``model.quantize("int8")`` (weights identical to ONNX Runtime's ``quantize_dynamic``
per-channel int8, predictions and digits accuracy close to float32), ``oximl.compression.prune`` /
``prune_low_magnitude`` / ``strip_pruning`` as TF-MOT (zeros kept through Adam, schedules, sparse files), and every
bad input with its error."""

import json
import pathlib
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from oximl import compression
from oximl.errors import InvalidArgumentError, NotFittedError
from oximl.layers import Dense, Dropout
from oximl.models import Sequential, load_model


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train).astype(np.float32), scaler.transform(x_test).astype(np.float32)
    return x_train, y_train, x_test, y_test


def digits_model(digits):
    x_train, y_train, _, _ = digits
    model = Sequential([Dense(128, activation="relu", input_dim=64), Dense(64, activation="relu"),
                        Dense(10, activation="softmax")], seed=42)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    return model


def accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x), axis=1) == y))


def random_model(seed=0):
    return Sequential([Dense(32, activation="relu", input_dim=20), Dropout(0.2), Dense(16, activation="tanh"),
                       Dense(4, activation="softmax")], seed=seed)


def safetensors(path):
    """The tensors of a safetensors file (what an oximl file is), read with numpy alone."""
    raw = pathlib.Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": np.float32, "I8": np.int8, "U8": np.uint8}
    out = {}
    for name, info in header.items():
        if name != "__metadata__":
            start, end = info["data_offsets"]
            out[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtypes[info["dtype"]]).reshape(info["shape"])
    return out


def test_quantize_int8_keeps_digits_accuracy_and_shrinks_the_file(digits, tmp_path):
    _, _, x_test, y_test = digits
    model = digits_model(digits)
    f32 = model.predict(x_test)
    f32_accuracy = accuracy(model, x_test, y_test)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # drop Adam's state
    model.save(tmp_path / "f32.oximl")
    model.quantize("int8")
    int8 = model.predict(x_test)
    # Tolerance on the softmax probabilities: 0.1 at worst (a row whose standardized pixels span a wide range is
    # quantized coarsely), 0.002 on average; the accuracy within half a point.
    assert np.max(np.abs(int8 - f32)) < 0.1 and np.mean(np.abs(int8 - f32)) < 0.002
    assert not np.array_equal(int8, f32)
    assert abs(accuracy(model, x_test, y_test) - f32_accuracy) <= 0.005
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] == pytest.approx(f32_accuracy, abs=0.005)
    model.save(tmp_path / "int8.oximl")
    assert (tmp_path / "f32.oximl").stat().st_size >= 3.4 * (tmp_path / "int8.oximl").stat().st_size
    back = load_model(tmp_path / "int8.oximl")
    np.testing.assert_array_equal(back.predict(x_test), int8)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(x_test), int8)


def test_quantized_weights_match_onnxruntime_quantize_dynamic(tmp_path):
    onnx = pytest.importorskip("onnx")
    quantization = pytest.importorskip("onnxruntime.quantization")
    from onnx import TensorProto, helper, numpy_helper

    model = random_model(3)
    kernel = model.get_weights()[0]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 32])],
        [numpy_helper.from_array(kernel, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "f32.onnx")
    quantization.quantize_dynamic(tmp_path / "f32.onnx", tmp_path / "int8.onnx", per_channel=True,
                                  weight_type=quantization.QuantType.QInt8)
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(tmp_path / "int8.onnx").graph.initializer}
    (ort_q,) = [v for v in inits.values() if v.dtype == np.int8 and v.shape == kernel.shape]
    (ort_scale,) = [v for k, v in inits.items() if k.endswith("scale") and v.shape == (32,)]

    model.quantize("int8")
    model.save(tmp_path / "int8.oximl")
    ours = safetensors(tmp_path / "int8.oximl")
    np.testing.assert_array_equal(ours["layers.0.kernel"], ort_q)
    np.testing.assert_allclose(ours["layers.0.kernel_scale"], ort_scale, rtol=1e-6)
    # Round trip: every dequantized weight within half a scale.
    assert np.all(np.abs(model.get_weights()[0] - kernel) <= ort_scale / 2 * (1 + 1e-5))


def test_global_pruning_keeps_zeros_through_adam_and_fine_tunes_digits(digits, tmp_path):
    x_train, y_train, x_test, y_test = digits
    model = digits_model(digits)
    f32_accuracy = accuracy(model, x_test, y_test)
    assert compression.prune(model, sparsity=0.8, scope="global") is model
    report = compression.sparsity(model)
    assert report["total"] == pytest.approx(0.8, abs=1e-3) and sorted(report["layers"]) == [0, 1, 2]
    zeros = [w == 0 for w in model.get_weights()]
    assert not any(z.any() for z in zeros[1::2]), "biases are never pruned"
    model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)  # 230 Adam steps
    for w, z in zip(model.get_weights(), zeros):
        np.testing.assert_array_equal(w == 0, z)
    assert f32_accuracy - accuracy(model, x_test, y_test) <= 0.01
    # Sparse storage: the file shrinks; the mask is saved with it.
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    dense = Sequential([Dense(128, input_dim=64), Dense(64), Dense(10)])
    dense.save(tmp_path / "dense.oximl")
    compression.prune(model, sparsity=0.9, scope="global")
    model.save(tmp_path / "pruned.oximl")
    assert (tmp_path / "dense.oximl").stat().st_size >= 3 * (tmp_path / "pruned.oximl").stat().st_size
    back = load_model(tmp_path / "pruned.oximl")
    back.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    back.fit(x_train, y_train, epochs=1, verbose=0)
    assert compression.sparsity(back)["total"] == pytest.approx(0.9, abs=1e-3)
    compression.strip_pruning(back)
    back.fit(x_train, y_train, epochs=1, verbose=0)
    assert compression.sparsity(back)["total"] < 0.5


def test_prune_low_magnitude_follows_tf_mot_polynomial_decay():
    x = np.random.default_rng(0).normal(size=(50, 20)).astype(np.float32)
    y = np.zeros(50)
    model = random_model(4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    schedule = compression.PolynomialDecay(initial_sparsity=0.2, final_sparsity=0.8, begin_step=0, end_step=50,
                                           frequency=10)
    assert compression.prune_low_magnitude(model, schedule) is model
    model.fit(x, y, epochs=5, batch_size=10, verbose=0)  # steps 0..24: last pruned at step 20
    expected = 0.8 + (0.2 - 0.8) * (1 - 20 / 50) ** 3  # TF-MOT's PolynomialDecay with power 3
    for layer, value in compression.sparsity(model)["layers"].items():
        size = model.get_weights()[[0, 2, 4][[0, 2, 3].index(layer)]].size
        assert value == round(expected * size) / size
    model.fit(x, y, epochs=6, batch_size=10, verbose=0)
    assert compression.sparsity(model)["total"] == pytest.approx(0.8, abs=0.01)
    constant = random_model(5)
    constant.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    compression.prune_low_magnitude(constant, compression.ConstantSparsity(0.5, begin_step=0, frequency=1))
    constant.fit(x, y, epochs=1, batch_size=10, verbose=0)
    assert compression.sparsity(constant)["total"] == pytest.approx(0.5, abs=0.01)


def test_bad_inputs_give_clear_errors():
    model = random_model(6)
    with pytest.raises(InvalidArgumentError, match="int4"):
        model.quantize("int4")
    with pytest.raises(InvalidArgumentError, match="unknown field"):
        model.quantize("int8", bits=4)
    for bad in (1.0, -0.5, 2):
        with pytest.raises(InvalidArgumentError, match="sparsity"):
            compression.prune(model, sparsity=bad)
    with pytest.raises(InvalidArgumentError):
        compression.prune(model, sparsity=0.5, scope="channel")
    with pytest.raises(InvalidArgumentError, match="not a Dense layer"):
        compression.prune(model, sparsity=0.5, layers=[1])
    with pytest.raises(InvalidArgumentError, match="frequency"):
        compression.prune_low_magnitude(model, compression.ConstantSparsity(0.5, 0, frequency=0))
    only_dropout = Sequential([Dropout(0.5, input_dim=3)])
    with pytest.raises(NotFittedError):
        only_dropout.quantize("int8")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.quantize("int8")
    x, y = np.zeros((4, 20), np.float32), np.zeros(4)
    for call in (lambda: model.quantize("int8"), lambda: model.fit(x, y, verbose=0),
                 lambda: compression.prune(model, sparsity=0.5), lambda: model.set_weights(model.get_weights())):
        with pytest.raises(InvalidArgumentError, match="quantized model"):
            call()
    assert model.predict(x).shape == (4, 4)
