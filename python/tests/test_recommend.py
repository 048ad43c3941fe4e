import json
import math
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import oximl
from oximl import _oximl
from oximl.recommend import (ALS, FunkSVD, ImplicitALS, Ratings, average_precision_at_k, coverage, leave_last_k,
                             mae, map_at_k, ndcg_at_k, precision_at_k, ranking_metrics, recall_at_k, rmse,
                             train_test_split)


def synthetic(users, items, n, seed=42, rank=10, noise=0.3):
    """Ratings from a known rank-10 model with biases and noise, clipped to 1..5 (as benches/compare/mf.py)."""
    rng = np.random.default_rng(seed)
    fstd = (0.8**2 / rank) ** 0.25
    p, q = rng.normal(0, fstd, (users, rank)), rng.normal(0, fstd, (items, rank))
    bu, bi = rng.normal(0, 0.3, users), rng.normal(0, 0.3, items)
    pairs = rng.choice(users * items, size=n, replace=False)
    u, i = pairs // items, pairs % items
    r = np.clip(3.5 + bu[u] + bi[i] + np.einsum("ij,ij->i", p[u], q[i]) + rng.normal(0, noise, n), 1.0, 5.0)
    return u, i, r


@pytest.fixture(scope="module")
def small():
    u, i, r = synthetic(200, 120, 6000)
    return Ratings.from_arrays([f"u{x}" for x in u], i, r, scale=(1, 5))


@pytest.fixture(scope="module")
def fitted(small):
    train, test = train_test_split(small, test_size=0.2, random_state=3)
    return FunkSVD(n_factors=8, n_epochs=25, lr_all=0.02, random_state=1).fit(train), train, test


def test_predict_is_mean_plus_biases_plus_dot_from_the_returned_arrays(fitted):
    model, train, test = fitted
    p, q = model.user_factors.astype(np.float64), model.item_factors.astype(np.float64)
    bu, bi, mu = model.user_biases, model.item_biases, model.global_mean
    assert p.shape == (train.n_users, 8) and q.shape == (train.n_items, 8) and bu.shape == (train.n_users,)
    uid = {x: k for k, x in enumerate(model.user_ids)}
    iid = {x: k for k, x in enumerate(model.item_ids)}
    users = [test.user_ids[k] for k in test.user_indices]
    items = [test.item_ids[k] for k in test.item_indices]
    ui, ii = np.array([uid[x] for x in users]), np.array([iid[x] for x in items])
    want = np.clip(mu + bu[ui] + bi[ii] + np.einsum("ij,ij->i", p[ui], q[ii]), 1, 5)
    got = model.predict(users, items)
    assert got.dtype == np.float32 and got.shape == (len(test),)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert model.predict(users[0], items[0]) == pytest.approx(want[0], abs=1e-5)
    # Cold start: an unknown user gets mu + b_i, an unknown pair mu.
    assert model.predict("nobody", items[0]) == pytest.approx(np.clip(mu + bi[ii[0]], 1, 5), abs=1e-6)
    assert model.predict("nobody", "nothing") == pytest.approx(mu, abs=1e-6)
    assert 0 <= min(model.history) and len(model.history) == 25


def test_rmse_and_mae_match_numpy(fitted):
    model, train, test = fitted
    users = [test.user_ids[k] for k in test.user_indices]
    items = [test.item_ids[k] for k in test.item_indices]
    err = model.predict(users, items).astype(np.float64) - test.ratings
    assert rmse(model, test) == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-6)
    assert mae(model, test) == pytest.approx(np.mean(np.abs(err)), rel=1e-6)
    assert rmse(model, test) < 0.9 * np.sqrt(np.mean((test.ratings - train.global_mean) ** 2))  # beats the mean


def numpy_metrics(rec, rel, k):
    """The reference definitions: precision, recall, average precision and NDCG at k with binary relevance."""
    hits = np.array([x in rel for x in rec[:k]], dtype=np.float64)
    precision = hits.sum() / k
    recall = hits.sum() / len(rel) if rel else 0.0
    ap = (np.cumsum(hits) / np.arange(1, len(hits) + 1) * hits).sum() / min(k, len(rel)) if rel else 0.0
    gains = 1 / np.log2(np.arange(2, k + 2))
    ideal = gains[: min(k, len(rel))].sum()
    ndcg = (hits * gains[: len(hits)]).sum() / ideal if ideal > 0 else 0.0
    return precision, recall, ap, ndcg


def test_ranking_metrics_match_numpy():
    rng = np.random.default_rng(5)
    lists, sets = [], []
    for _ in range(40):
        rec = list(rng.choice(30, size=rng.integers(0, 15), replace=False))
        rel = set(rng.choice(30, size=rng.integers(0, 8), replace=False).tolist())
        k = int(rng.integers(1, 12))
        want = numpy_metrics([int(x) for x in rec], rel, k)
        got = (precision_at_k(rec, rel, k), recall_at_k(rec, rel, k), average_precision_at_k(rec, rel, k),
               ndcg_at_k(rec, rel, k))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        lists.append([int(x) for x in rec])
        sets.append(rel)
    assert map_at_k(lists, sets, 5) == pytest.approx(np.mean([numpy_metrics(r, s, 5)[2] for r, s in zip(lists, sets)]))
    assert coverage(lists, 30) == pytest.approx(len({x for r in lists for x in r}) / 30)
    # recommend()'s (item, score) pairs are accepted, and ids of any hashable type.
    assert precision_at_k([("a", 0.9), ("b", 0.5)], {"b"}, 2) == 0.5
    with pytest.raises(ValueError):
        precision_at_k([1], {1}, 0)


def test_model_ranking_metrics_agree_with_recommend_and_the_metric_functions(fitted):
    model, _, test = fitted
    got = ranking_metrics(model, test, k=5, threshold=4.0)
    users = [u for u in test.user_ids if u in set(model.user_ids)]
    by_user = {}
    for u, i, r in test:
        if r >= 4.0:
            by_user.setdefault(u, set()).add(i)
    evaluated = [u for u in users if u in by_user]
    lists = model.recommend_batch(evaluated, k=5)
    assert got["users"] == len(evaluated) > 0
    assert got["precision"] == pytest.approx(np.mean([precision_at_k(l, by_user[u], 5) for u, l in zip(evaluated, lists)]))
    assert got["ndcg"] == pytest.approx(np.mean([ndcg_at_k(l, by_user[u], 5) for u, l in zip(evaluated, lists)]))
    assert got["map"] == pytest.approx(map_at_k(lists, [by_user[u] for u in evaluated], 5))
    assert got["coverage"] == pytest.approx(coverage(lists, len(model.item_ids)))


def test_recommend_batch_similar_items_and_fold_in(fitted):
    model, train, _ = fitted
    users = model.user_ids[:7]
    batch = model.recommend_batch(users, k=6)
    assert batch == [model.recommend(u, k=6) for u in users]
    seen = {}
    for u, i, _ in train:
        seen.setdefault(u, set()).add(i)
    for u, recs in zip(users, batch):
        assert len(recs) == 6 and not seen[u] & {i for i, _ in recs}
        scores = [s for _, s in recs]
        assert scores == sorted(scores, reverse=True)
    unexcluded = model.recommend(users[0], k=len(model.item_ids), exclude_seen=False)
    assert len(unexcluded) == len(model.item_ids)
    sims = model.similar_items(model.item_ids[0], k=5)
    q = model.item_factors.astype(np.float64)
    cos = q @ q[0] / (np.linalg.norm(q, axis=1) * np.linalg.norm(q[0]))
    cos[0] = -np.inf
    assert [i for i, _ in sims] == [model.item_ids[j] for j in np.argsort(-cos, kind="stable")[:5]]
    np.testing.assert_allclose([s for _, s in sims], np.sort(cos)[::-1][:5], rtol=1e-4)
    # A known user folded in again from their ratings recommends about what the trained user gets.
    mine = [(i, r) for u, i, r in train if u == users[0]]
    folded = model.fold_in(mine)
    assert folded.factors.shape == (8,) and math.isfinite(folded.bias)
    top = {i for i, _ in model.recommend(folded, k=10)}
    assert not top & seen[users[0]]
    assert len(top & {i for i, _ in model.recommend(users[0], k=10)}) >= 5


def test_als_and_implicit_als_learn(small):
    train, test = train_test_split(small, test_size=0.2, random_state=1, per_user=True)
    als = ALS(factors=8, iterations=8, regularization=0.05).fit(train)
    baseline = np.sqrt(np.mean((test.ratings - train.global_mean) ** 2))
    assert rmse(als, test) < 0.75 * baseline
    h = als.history
    assert all(b <= a * (1 + 1e-6) for a, b in zip(h, h[1:]))  # the ALS objective never increases
    imp = ImplicitALS(factors=16, iterations=10).fit(train)
    assert imp.user_biases.tolist() == [0.0] * train.n_users and imp.global_mean == 0.0
    m = ranking_metrics(imp, test, k=10)
    assert 0.0 <= m["precision"] <= 1.0 and m["users"] > 0
    assert imp.history == []


def test_ratings_construction_and_splits():
    rows = [("a", 1, 4.0, 10), ("a", 2, 3.0, 30), ("a", 3, 5.0, 20), ("b", 1, 2.0, 5), ("b", 2, 1.0, 6),
            (7, "x", 2.5, 1)]
    r = Ratings(rows)
    assert (len(r), r.n_users, r.n_items) == (6, 3, 4)
    assert r.user_ids == ["a", "b", "7"] and r.item_ids == ["1", "2", "3", "x"]
    assert list(r)[-1] == ("7", "x", 2.5) and r.timestamps.tolist() == [10, 30, 20, 5, 6, 1]
    assert r.scale == (1.0, 5.0) and r.global_mean == pytest.approx(17.5 / 6)
    train, test = leave_last_k(r, k=1)
    assert sorted(test) == [("a", "2", 3.0), ("b", "2", 1.0)]
    assert len(train) == 4 and train.user_ids == r.user_ids  # shared id maps
    mean = Ratings([("u", "i", 1.0), ("u", "i", 3.0)], duplicates="mean")
    assert list(mean) == [("u", "i", 2.0)]
    u, i, v = synthetic(50, 40, 1000)
    big = Ratings.from_arrays(u, i, v)
    tr1, te1 = train_test_split(big, test_size=0.25, random_state=9)
    tr2, te2 = train_test_split(big, test_size=0.25, random_state=9)
    assert len(te1) == 250 and len(tr1) == 750 and list(te1) == list(te2)
    assert list(te1) != list(train_test_split(big, test_size=0.25, random_state=10)[1])
    tr, te = train_test_split(big, test_size=0.3, per_user=True)
    assert {x for x, _, _ in tr} == set(big.user_ids) and len(tr) + len(te) == 1000
    clone = pickle.loads(pickle.dumps(big))
    assert list(clone) == list(big) and clone.scale == big.scale


def test_ratings_load_movielens_layouts_and_bad_lines(tmp_path):
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n")
    r = Ratings.load(tmp_path / "u.data", "ml-100k")
    assert (len(r), r.n_users, r.scale) == (3, 2, (1.0, 5.0)) and r.timestamps.tolist()[0] == 881250949
    (tmp_path / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n")
    assert list(Ratings.load(tmp_path / "ratings.dat", "ml-1m")) == [("1", "1193", 5.0), ("1", "661", 3.0)]
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.5,964982703\n2,1,0.5,1\n")
    assert Ratings.load(tmp_path / "ratings.csv", "ml-latest").ratings.tolist() == [4.5, 0.5]
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,10,4\n1,11,oops\n2,10,5\n")
    with pytest.raises(oximl.FormatError, match="line 3") as info:
        Ratings.load(bad)
    assert isinstance(info.value, OSError)
    assert Ratings.load(bad, skip_invalid=True).skipped == 1
    with pytest.raises(OSError):
        Ratings.load(tmp_path / "missing.csv")
    with pytest.raises(oximl.InvalidArgumentError, match="line 1"):
        Ratings.load(tmp_path / "u.data", "tsv", scale=(1, 2))
    with pytest.raises(ValueError):
        Ratings.load(bad, "parquet")
    custom = tmp_path / "custom.txt"
    custom.write_text("4.0;item9;userA\n")
    assert list(Ratings.load(custom, sep=";", header=False, columns=(2, 1, 0, None))) == [("userA", "item9", 4.0)]


def test_bad_inputs_raise_the_documented_exceptions(fitted, small):
    model, train, _ = fitted
    with pytest.raises(oximl.InvalidArgumentError):
        Ratings([])  # no ratings
    with pytest.raises(oximl.NonFiniteError):
        Ratings([("u", "i", float("nan"))])
    with pytest.raises(oximl.InvalidArgumentError):
        Ratings([("u", "i", 6.0)], scale=(1, 5))
    with pytest.raises(oximl.ShapeError):
        Ratings.from_arrays(["u", "v"], ["i"], [1.0, 2.0])
    with pytest.raises(ValueError):
        Ratings([("u", "i")])
    with pytest.raises(ValueError):
        Ratings([("u", "i", "four")])
    with pytest.raises(TypeError):
        Ratings([(1.5, "i", 1.0)])  # float ids are ambiguous
    with pytest.raises(TypeError):
        Ratings([(None, "i", 1.0)])
    with pytest.raises(oximl.InvalidArgumentError):
        Ratings([("u", "i", 1.0)], duplicates="first")
    with pytest.raises(oximl.InvalidArgumentError):
        leave_last_k(small)  # no timestamps
    with pytest.raises(oximl.InvalidArgumentError):
        train_test_split(small, test_size=1.5)
    with pytest.raises(oximl.InvalidArgumentError, match="factors"):
        FunkSVD(n_factors=0).fit(train)
    with pytest.raises(oximl.InvalidArgumentError, match="learning_rate"):
        FunkSVD(lr_all=-1).fit(train)
    with pytest.raises(oximl.InvalidArgumentError):
        ALS(regularization=0).fit(train)
    with pytest.raises(oximl.NonFiniteError):
        FunkSVD(n_factors=4, n_epochs=30, lr_all=50.0, reg_all=0.0).fit(train)  # diverges
    with pytest.raises(oximl.NotFittedError):
        FunkSVD().recommend("u1")
    with pytest.raises(oximl.InvalidArgumentError, match="nobody"):
        model.recommend("nobody")
    with pytest.raises(oximl.InvalidArgumentError):
        model.recommend(model.user_ids[0], k=0)
    with pytest.raises(oximl.InvalidArgumentError):
        model.recommend(model.user_ids[0], k=len(model.item_ids) + 1)
    with pytest.raises(oximl.InvalidArgumentError):
        model.recommend_batch([model.user_ids[0], "nobody"])
    with pytest.raises(oximl.InvalidArgumentError):
        model.similar_items("nothing")
    with pytest.raises(oximl.InvalidArgumentError):
        model.fold_in([("nothing", 3.0)])
    with pytest.raises(oximl.NonFiniteError):
        model.fold_in([(model.item_ids[0], float("inf"))])
    with pytest.raises(oximl.ShapeError):
        model.predict(["a", "b"], ["x"])
    with pytest.raises(TypeError):
        model.recommend_batch("u1")  # a string is not a list of users


def test_save_load_and_pickle_round_trips(tmp_path, small):
    train, test = train_test_split(small, random_state=2)
    for model in (FunkSVD(n_factors=4, n_epochs=3, reg_bias=0.1), ALS(factors=3, iterations=2, biased=False),
                  ImplicitALS(factors=5, iterations=2, alpha=2.0)):
        model.fit(train)
        path = tmp_path / f"{type(model).__name__}.oximl"
        model.save(path)
        for clone in (type(model).load(path), FunkSVD.__mro__[1].load(path), pickle.loads(pickle.dumps(model))):
            assert type(clone) is type(model) and clone.get_params() == model.get_params()
            assert np.array_equal(clone.user_factors, model.user_factors)
            assert clone.recommend_batch(model.user_ids[:3], k=4) == model.recommend_batch(model.user_ids[:3], k=4)
            assert rmse(clone, test) == rmse(model, test)
    with pytest.raises(oximl.FormatError):
        ALS.load(tmp_path / "FunkSVD.oximl")  # a FunkSVD file
    raw = (tmp_path / "ALS.oximl").read_bytes()
    (tmp_path / "cut.oximl").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(oximl.FormatError):
        ALS.load(tmp_path / "cut.oximl")
    with pytest.raises(OSError):
        ALS.load(tmp_path / "missing.oximl")
    unfitted = pickle.loads(pickle.dumps(FunkSVD(n_factors=7)))
    assert unfitted.n_factors == 7
    with pytest.raises(oximl.NotFittedError):
        unfitted.save(tmp_path / "x.oximl")


def test_fit_releases_the_gil(run_beside_python):
    u, i, r = synthetic(943, 1682, 100_000, seed=1)
    data = Ratings.from_arrays(u, i, r)
    model = run_beside_python(lambda: FunkSVD(n_factors=50, n_epochs=20).fit(data))
    assert model.user_factors.shape == (943, 50)


def test_funksvd_rmse_within_one_percent_of_surprise(tmp_path):
    surprise = pytest.importorskip("surprise")
    u, i, r = synthetic(943, 1682, 100_000)
    is_test = np.random.default_rng(0).random(len(r)) < 0.1
    paths = {}
    for name, mask in (("train", ~is_test), ("test", is_test)):
        paths[name] = tmp_path / f"{name}.tsv"
        paths[name].write_text("".join(f"u{a}\ti{b}\t{c:.4f}\n" for a, b, c in zip(u[mask], i[mask], r[mask])))
    params = dict(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02)
    reader = surprise.Reader(line_format="user item rating", sep="\t", rating_scale=(1, 5))
    trainset = surprise.Dataset.load_from_file(str(paths["train"]), reader).build_full_trainset()
    testset = surprise.Dataset.load_from_file(str(paths["test"]), reader).build_full_trainset().build_testset()
    theirs = surprise.accuracy.rmse(surprise.SVD(random_state=0, **params).fit(trainset).test(testset), verbose=False)
    train, test = (Ratings.load(paths[k], "tsv", scale=(1, 5)) for k in ("train", "test"))
    ours = rmse(FunkSVD(random_state=0, **params).fit(train), test)
    assert abs(ours - theirs) / theirs < 0.01, (ours, theirs)


def test_sizes_from_arguments_raise_instead_of_aborting(small):
    for model in (FunkSVD(n_epochs=10**18), FunkSVD(n_factors=10**10), FunkSVD(n_factors=2**62),
                  ALS(iterations=10**18), ImplicitALS(cg_steps=10**18)):
        with pytest.raises(oximl.InvalidArgumentError):
            model.fit(small)
    with pytest.raises(oximl.InvalidArgumentError):
        Ratings.load(__file__, columns=(2**64 - 1, 1, 2, None))


def test_r_write_csv_quotes_and_the_one_vocabulary(tmp_path):
    # What R's write.csv writes: a quoted header, quoted strings and a row-name column first.
    path = tmp_path / "r.csv"
    path.write_text('"","user","title","rating"\n"1","7","Heat, 1995",4\n"2","8","Heat, 1995",5\n'
                    '"3","7","Toy Story (1995)",3\n')
    r = Ratings.load(path, columns=(1, 2, 3, None))
    assert list(r) == [("7", "Heat, 1995", 4.0), ("8", "Heat, 1995", 5.0), ("7", "Toy Story (1995)", 3.0)]
    # Each name is the core's, and the old spellings are its aliases.
    for dup in ("last", "last_wins"):
        assert Ratings([("u", "i", 1.0), ("u", "i", 3.0)], duplicates=dup).ratings.tolist() == [3.0]
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n")
    assert len(Ratings.load(tmp_path / "u.data", "movielens_100k")) == len(Ratings.load(tmp_path / "u.data", "ml-100k"))
    with pytest.raises(oximl.InvalidArgumentError, match="seperator"):
        _oximl.Ratings.read_csv(str(path), '{"seperator": ";"}')


INTERRUPT = textwrap.dedent(
    """
    import json, os, signal, threading, time
    from oximl.recommend import ALS, FunkSVD, ImplicitALS, Ratings

    rows = [(u, (u * 7 + j * 13) % 2000, 1 + (u + j) % 5) for u in range(3000) for j in range(60)]
    data = Ratings(rows)
    out = {}
    for model in (FunkSVD(n_factors=32, n_epochs=10**6), ALS(factors=32, iterations=10**6),
                  ImplicitALS(factors=32, iterations=10**6)):
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            model.fit(data)
            out[type(model).__name__] = None
        except KeyboardInterrupt:
            out[type(model).__name__] = time.perf_counter() - start
    print(json.dumps(out))
    """
)


def test_ctrl_c_stops_recommender_fit():
    out = subprocess.run([sys.executable, "-c", INTERRUPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seconds = json.loads(out.stdout.strip().splitlines()[-1])
    # The signal comes after 0.5 s; the fits poll per row or per few thousand ratings and the binding every 50 ms.
    for name, took in seconds.items():
        assert took is not None and 0.5 <= took < 1.5, (name, took)
