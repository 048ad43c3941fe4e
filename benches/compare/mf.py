#!/usr/bin/env python3
"""Recommender comparison: oximl FunkSvd / ImplicitAls vs scikit-surprise SVD and implicit ALS, one run each.

Generates ratings from a known rank-10 model with biases and noise (sigma 0.3) in the shapes of MovieLens-100k
(943 x 1,682, 100k ratings) and MovieLens-1M (6,040 x 3,706, 1M ratings), writes a 90/10 train/test split as
tab-separated files, then times on the same files:
  - surprise SVD(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02), test RMSE
  - implicit AlternatingLeastSquares(factors=64, iterations=15, regularization=0.01) with confidence 1 + r
    (passed as the data, alpha=1), conjugate gradient, precision@10 on the test part
  - oximl: `cargo run --release --example mf_bench` (FunkSvd and ImplicitAls with the same hyper-parameters,
    recommend_batch for all users), at 1 and 2 threads
and prints a table with ratios. Run manually (needs numpy, scikit-surprise, implicit); not part of CI.

    python benches/compare/mf.py [--sizes 100k,1m] [--keep DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHAPES = {"100k": (943, 1682, 100_000), "1m": (6040, 3706, 1_000_000)}


def generate(users, items, n, seed=42, rank=10, noise=0.3):
    rng = np.random.default_rng(seed)
    fstd = (0.8**2 / rank) ** 0.25
    p = rng.normal(0, fstd, (users, rank))
    q = rng.normal(0, fstd, (items, rank))
    bu = rng.normal(0, 0.3, users)
    bi = rng.normal(0, 0.3, items)
    pairs = rng.choice(users * items, size=n, replace=False)
    u, i = pairs // items, pairs % items
    r = 3.5 + bu[u] + bi[i] + np.einsum("ij,ij->i", p[u], q[i]) + rng.normal(0, noise, n)
    r = np.clip(r, 1.0, 5.0)  # a rating scale both libraries know
    test = rng.random(n) < 0.1
    return u, i, r, test


def write(path, u, i, r):
    with open(path, "w") as f:
        for a, b, c in zip(u, i, r):
            f.write(f"u{a}\ti{b}\t{c:.4f}\n")


def run_surprise(train_path, test_path):
    try:
        from surprise import SVD, Dataset, Reader, accuracy
    except ImportError:
        return None
    reader = Reader(line_format="user item rating", sep="\t", rating_scale=(1, 5))
    trainset = Dataset.load_from_file(train_path, reader).build_full_trainset()
    testset = Dataset.load_from_file(test_path, reader).build_full_trainset().build_testset()
    algo = SVD(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02, random_state=0)
    start = time.perf_counter()
    algo.fit(trainset)
    fit_s = time.perf_counter() - start
    rmse = accuracy.rmse(algo.test(testset), verbose=False)
    return {"fit_s": fit_s, "rmse": rmse}


def run_implicit(u, i, r, test, users, items, threads):
    try:
        import implicit
        from scipy.sparse import csr_matrix
    except ImportError:
        return None
    tr = ~test
    data = 1.0 + r[tr]  # confidence 1 + alpha * r with alpha = 1
    ui = csr_matrix((data.astype(np.float32), (u[tr], i[tr])), shape=(users, items))
    model = implicit.cpu.als.AlternatingLeastSquares(
        factors=64, iterations=15, regularization=0.01, alpha=1.0, use_cg=True,
        calculate_training_loss=False, random_state=0, num_threads=threads,
    )
    start = time.perf_counter()
    model.fit(ui, show_progress=False)
    fit_s = time.perf_counter() - start
    # precision@10 on test users, training items excluded
    test_users = np.unique(u[test])
    ids, _ = model.recommend(test_users, ui[test_users], N=10, filter_already_liked_items=True)
    rel = {}
    for a, b in zip(u[test], i[test]):
        rel.setdefault(a, set()).add(b)
    p10 = float(np.mean([len(rel[x] & set(row)) / 10 for x, row in zip(test_users, ids)]))
    return {"fit_s": fit_s, "p10": p10}


def run_oximl(train_path, test_path):
    cmd = ["cargo", "run", "--release", "--quiet", "--example", "mf_bench", "--", train_path, test_path, "1", "2"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return {row["threads"]: row for row in map(json.loads, out.strip().splitlines())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix="oximl-mf-")
    os.makedirs(tmp, exist_ok=True)
    rows = []
    for size in args.sizes.split(","):
        users, items, n = SHAPES[size]
        u, i, r, test = generate(users, items, n)
        train_path, test_path = os.path.join(tmp, f"{size}-train.tsv"), os.path.join(tmp, f"{size}-test.tsv")
        write(train_path, u[~test], i[~test], r[~test])
        write(test_path, u[test], i[test], r[test])
        print(f"[{size}] {users} x {items}, {(~test).sum()} train / {test.sum()} test ratings", file=sys.stderr)
        ox = run_oximl(train_path, test_path)
        sp = run_surprise(train_path, test_path)
        im = {t: run_implicit(u, i, r, test, users, items, t) for t in (1, 2)}
        rows.append((size, ox, sp, im))
    print()
    print("| data | threads | FunkSvd fit s | RMSE | surprise SVD fit s | RMSE | speed-up | oximl iALS fit s | p@10 "
          "| implicit ALS fit s | p@10 | speed-up | recommend users/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, ox, sp, im in rows:
        for t in (1, 2):
            o = ox[t]
            s_fit = f"{sp['fit_s']:.2f}" if sp else "n/a"
            s_rmse = f"{sp['rmse']:.4f}" if sp else "n/a"
            s_x = f"{sp['fit_s'] / o['funksvd_fit_s']:.1f}x" if sp else "n/a"
            m = im.get(t)
            i_fit = f"{m['fit_s']:.2f}" if m else "n/a"
            i_p = f"{m['p10']:.4f}" if m else "n/a"
            i_x = f"{m['fit_s'] / o['implicit_fit_s']:.2f}x" if m else "n/a"
            ups = o["recommend_users"] / max(o["recommend_s"], 1e-9)
            print(f"| {size} | {t} | {o['funksvd_fit_s']:.3f} | {o['funksvd_rmse']:.4f} | {s_fit} | {s_rmse} | {s_x} "
                  f"| {o['implicit_fit_s']:.3f} | {o['implicit_p10']:.4f} | {i_fit} | {i_p} | {i_x} | {ups:,.0f} |")
    print("\n(surprise is single-threaded: its time is the same row for 1 and 2 threads.)")


if __name__ == "__main__":
    main()
