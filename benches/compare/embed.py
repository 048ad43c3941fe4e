#!/usr/bin/env python3
"""Sentence-embedding comparison: oximl vs numpy (per-sentence loop, np.add.reduceat) vs gensim, one run.

Generates 100,000 words x 300 dims (float32, normal, seed 42) and 100,000 texts of 5-30 tokens, writes them as a
word2vec binary file and a text file, then times:
  - numpy loop:      v = E[idx].sum(0); v / ||v||             per text
  - numpy reduceat:  np.add.reduceat(E[all_idx], offsets)     then row norms
  - gensim:          KeyedVectors.get_mean_vector(tokens, post_normalize=True) per text (skipped if not installed),
                     and load_word2vec_format(binary=True) against oximl's load
  - oximl:           `cargo run --release --example embed_bench` on the same files (1 and 2 threads)
and prints times and ratios. Run manually (needs numpy, optionally gensim); not part of CI.

    python benches/compare/embed.py [--words 100000] [--dim 300] [--texts 100000] [--keep DIR] [--oximl-bin PATH]

numpy and gensim run on one thread (BLAS threads are pinned to 1). The vector file is words x dim x 4 bytes
(100,000 x 300 = 120 MB by default; the issue's 1 GB load target is --words 850000). --oximl-bin runs a prebuilt
`embed_bench` instead of `cargo run` (e.g. when the workspace is mid-edit).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate(words, dim, texts, seed):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((words, dim), dtype=np.float32)
    lengths = rng.integers(5, 31, size=texts)
    idx = rng.integers(0, words, size=int(lengths.sum()))
    return table, lengths, idx


def write_files(dirname, table, lengths, idx):
    vec_path = os.path.join(dirname, "vectors.bin")
    with open(vec_path, "wb") as f:
        f.write(f"{table.shape[0]} {table.shape[1]}\n".encode())
        for i, row in enumerate(table):
            f.write(f"w{i} ".encode())
            f.write(row.astype("<f4").tobytes())
            f.write(b"\n")
    text_path = os.path.join(dirname, "texts.txt")
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    with open(text_path, "w") as f:
        for a, b in zip(offsets[:-1], offsets[1:]):
            f.write(" ".join(f"w{j}" for j in idx[a:b]))
            f.write("\n")
    return vec_path, text_path


def best_of(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def numpy_loop(table, lengths, idx):
    out = np.empty((len(lengths), table.shape[1]), dtype=np.float32)
    start = 0
    for i, n in enumerate(lengths):
        v = table[idx[start:start + n]].sum(axis=0)
        out[i] = v / np.linalg.norm(v)
        start += n
    return out


def numpy_reduceat(table, lengths, idx):
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sums = np.add.reduceat(table[idx], offsets, axis=0)
    return sums / np.linalg.norm(sums, axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--texts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", help="write the generated files here and keep them")
    ap.add_argument("--oximl-bin", help="a built `embed_bench` example to run instead of `cargo run --release`")
    args = ap.parse_args()

    table, lengths, idx = generate(args.words, args.dim, args.texts, args.seed)
    dirname = args.keep or tempfile.mkdtemp(prefix="oximl-embed-compare-")
    os.makedirs(dirname, exist_ok=True)
    vec_path, text_path = write_files(dirname, table, lengths, idx)
    print(f"data: {args.words} words x {args.dim} dims, {args.texts} texts of 5-30 tokens ({len(idx)} tokens) in {dirname}")

    times = {}
    times["numpy loop"], ref = best_of(lambda: numpy_loop(table, lengths, idx), 1)
    times["numpy reduceat"], red = best_of(lambda: numpy_reduceat(table, lengths, idx), args.repeats)
    assert np.allclose(ref, red, atol=1e-5)

    gensim_load = None
    try:
        from gensim.models import KeyedVectors  # type: ignore

        t = time.perf_counter()
        kv = KeyedVectors.load_word2vec_format(vec_path, binary=True)
        gensim_load = time.perf_counter() - t
        tokens = [line.split() for line in open(text_path)]
        times["gensim get_mean_vector"], gen = best_of(
            lambda: [kv.get_mean_vector(t, pre_normalize=False, post_normalize=True) for t in tokens], 1
        )
        assert np.allclose(ref, np.asarray(gen), atol=1e-5)
    except ImportError:
        print("gensim not installed: skipping gensim (pip install gensim)")

    if args.oximl_bin:
        cmd = [args.oximl_bin, vec_path, text_path, str(args.repeats)]
    else:
        cmd = ["cargo", "run", "--release", "-q", "--example", "embed_bench", "--", vec_path, text_path,
               str(args.repeats)]
    res = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    ox = json.loads(res.stdout.strip().splitlines()[-1])
    checksum = float(ref.astype(np.float64).sum())
    if abs(ox["checksum"] - checksum) > 1e-3 * max(1.0, abs(checksum)):
        print(f"WARNING: oximl checksum {ox['checksum']} differs from numpy {checksum}")

    print(f"\n{'method':<28}{'seconds':>10}{'texts/s':>14}")
    for name, s in times.items():
        print(f"{name:<28}{s:>10.3f}{args.texts / s:>14,.0f}")
    for th in (1, 2):
        s = ox[f"embed_s_{th}"]
        print(f"{'oximl, %d thread(s)' % th:<28}{s:>10.3f}{args.texts / s:>14,.0f}")

    print("\nratios (how many times faster oximl is):")
    for th in (1, 2):
        s = ox[f"embed_s_{th}"]
        for name, t in times.items():
            print(f"  oximl {th} thread(s) vs {name:<24} {t / s:8.1f}x")
    print(f"  2 threads vs 1 thread                       {ox['embed_s_1'] / ox['embed_s_2']:8.2f}x")
    if gensim_load is not None:
        print(f"\nload word2vec binary: gensim {gensim_load:.2f}s, oximl {ox['load_s']:.2f}s "
              f"({gensim_load / ox['load_s']:.1f}x)")
    else:
        print(f"\nload word2vec binary: oximl {ox['load_s']:.2f}s")
    if not args.keep:
        for p in (vec_path, text_path):
            os.remove(p)
        os.rmdir(dirname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
