#!/usr/bin/env python3
"""Dense networks side by side, one run: oximl against scikit-learn's MLPClassifier and Keras (JAX backend).

    python benches/compare/mlp.py        # from the repository root; needs numpy, scikit-learn; keras+jax optional

Workloads (the same data for everyone, written to temporary files for oximl):
  (a) digits (scikit-learn's load_digits / 16), 64-128-64-10 relu/softmax, Adam 1e-3, batch 32, 20 epochs;
  (b) 100,000 x 256 synthetic, 256-512-256-10, Adam, batch 256, 1 epoch (also: peak RSS of the process);
  (c) inference with the model of (b) on batches of 1 and 1,024 rows (best of repeated calls).
Each side runs in its own process with 1, then 2 threads. PyTorch is not installable here (its Linux wheel needs
the CUDA stack), so Keras and scikit-learn are the peers. Ratios are peer time / oximl time (> 1: oximl faster).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_data(folder):
    from sklearn.datasets import load_digits

    d = load_digits()
    digits = np.hstack([d.data / 16.0, d.target[:, None]]).astype(np.float32)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (100_000, 256)).astype(np.float32)
    y = np.argmax(x @ rng.uniform(-1, 1, (256, 10)).astype(np.float32), axis=1).astype(np.float32)[:, None]
    paths = [os.path.join(folder, n) for n in ("x.f32", "y.f32", "digits.f32")]
    for arr, p in zip((x, y, digits), paths):
        arr.tofile(p)
    return paths


def child(kind, paths):
    """Runs one peer's workloads in this (child) process and prints JSON lines."""
    x = np.fromfile(paths[0], np.float32).reshape(100_000, 256)
    y = np.fromfile(paths[1], np.float32).reshape(100_000).astype(np.int64)
    digits = np.fromfile(paths[2], np.float32).reshape(1797, 65)
    dx, dy = digits[:, :64], digits[:, 64].astype(np.int64)
    out = {}
    if kind == "sklearn":
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.simplefilter("ignore", ConvergenceWarning)

        def mlp(hidden, batch, epochs):
            return MLPClassifier(hidden, solver="adam", learning_rate_init=1e-3, alpha=0.0, batch_size=batch,
                                 max_iter=epochs, tol=0.0, n_iter_no_change=10**9, random_state=0)

        t = time.perf_counter()
        m = mlp((128, 64), 32, 20).fit(dx, dy)
        out["digits"] = time.perf_counter() - t
        t = time.perf_counter()
        m = mlp((512, 256), 256, 1).fit(x, y)
        out["synthetic"] = time.perf_counter() - t
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        predict = m.predict_proba
    else:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras

        def mlp(inputs, hidden):
            layers = [keras.Input((inputs,))] + [keras.layers.Dense(h, activation="relu") for h in hidden]
            m = keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])
            m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            return m

        m = mlp(64, (128, 64))
        t = time.perf_counter()
        m.fit(dx, dy, batch_size=32, epochs=20, verbose=0)
        out["digits"] = time.perf_counter() - t
        m = mlp(256, (512, 256))
        t = time.perf_counter()
        m.fit(x, y, batch_size=256, epochs=1, verbose=0)
        out["synthetic"] = time.perf_counter() - t
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        predict = m.predict_on_batch
    for batch in (1, 1024):
        xb = x[:batch]
        predict(xb)
        best, reps, start = float("inf"), 0, time.perf_counter()
        while reps < 20 or (time.perf_counter() - start < 1.0 and reps < 100_000):
            t = time.perf_counter()
            predict(xb)
            best = min(best, time.perf_counter() - t)
            reps += 1
        out[f"predict{batch}"] = best
    print(json.dumps(out))


def run_peer(kind, paths, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               XLA_FLAGS=f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                         f"intra_op_parallelism_threads={threads}")
    r = subprocess.run([sys.executable, __file__, "--child", kind, *paths], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"({kind} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode})")
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_oximl(paths, threads):
    cmd = ["cargo", "bench", "--quiet", "--bench", "compare_mlp", "--", *paths]
    r = subprocess.run(cmd, env=dict(os.environ, OXIML_THREADS=str(threads)), check=True, capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            out[row["case"]] = row.get("seconds", row.get("value"))
    return out


def main():
    with tempfile.TemporaryDirectory() as folder:
        paths = make_data(folder)
        subprocess.run(["cargo", "bench", "--quiet", "--bench", "compare_mlp", "--no-run"], check=True)
        for threads in (1, 2):
            ours = run_oximl(paths, threads)
            peers = {k: run_peer(k, paths, threads) for k in ("sklearn", "keras")}
            print(f"\n{threads} thread(s): seconds (ratio peer/oximl)")
            print(f"{'workload':<14}{'oximl':>12}" + "".join(f"{k:>24}" for k in peers))
            for case in ("digits", "synthetic", "predict1", "predict1024"):
                cells = "".join(
                    f"{p[case]:>14.4g} ({p[case] / ours[case]:5.1f}x)" if p else f"{'n/a':>24}" for p in peers.values()
                )
                print(f"{case:<14}{ours[case]:>12.4g}{cells}")
            rss = "".join(f"{p['peak_rss_mb']:>22.0f}MB" if p else f"{'n/a':>24}" for p in peers.values())
            print(f"{'peak RSS':<14}{ours['peak_rss_mb']:>10.0f}MB{rss}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
    else:
        main()
