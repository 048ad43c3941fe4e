#!/usr/bin/env python3
"""What the Python layer costs: oximl from Python against the same Rust calls on the same model file.

    python benches/compare/python_overhead.py    # from the repository root, in a venv with the oximl wheel
                                                 # (built --release) and scikit-learn

A 64-128-64-10 relu/softmax model (Adam 1e-3, sparse categorical cross-entropy, seed 0) is saved untrained; both
sides load that file and, on 1 thread:
  - predict on batches of 1 and 1,024 digits rows: the median time per call (over blocks of calls);
  - train a fresh copy for 20 epochs, batch 32, seed 0, on scikit-learn's digits (/16): the best of 5
    (the machine's other load only ever adds time).
The Rust side is `benches/compare/python_overhead.rs` (`cargo bench --bench compare_python_overhead`). Each
side runs 3 times, alternating; the table gives each run and the range. Targets: predict overhead at batch 1
<= 5 us; fit within 10% of Rust.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import oximl
from oximl.layers import Dense
from oximl.models import Sequential, load_model

RUNS = 3


def median_per_call(blocks, calls, f):
    times = []
    for _ in range(blocks):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - t) / calls)
    return sorted(times)[blocks // 2]


def python_side(model_path, x, y):
    model = load_model(model_path)
    out = {}
    for batch, blocks, calls in ((1, 200, 200), (1024, 30, 3)):
        xb = np.ascontiguousarray(x[:batch])
        model.predict(xb)
        out[f"predict{batch}"] = median_per_call(blocks, calls, lambda: model.predict(xb))
    fits = []
    for _ in range(5):
        model = load_model(model_path)
        t = time.perf_counter()
        model.fit(x, y, epochs=20, batch_size=32, shuffle=True, seed=0, verbose=0)
        fits.append(time.perf_counter() - t)
    out["fit"] = min(fits)
    return out


def rust_side(model_path, digits_path):
    cmd = ["cargo", "bench", "--quiet", "--bench", "compare_python_overhead", "--", model_path, digits_path]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return {row["case"]: row["seconds"] for row in map(json.loads, filter(None, r.stdout.splitlines())) if "case" in row}


def main():
    from sklearn.datasets import load_digits

    oximl.set_num_threads(1)
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        model_path, digits_path = os.path.join(folder, "model.oximl"), os.path.join(folder, "digits.f32")
        np.hstack([x, y[:, None]]).astype(np.float32).tofile(digits_path)
        model = Sequential([Dense(128, activation="relu", input_dim=64), Dense(64, activation="relu"),
                            Dense(10, activation="softmax")], seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.save(model_path)
        subprocess.run(["cargo", "bench", "--quiet", "--bench", "compare_python_overhead", "--no-run"], check=True)
        runs = []
        for _ in range(RUNS):
            runs.append((rust_side(model_path, digits_path), python_side(model_path, x, y)))

    def show(label, values, unit, scale):
        cells = "  ".join(f"{v * scale:9.2f}" for v in values)
        print(f"{label:<34}{cells}   range {min(values) * scale:.2f}..{max(values) * scale:.2f} {unit}")

    print(f"oximl {oximl.version()}, 1 thread, {RUNS} runs (run 1, 2, 3)")
    for batch in (1, 1024):
        case = f"predict{batch}"
        show(f"{case} Rust", [r[case] for r, _ in runs], "us", 1e6)
        show(f"{case} Python", [p[case] for _, p in runs], "us", 1e6)
        show(f"{case} Python overhead", [p[case] - r[case] for r, p in runs], "us", 1e6)
    show("fit digits Rust", [r["fit"] for r, _ in runs], "s", 1)
    show("fit digits Python", [p["fit"] for _, p in runs], "s", 1)
    show("fit Python / Rust", [p["fit"] / r["fit"] for r, p in runs], "x", 1)


if __name__ == "__main__":
    sys.exit(main())
