#!/usr/bin/env python3
"""Compression side by side, one run: oximl's int8 quantization and pruning against float32 oximl and against
ONNX Runtime's dynamic quantization (``quantize_dynamic``, per-channel int8 weights) of the same network.

    python benches/compare/compress.py [--rows 100000]   # from the repository root; needs numpy, scikit-learn,
        # onnx, onnxruntime (python/tests/requirements-onnx.txt) and oximl built in release mode

(a) digits (scikit-learn's load_digits, standardized, 80/20 stratified split), 64-128-64-10 relu/softmax, Adam 1e-3,
    batch 32, 15 epochs: test accuracy of float32, int8, and 80% global pruning + 5 epochs of fine-tuning; model file
    sizes (weights only: the optimizer state is dropped by compiling with SGD before saving).
(b) 256-512-256-10 relu/softmax (He-initialized, untrained: speed does not depend on the values) on 100,000 x 256
    uniform inputs: predict throughput at batch 1,024 and latency at batch 1, on ONE thread, for oximl float32,
    oximl int8, onnxruntime float32 and onnxruntime int8 (oximl's own ONNX export, its Gemm nodes rewritten as
    MatMul + Add because quantize_dynamic quantizes MatMul, not Gemm); agreement of the predicted classes.
Times are the best of 3 passes (batch 1,024) and the median of 2,000 calls (batch 1).
"""
import argparse
import os
import platform
import tempfile
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import oximl  # noqa: E402
from oximl import compression  # noqa: E402
from oximl.layers import Dense  # noqa: E402
from oximl.models import Sequential  # noqa: E402


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def file_size(model, folder, name):
    path = os.path.join(folder, name)
    model.save(path)
    return os.path.getsize(path)


def digits(folder):
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train).astype(np.float32), scaler.transform(x_test).astype(np.float32)
    model = Sequential([Dense(128, activation="relu", input_dim=64), Dense(64, activation="relu"),
                        Dense(10, activation="softmax")], seed=42)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)

    def accuracy(m):
        return float(np.mean(np.argmax(m.predict(x_test), axis=1) == y_test))

    rows = []
    weights_only = pickle_copy(model)
    weights_only.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rows.append(("float32", accuracy(model), file_size(weights_only, folder, "f32.oximl")))
    int8 = pickle_copy(weights_only)
    int8.quantize("int8")
    rows.append(("int8", accuracy(int8), file_size(int8, folder, "int8.oximl")))
    pruned = pickle_copy(model)
    compression.prune(pruned, sparsity=0.8, scope="global")
    one_shot = accuracy(pruned)
    pruned.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    pruned.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rows.append((f"80% pruned (one-shot {one_shot:.4f}) + fine-tuned", accuracy(pruned),
                 file_size(pruned, folder, "p80.oximl")))
    compression.prune(pruned, sparsity=0.9, scope="global")
    rows.append(("90% pruned (no fine-tuning)", accuracy(pruned), file_size(pruned, folder, "p90.oximl")))
    print("\n(a) digits 64-128-64-10: test accuracy and file size")
    base = rows[0][2]
    for name, acc, size in rows:
        print(f"  {name:<44} accuracy {acc:.4f}   file {size:>7,} B   {base / size:4.2f}x smaller")


def pickle_copy(model):
    import pickle

    return pickle.loads(pickle.dumps(model))


def gemm_to_matmul(path_in, path_out):
    """Rewrites each Gemm (transB = 0, alpha = beta = 1, as oximl exports) as MatMul + Add."""
    m = onnx.load(path_in)
    nodes = []
    for node in m.graph.node:
        if node.op_type != "Gemm":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        assert attrs.get("transA", 0) == 0 and attrs.get("transB", 0) == 0, attrs
        assert attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0, attrs
        product = node.output[0] + "_matmul"
        nodes.append(helper.make_node("MatMul", node.input[:2], [product], name=node.name + "_matmul"))
        nodes.append(helper.make_node("Add", [product, node.input[2]], list(node.output), name=node.name + "_add"))
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path_out)


def timings(f, calls):
    """The duration of each of `calls` calls of `f`, in seconds."""
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return out


def speed(folder, rows):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (rows, 256)).astype(np.float32)
    model = Sequential([Dense(512, activation="relu", kernel_initializer="he_normal", input_dim=256),
                        Dense(256, activation="relu", kernel_initializer="he_normal"),
                        Dense(10, activation="softmax")], seed=1)
    onnx_f32, onnx_mm, onnx_int8 = (os.path.join(folder, n) for n in ("f32.onnx", "mm.onnx", "int8.onnx"))
    model.export(onnx_f32, format="onnx")
    gemm_to_matmul(onnx_f32, onnx_mm)
    quantize_dynamic(onnx_mm, onnx_int8, per_channel=True, weight_type=QuantType.QInt8)
    int8 = pickle_copy(model)
    int8.quantize("int8")

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    sessions = {p: ort.InferenceSession(p, options, providers=["CPUExecutionProvider"]) for p in (onnx_f32, onnx_int8)}

    def ort_predict(path):
        s = sessions[path]
        return lambda rows: s.run(None, {"input": rows})[0]

    oximl.set_num_threads(1)
    runners = [("oximl float32", model.predict), ("oximl int8", int8.predict),
               ("onnxruntime float32", ort_predict(onnx_f32)), ("onnxruntime int8 (quantize_dynamic)", ort_predict(onnx_int8))]
    batches = [x[i:i + 1024] for i in range(0, len(x), 1024)]
    results = {}
    for name, run in runners:
        predictions = np.concatenate([run(b) for b in batches])
        seconds = min(timings(lambda: [run(b) for b in batches], 3))
        latency = float(np.median(timings(lambda: run(x[:1]), 2000)))
        results[name] = (predictions, len(x) / seconds, latency)
    reference = results["oximl float32"][0].argmax(1)
    print(f"\n(b) 256-512-256-10 on {rows:,} x 256, 1 thread: rows/s at batch 1,024, latency at batch 1")
    for name, (pred, rate, latency) in results.items():
        agree = np.mean(pred.argmax(1) == reference)
        print(f"  {name:<38} {rate:>10,.0f} rows/s   {latency * 1e6:8.1f} us   classes = oximl f32: {agree:.4f}")
    oxi, ortq, oxf = results["oximl int8"], results["onnxruntime int8 (quantize_dynamic)"], results["oximl float32"]
    print(f"  ratios: oximl int8 / oximl f32 throughput {oxi[1] / oxf[1]:.2f}x, batch-1 latency "
          f"{oxf[2] / oxi[2]:.2f}x (f32 / int8);")
    print(f"          oximl int8 / onnxruntime int8 throughput {oxi[1] / ortq[1]:.2f}x, batch-1 latency "
          f"{ortq[2] / oxi[2]:.2f}x (onnxruntime / oximl)")
    print(f"  oximl int8 vs onnxruntime int8 classes agree on {np.mean(oxi[0].argmax(1) == ortq[0].argmax(1)):.4f}, "
          f"max |probability difference| {np.max(np.abs(oxi[0] - ortq[0])):.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the speed workload (b)")
    args = parser.parse_args()
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical CPUs), oximl {oximl.__version__}, onnxruntime {ort.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        digits(folder)
        speed(folder, args.rows)


if __name__ == "__main__":
    main()
