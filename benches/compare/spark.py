#!/usr/bin/env python3
"""oximl inside Apache Spark (local[2]) vs Spark's and scikit-learn's own ways, one run each.

- recommend: top-10 items for every user of one ALSModel (random rank-10 factors in the shape of MovieLens-1M,
  6,040 users x 3,706 items, written once in Spark's ALSModel layout and read by both sides): Spark's
  `ALSModel.recommendForAllUsers(10)` vs `oximl.spark.recommend` over the user column (mapInArrow, the model
  broadcast once, `recommend_batch` per Arrow batch).
- predict: rows/s of `oximl.spark.predict` vs a pandas UDF calling scikit-learn's `MLPClassifier.predict_proba`,
  on the same network (32 -> 64 relu -> 64 relu -> 10 softmax, sklearn's weights set to oximl's) and the same
  DataFrame of 32 float columns.

Every Spark job ends in the `noop` sink (after a warm-up run of each side on a few rows), so each side computes every row and nothing is collected; recommend times are the best of 3 alternating runs. Needs pyspark,
pyarrow, scikit-learn, Java 17+. Run manually; not part of CI:

    python benches/compare/spark.py [--rows 200000]
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from pyspark.ml.recommendation import ALSModel  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.functions import pandas_udf  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import oximl  # noqa: E402
import oximl.spark as ospark  # noqa: E402
from oximl.layers import Dense  # noqa: E402
from oximl.models import Sequential  # noqa: E402
from oximl.recommend import ALS  # noqa: E402


def timed(job):
    start = time.perf_counter()
    job.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start


def bench_recommend(spark, folder):
    rng = np.random.default_rng(0)
    users, items, rank = 6040, 3706, 10
    path = os.path.join(folder, "als")
    ospark.write_als_model(path, [str(u) for u in range(users)], rng.normal(0, 0.5, (users, rank)),
                           [str(i) for i in range(items)], rng.normal(0, 0.5, (items, rank)))
    theirs, ours = ALSModel.load(path), ALS.load_spark(path)
    user_df = theirs.userFactors.selectExpr("id AS user").repartition(2).cache()
    user_df.count()
    # Warm-up: the JVM's code paths and the Python workers (started, oximl imported) before the timed runs.
    timed(theirs.recommendForUserSubset(user_df.limit(20), 10))
    timed(ospark.recommend(user_df.limit(20), ours, "user", k=10, exclude_seen=False))
    # Best of 3 runs of each side, alternating (one run is at the mercy of the JVM's and the workers' hiccups).
    runs = [(timed(theirs.recommendForAllUsers(10)),
             timed(ospark.recommend(user_df, ours, "user", k=10, exclude_seen=False))) for _ in range(3)]
    spark_s, oximl_s = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"recommend top-10 for all {users} users ({items} items, rank {rank}):")
    print(f"  Spark recommendForAllUsers  {spark_s:7.2f} s")
    print(f"  oximl.spark.recommend       {oximl_s:7.2f} s   ({spark_s / oximl_s:.1f}x)")


def bench_predict(spark, rows):
    rng = np.random.default_rng(1)
    net = Sequential([Dense(64, activation="relu", input_dim=32), Dense(64, activation="relu"),
                      Dense(10, activation="softmax")], seed=3)
    x = rng.normal(size=(rows, 32)).astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=1).fit(x[:200], np.arange(200) % 10)
    weights = net.get_weights()
    clf.coefs_, clf.intercepts_ = [w.astype(np.float64) for w in weights[0::2]], [b.astype(np.float64)
                                                                                 for b in weights[1::2]]
    gap = np.abs(clf.predict_proba(x[:1000]) - net.predict(x[:1000])).max()
    assert gap < 1e-5, f"not the same network: {gap}"
    cols = [f"x{j}" for j in range(32)]
    df = spark.createDataFrame(pd.DataFrame(x, columns=cols)).cache()
    df.count()

    @pandas_udf("array<double>")
    def sklearn_proba(*columns: pd.Series) -> pd.Series:
        return pd.Series(list(clf.predict_proba(np.column_stack(columns))))

    # Warm-up: the Python workers start and import both sides before the timed runs.
    timed(df.limit(2000).withColumn("prediction", sklearn_proba(*cols)))
    timed(ospark.predict(df.limit(2000), net, cols))
    sk_s = timed(df.withColumn("prediction", sklearn_proba(*cols)))
    print(f"predict {rows} rows (32 -> 64 -> 64 -> 10, local[2], {df.rdd.getNumPartitions()} partitions):")
    print(f"  pandas UDF + sklearn predict_proba  {rows / sk_s:10.0f} rows/s")
    for threads in (1, 2):
        s = timed(ospark.predict(df, net, cols, threads=threads))
        print(f"  oximl.spark.predict threads={threads}      {rows / s:10.0f} rows/s   ({sk_s / s:.1f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    print(f"oximl {oximl.__version__}, pyspark {spark.version}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        bench_recommend(spark, folder)
    bench_predict(spark, args.rows)
    spark.stop()


if __name__ == "__main__":
    main()
