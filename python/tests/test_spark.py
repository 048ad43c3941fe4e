"""oximl inside Apache Spark (local[2]) and Spark MLlib ALSModel files in and out, against pyspark itself.

Needs Java 17+ and pyspark (python/tests/requirements-spark.txt; .ci/run installs both). One SparkSession serves
the whole module.
"""

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

import oximl
from oximl.embeddings import KeyedVectors
from oximl.layers import Dense
from oximl.models import Sequential
from oximl.recommend import ALS, ImplicitALS, Ratings

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -r requirements-spark.txt)")
if shutil.which("java") is None:
    pytest.skip("no Java runtime: pyspark cannot start (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from pyspark.ml.recommendation import ALS as SparkALS  # noqa: E402
from pyspark.ml.recommendation import ALSModel  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

import oximl.spark as ospark  # noqa: E402

THREADS = 2
# pyspark 4.3 warns about pandas 3 in its own conversions.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:The copy keyword is deprecated")


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this venv's Python
    session = (SparkSession.builder.master("local[2]").appName("oximl-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def movielens():
    """A MovieLens-100k-shaped set: 943 users, 1682 items, 100,000 distinct (user, item) ratings in 1..5 from a
    rank-5 model with noise, with a long tail of item popularity."""
    rng = np.random.default_rng(17)
    n_users, n_items, n = 943, 1682, 100_000
    popularity = 1.0 / (np.arange(n_items) + 20.0) ** 0.8
    pairs = np.unique(rng.integers(0, n_users, 3 * n) * n_items
                      + rng.choice(n_items, 3 * n, p=popularity / popularity.sum()))
    cells = rng.choice(pairs, n, replace=False)
    users, items = cells // n_items, cells % n_items
    p, q = rng.normal(0, 0.6, (n_users, 5)), rng.normal(0, 0.6, (n_items, 5))
    ratings = np.clip(np.rint(3.5 + np.sum(p[users] * q[items], axis=1) + rng.normal(0, 0.5, n)), 1, 5)
    return users.astype(np.int32), items.astype(np.int32), ratings.astype(np.float32)


@pytest.fixture(scope="module")
def spark_model(spark, movielens, tmp_path_factory):
    users, items, ratings = movielens
    df = spark.createDataFrame(pd.DataFrame({"user": users, "item": items, "rating": ratings}))
    model = SparkALS(rank=8, maxIter=5, regParam=0.1, seed=3, numUserBlocks=2, numItemBlocks=2).fit(df)
    path = tmp_path_factory.mktemp("spark") / "als"
    model.save(str(path))
    return model, path, df


def top_lists(rows, user_col="user"):
    """{user: ([item, ...], [score, ...])} from recommendForAllUsers rows."""
    return {r[user_col]: ([e[0] for e in r["recommendations"]], [e[1] for e in r["recommendations"]]) for r in rows}


def assert_same_top(ours, theirs):
    """Equal lists, item for item; a swap is accepted only between two scores within 1e-5 (a tie in float)."""
    for user, (items, scores) in theirs.items():
        mine_items, mine_scores = ours[user]
        np.testing.assert_allclose(mine_scores, scores, rtol=1e-5, atol=1e-5)
        for j, (a, b) in enumerate(zip(mine_items, items)):
            if a != b:
                assert abs(scores[j] - mine_scores[j]) < 1e-5 and b in mine_items, (user, mine_items, items)


def test_spark_als_model_loads_and_predicts_as_spark(spark, spark_model, movielens):
    model, path, df = spark_model
    ours = ALS.load_spark(path)
    assert ours.factors == 8 and ours.regularization == 0.1 and not ours.biased
    scored = model.transform(df.limit(5000)).toPandas()
    expected = scored["prediction"].to_numpy()
    got = ours.predict(scored["user"].to_numpy(), scored["item"].to_numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    theirs = top_lists(model.recommendForAllUsers(10).collect())
    users = sorted(theirs)
    mine = ours.recommend_batch(users, k=10, exclude_seen=False)
    assert_same_top({u: ([int(i) for i, _ in top], [s for _, s in top]) for u, top in zip(users, mine)}, theirs)

    # Spark's last half-step solves each user's ridge system (λ·n) against the final item factors: folding a
    # training user in again gives Spark's factors back.
    u, i, r = movielens
    rated = u == users[0]
    folded = ours.fold_in(list(zip(i[rated], r[rated])))
    np.testing.assert_allclose(folded.factors, ours.user_factors[ours.user_ids.index(str(users[0]))], rtol=1e-3,
                               atol=1e-4)
    assert len(ours.similar_items(int(i[0]), k=5)) == 5


def test_loaded_spark_model_saves_and_serves_in_oximl_format(spark_model, tmp_path):
    ours = ALS.load_spark(spark_model[1])
    ours.save(tmp_path / "model.oximl")
    again = ALS.load(tmp_path / "model.oximl")
    assert again.recommend(ours.user_ids[3], 10, exclude_seen=False) == ours.recommend(ours.user_ids[3], 10,
                                                                                        exclude_seen=False)
    implicit = ImplicitALS.load_spark(spark_model[1], alpha=2.0)
    assert implicit.alpha == 2.0 and implicit.factors == 8


def test_oximl_als_is_read_by_spark_alsmodel_load(spark, movielens, tmp_path):
    users, items, ratings = movielens
    data = Ratings.from_arrays(users, items, ratings)
    for cls in (ALS, ImplicitALS):
        ours = (ALS(factors=6, iterations=4, biased=False) if cls is ALS else ImplicitALS(factors=6, iterations=3))
        ours.fit(data)
        path = tmp_path / cls.__name__
        ours.save_spark(path)
        loaded = ALSModel.load(str(path))
        pairs = spark.createDataFrame(pd.DataFrame({"user": users[:5000], "item": items[:5000]}))
        scored = loaded.transform(pairs).toPandas()
        low, high = ours.scale if cls is ALS else (-np.inf, np.inf)  # oximl clips explicit ratings to the scale
        np.testing.assert_allclose(np.clip(scored["prediction"].to_numpy(), low, high),
                                   ours._fitted().predict_many([str(u) for u in scored["user"]],
                                                               [str(i) for i in scored["item"]]),
                                   rtol=1e-5, atol=1e-5)
        theirs = top_lists(loaded.recommendForAllUsers(10).where("user < 50").collect())
        mine = ours.recommend_batch(sorted(theirs), k=10, exclude_seen=False)
        assert_same_top({u: ([int(i) for i, _ in t], [s for _, s in t]) for u, t in zip(sorted(theirs), mine)},
                        theirs)


def test_save_spark_refuses_what_spark_cannot_hold(tmp_path):
    rows = [("a", "1", 5.0), ("b", "2", 3.0), ("a", "2", 1.0)]
    with pytest.raises(oximl.InvalidArgumentError, match="'a' is not a 32-bit integer"):
        ALS(factors=2, biased=False).fit(rows).save_spark(tmp_path / "strings")
    with pytest.raises(oximl.InvalidArgumentError, match="no biases"):
        ALS(factors=2).fit([(1, 2, 5.0), (3, 2, 1.0)]).save_spark(tmp_path / "biased")
    with pytest.raises(oximl.FormatError, match="metadata"):
        ALS.load_spark(tmp_path)


def network(seed=5):
    return Sequential([Dense(32, activation="relu", input_dim=8), Dense(3, activation="softmax")], seed=seed)


def test_predict_over_200k_rows_equals_local_predict(spark):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200_000, 8)).astype(np.float32)
    cols = [f"x{j}" for j in range(8)]
    pdf = pd.DataFrame(x, columns=cols)
    pdf.insert(0, "row", np.arange(len(x), dtype=np.int64))
    df = spark.createDataFrame(pdf)
    net = network()
    out = ospark.predict(df, net, cols, threads=THREADS).toPandas().sort_values("row")
    oximl.set_num_threads(THREADS)
    expected = net.predict(x)
    got = np.stack(out["prediction"].to_numpy())
    assert got.dtype == np.float32 and np.array_equal(got, expected)

    small = spark.createDataFrame([(i, [float(v) for v in x[i]]) for i in range(500)], ["row", "features"])
    one = Sequential([Dense(4, activation="tanh", input_dim=8), Dense(1)], seed=2)
    col = ospark.predict(small, one, "features", "score", threads=THREADS).toPandas().sort_values("row")
    # One output column (the kernel's one-column shape), in Spark's batches, not the local call's: the same bits.
    assert np.array_equal(col["score"].to_numpy(dtype=np.float32), one.predict(x[:500])[:, 0])
    with pytest.raises(oximl.InvalidArgumentError, match="already has a column"):
        ospark.predict(small, one, "features", "row")


def test_embed_over_a_text_column_equals_local_embed(spark):
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(300)]
    kv = KeyedVectors(words, rng.normal(size=(300, 16)).astype(np.float32))
    texts = [" ".join(rng.choice(words + ["unknown", "W3"], size=rng.integers(1, 12))) for _ in range(3000)]
    df = spark.createDataFrame(pd.DataFrame({"row": np.arange(len(texts)), "text": texts}))
    out = ospark.embed(df, kv, "text", threads=THREADS, lowercase_fallback=True).toPandas().sort_values("row")
    oximl.set_num_threads(THREADS)
    expected = kv.embed(texts, lowercase_fallback=True)
    assert np.array_equal(np.stack(out["vector"].to_numpy()).astype(np.float32), expected)


def test_recommend_over_a_user_column_equals_local_recommend(spark, spark_model):
    ours = ALS.load_spark(spark_model[1])
    users = [int(u) for u in ours.user_ids[:200]] + [10**6]
    df = spark.createDataFrame([(u,) for u in users], ["user"])
    out = {r["user"]: r["recommendations"] for r in ospark.recommend(df, ours, "user", k=7, exclude_seen=False)
           .collect()}
    assert out[10**6] is None
    expected = ours.recommend_batch(users[:-1], k=7, exclude_seen=False)
    assert [[(e["item"], e["score"]) for e in out[u]] for u in users[:-1]] == expected
