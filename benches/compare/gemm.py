#!/usr/bin/env python3
"""Side-by-side GEMM throughput: oximl against numpy (OpenBLAS), same shapes, one run, 1 and 2 threads.

    python benches/compare/gemm.py            # from the repository root; needs numpy

Both sides report the best of repeated runs within a time budget; the table prints GFLOP/s and the ratio
oximl/numpy. The machines are shared and noisy: quote ratios from one run, not absolute figures.
"""
import json
import os
import subprocess
import sys
import time

SHAPES = [("f32", n, n, n) for n in (128, 256, 512, 1024, 2048)]
SHAPES += [("f64", n, n, n) for n in (128, 512, 1024)]
SHAPES += [("f32", b, i, o) for b in (32, 256) for (i, o) in ((64, 128), (128, 64), (256, 512), (512, 256), (512, 512))]


def numpy_side(threads):
    """Runs this script in a child with OPENBLAS_NUM_THREADS set (it must be set before numpy loads)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--numpy-child"], env=env, check=True, capture_output=True, text=True)
    return {tuple(r["key"]): r["gflops"] for r in map(json.loads, out.stdout.splitlines())}


def numpy_child():
    import numpy as np

    rng = np.random.default_rng(0)
    for dtype, m, k, n in SHAPES:
        dt = np.float32 if dtype == "f32" else np.float64
        a, b = rng.uniform(-1, 1, (m, k)).astype(dt), rng.uniform(-1, 1, (k, n)).astype(dt)
        c = np.empty((m, n), dt)
        np.matmul(a, b, out=c)
        best, reps, start = float("inf"), 0, time.perf_counter()
        while reps < 5 or (time.perf_counter() - start < 0.7 and reps < 10_000):
            t = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t)
            reps += 1
        print(json.dumps({"key": [dtype, m, k, n], "gflops": 2 * m * k * n / best / 1e9}))


def oximl_side():
    args = [f"{d}:{m},{k},{n}" for d, m, k, n in SHAPES]
    cmd = ["cargo", "bench", "--quiet", "--bench", "compare_gemm", "--"] + args
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {(r["threads"], r["dtype"], r["m"], r["k"], r["n"]): r["gflops"] for r in rows}


def main():
    ours = oximl_side()
    theirs = {t: numpy_side(t) for t in (1, 2)}
    print(f"{'shape':>22} | {'oximl 1t':>9} {'numpy 1t':>9} {'ratio':>6} | {'oximl 2t':>9} {'numpy 2t':>9} {'ratio':>6} | oximl 2t/1t")
    for key in SHAPES:
        d, m, k, n = key
        o1, o2 = ours[(1, *key)], ours[(2, *key)]
        n1, n2 = theirs[1][key], theirs[2][key]
        print(f"{d} {m}x{k}x{n:>5} | {o1:9.1f} {n1:9.1f} {o1 / n1:6.2f} | {o2:9.1f} {n2:9.1f} {o2 / n2:6.2f} | {o2 / o1:5.2f}")


if __name__ == "__main__":
    numpy_child() if "--numpy-child" in sys.argv else main()
