"""ONNX export checked by the real tools (onnx's full checker, onnxruntime) and ONNX import of models made by
scikit-learn + skl2onnx and onnx.helper. Needs the packages of ``requirements-onnx.txt`` (skipped without them)."""

import gzip
import pathlib

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

import oximl  # noqa: E402
from oximl.layers import Dense, Dropout  # noqa: E402
from oximl.models import Sequential, load_model  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACTIVATIONS = ["linear", "relu", {"name": "leaky_relu", "alpha": 0.3}, {"name": "elu", "alpha": 0.7}, "gelu",
               "sigmoid", "tanh", "softmax"]
PIECEWISE_LINEAR = ["linear", "relu", {"name": "leaky_relu", "alpha": 0.3}]


@pytest.fixture(scope="module")
def digits():
    with gzip.open(ROOT / "crates/oximl-core/data/digits.csv.gz", "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return data[:, :-1] / 16, data[:, -1].astype(int)


def run_onnxruntime(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, out.name, inp.shape[0]) == ("input", "output", "batch")
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a if isinstance(a, str) else a["name"])
def test_export_runs_in_onnxruntime_like_oximl(tmp_path, digits, activation):
    x, y = digits
    model = Sequential([Dense(32, activation=activation, input_dim=64), Dropout(0.3), Dense(10, activation=activation)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.eye(10, dtype=np.float32)[y], epochs=2, batch_size=64, verbose=0)  # real, trained weights
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx")
    onnx.checker.check_model(str(path), full_check=True)
    meta = onnx.load(str(path))
    assert (meta.producer_name, meta.producer_version) == ("oximl", oximl.__version__)
    assert "Dropout" not in {n.op_type for n in meta.graph.node}
    rng = np.random.default_rng(0)
    for batch in [x[:1], x[:1000], rng.normal(0, 2, (1, 64)).astype(np.float32),
                  rng.normal(0, 2, (1000, 64)).astype(np.float32)]:
        diff = np.abs(run_onnxruntime(path, batch) - model.predict(batch, verbose=0)).max()
        assert diff < 1e-5, (len(batch), diff)
    # And back: the exported file loads into oximl as the same model.
    np.testing.assert_array_equal(load_model(path).predict(x[:50], verbose=0), model.predict(x[:50], verbose=0))


@pytest.mark.parametrize("reduce_range", [False, True], ids=["u8", "u7"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a if isinstance(a, str) else a["name"])
def test_a_quantized_model_exports_as_its_int8_product(tmp_path, digits, activation, reduce_range):
    x, y = digits
    model = Sequential([Dense(32, activation=activation, input_dim=64), Dense(10, activation=activation)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.eye(10, dtype=np.float32)[y], epochs=2, batch_size=64, verbose=0)
    model.quantize("int8", reduce_range=reduce_range)
    path = tmp_path / "int8.onnx"
    model.export(path, format="onnx")
    onnx.checker.check_model(str(path), full_check=True)
    graph = onnx.load(str(path)).graph
    assert [n.op_type for n in graph.node].count("MatMulInteger") == 2
    assert {numpy_helper.to_array(t).dtype for t in graph.initializer if t.name.endswith("kernel_int8")} == {np.dtype(np.int8)}
    rng = np.random.default_rng(1)
    wide = rng.normal(0, 2, (1000, 64)).astype(np.float32)
    wide[3] = 0  # an all-zero row: scale 1, zero point 0
    wide[4] = np.abs(wide[4])  # a row without negative values: zero point 0
    w1, b1, w2, _ = model.get_weights()
    for batch in [x[:1], x[:1000], wide[:1], wide]:
        diff = np.abs(run_onnxruntime(path, batch) - model.predict(batch, verbose=0))
        if activation in PIECEWISE_LINEAR:  # both runtimes compute the hidden layer to the same bits
            assert diff.max() < 1e-5, (len(batch), diff.max())
            continue
        # exp/tanh/erf differ in the last bit between the runtimes, so a hidden value that sits on a rounding
        # boundary of its row's quantization can land one step apart: such outputs differ by about one step
        # times a weight; all others agree within 1e-5.
        hidden = np.hstack([batch @ w1 + b1, np.zeros((len(batch), 1), np.float32)])
        bounded = {"sigmoid": (0, 1), "tanh": (-1, 1), "softmax": (0, 1)}.get(str(activation))
        hidden = hidden if bounded is None else np.clip(hidden, *bounded)  # else the pre-activation range, wider
        step = np.ptp(hidden, axis=1).max() / (127 if reduce_range else 255)
        assert (diff < 1e-5).mean() >= 0.99, (len(batch), (diff >= 1e-5).mean())
        assert diff.max() <= 2 * step * np.abs(w2).max(), (len(batch), diff.max(), step)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_scikit_learn_mlps_converted_by_skl2onnx_predict_alike(tmp_path, digits, activation):
    x, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(24, 12), activation=activation, max_iter=40, random_state=0).fit(x, y)
    reg = MLPRegressor(hidden_layer_sizes=(16,), activation=activation, max_iter=40, random_state=0).fit(x, y * 1.0)
    binary = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, max_iter=40, random_state=0).fit(x, y >= 5)
    for name, model in [("clf", clf), ("binary", binary)]:
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(skl2onnx.to_onnx(model, x[:1], options={"zipmap": False}).SerializeToString())
        assert np.abs(load_model(path).predict(x, verbose=0) - model.predict_proba(x)).max() < 1e-5, name
    reg_path = tmp_path / "reg.onnx"
    reg_path.write_bytes(skl2onnx.to_onnx(reg, x[:1]).SerializeToString())
    assert np.abs(load_model(reg_path).predict(x, verbose=0)[:, 0] - reg.predict(x)).max() < 1e-5


def test_an_unsupported_operator_is_named(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"),
         helper.make_node("HardSwish", ["h"], ["y"], name="swish_node")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [numpy_helper.from_array(np.eye(3, dtype=np.float32), "w")])
    path = tmp_path / "bad.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(oximl.FormatError, match="HardSwish.*swish_node"):
        load_model(path)


def test_export_refuses_other_formats(tmp_path):
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match="onnx"):
        model.export(tmp_path / "m", format="tf_saved_model")
