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
