"""oximl inside Apache Spark: scoring over DataFrames, and Spark MLlib ``ALSModel`` files in and out.

Scoring (pyspark is imported here only when one of these is called):

- ``predict(df, model, input_cols)``: a ``Sequential``'s predictions as a new column;
- ``embed(df, vectors, text_col)``: ``KeyedVectors.embed`` of a text column as a vector column;
- ``recommend(df, model, user_col, k)``: a recommender's top-``k`` items of each user.

Each runs as one ``mapInArrow`` stage: the model is broadcast once (Spark sends it to each executor once), loaded
once per Python worker (a cache keyed by the broadcast) and called on whole Arrow batches with the GIL released
and ``threads`` threads (default: the cores of an executor). Results are those of the same call on the local
model, bit for bit, for a given thread count.

>>> from oximl.spark import predict  # doctest: +SKIP
>>> scored = predict(df, model, ["x0", "x1", "x2"], threads=2)  # doctest: +SKIP

Spark MLlib's ``ALSModel`` directory (``metadata/`` JSON and the ``userFactors``/``itemFactors`` parquet tables
of ``id: int, features: array<float>``) is read and written with pyarrow by ``read_als_model`` and
``write_als_model``, behind ``oximl.recommend.ALS.load_spark`` / ``save_spark`` (and ``ImplicitALS``'s).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from typing import Any, Iterator, Sequence, Union

import numpy as np

import oximl
from oximl.errors import FormatError

__all__ = ["predict", "embed", "recommend", "read_als_model", "write_als_model"]

PathLike = Union[str, "os.PathLike[str]"]

ALS_MODEL_CLASS = "org.apache.spark.ml.recommendation.ALSModel"
#: The format version written in ``metadata`` (the ALSModel layout is the same from Spark 2.4 to 4).
SPARK_FORMAT_VERSION = "3.5.0"


def _pyarrow() -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped,import-not-found]
        import pyarrow.compute  # type: ignore[import-untyped,import-not-found]  # noqa: F401 (loads the submodule)
        import pyarrow.parquet  # type: ignore[import-untyped,import-not-found]  # noqa: F401
    except ImportError as e:
        raise ImportError("Spark ALSModel files need pyarrow: pip install pyarrow") from e
    return pyarrow


# --- Spark MLlib ALSModel files -------------------------------------------------------------------------------


def read_als_model(path: PathLike) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Reads a directory written by ``pyspark.ml.recommendation.ALSModel.save``: (user ids, user factors, item
    ids, item factors), ids as decimal text, factors float32 (rows × rank). A missing or foreign part is a
    ``FormatError`` naming it."""
    pa = _pyarrow()
    root = os.fspath(path)
    rank = _read_metadata(root)
    users, p = _read_factors(pa, os.path.join(root, "userFactors"), rank)
    items, q = _read_factors(pa, os.path.join(root, "itemFactors"), rank)
    return users, p, items, q


def _read_metadata(root: str) -> int:
    folder = os.path.join(root, "metadata")
    parts = sorted(f for f in os.listdir(folder) if f.startswith("part-")) if os.path.isdir(folder) else []
    if not parts:
        raise FormatError(f"{root} is not a Spark model directory: no {folder}/part-* file")
    with open(os.path.join(folder, parts[0]), encoding="utf-8") as f:
        try:
            meta = json.loads(f.readline())
        except ValueError as e:
            raise FormatError(f"{folder}/{parts[0]}: not JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("class") != ALS_MODEL_CLASS:
        found = meta.get("class") if isinstance(meta, dict) else type(meta).__name__
        raise FormatError(f"{root} holds a {found}, not a {ALS_MODEL_CLASS}")
    rank = meta.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise FormatError(f"{folder}: rank must be a positive integer, got {rank!r}")
    return rank


def _read_factors(pa: Any, folder: str, rank: int) -> tuple[list[str], np.ndarray]:
    if not os.path.isdir(folder):
        raise FormatError(f"missing factor table {folder}")
    try:
        table = pa.parquet.read_table(folder, columns=["id", "features"])
    except (pa.ArrowException, KeyError) as e:
        raise FormatError(f"{folder}: not a parquet table of id, features ({e})") from e
    ids, features = table.column("id").combine_chunks(), table.column("features").combine_chunks()
    if not pa.types.is_integer(ids.type) or not pa.types.is_list(features.type) or ids.null_count \
            or features.null_count:
        raise FormatError(f"{folder}: expected id: int and features: array<float> without nulls, got "
                          f"{table.schema}")
    lengths = pa.compute.list_value_length(features).to_numpy(zero_copy_only=False)
    if np.any(lengths != rank):
        raise FormatError(f"{folder}: every features array must have rank = {rank} values")
    values = features.flatten().cast(pa.float32()).to_numpy(zero_copy_only=False)
    return [str(v) for v in ids.to_pylist()], np.ascontiguousarray(values.reshape(len(ids), rank))


def write_als_model(path: PathLike, users: Sequence[str], user_factors: np.ndarray, items: Sequence[str],
                    item_factors: np.ndarray) -> None:
    """Writes factors in the layout of ``ALSModel.save`` so that ``ALSModel.load(path)`` reads them (columns
    ``user``, ``item``, ``prediction``, cold start ``nan``, as Spark's defaults). Ids must be the decimal text of
    32-bit integers (Spark's ids are ``int``): anything else is an ``InvalidArgumentError`` naming the id. The
    directory must not exist (``FileExistsError``), as with Spark's ``save``."""
    pa = _pyarrow()
    tables = {"userFactors": (_int_ids(users, "user"), user_factors),
              "itemFactors": (_int_ids(items, "item"), item_factors)}
    rank = int(np.shape(item_factors)[1])
    root = os.fspath(path)
    os.makedirs(root)
    uid = f"ALS_{uuid.uuid4().hex[:12]}"
    metadata = {"class": ALS_MODEL_CLASS, "timestamp": int(time.time() * 1000), "sparkVersion": SPARK_FORMAT_VERSION,
                "uid": uid, "paramMap": {},
                "defaultParamMap": {"userCol": "user", "itemCol": "item", "predictionCol": "prediction",
                                    "coldStartStrategy": "nan", "blockSize": 4096},
                "rank": rank}
    _write_part(os.path.join(root, "metadata"), "part-00000", json.dumps(metadata, separators=(",", ":")) + "\n")
    schema = pa.schema([pa.field("id", pa.int32(), nullable=False),
                        pa.field("features", pa.list_(pa.field("element", pa.float32(), nullable=False)))])
    for name, (ids, factors) in tables.items():
        f = np.ascontiguousarray(factors, dtype=np.float32)
        offsets = pa.array(np.arange(0, f.size + 1, rank, dtype=np.int32))
        features = pa.ListArray.from_arrays(offsets, pa.array(f.reshape(-1)), type=schema.field("features").type)
        table = pa.table([pa.array(ids, pa.int32()), features], schema=schema)
        _write_part(os.path.join(root, name), None, None)
        pa.parquet.write_table(table, os.path.join(root, name, "part-00000.snappy.parquet"), compression="snappy")


def _write_part(folder: str, name: str | None, text: str | None) -> None:
    """A Spark output folder: ``name`` holding ``text`` (if given) and the ``_SUCCESS`` marker."""
    os.makedirs(folder, exist_ok=True)
    if name is not None and text is not None:
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
    open(os.path.join(folder, "_SUCCESS"), "w").close()


_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def _int_ids(ids: Sequence[str], what: str) -> np.ndarray:
    for i in ids:
        if not _INT.fullmatch(i) or not -(2**31) <= int(i) < 2**31:
            raise oximl.InvalidArgumentError(
                f"{what} id {i!r} is not a 32-bit integer: Spark's ALSModel has int ids (map the ids to integers "
                f"before training to exchange the model with Spark)")
    return np.array([int(i) for i in ids], dtype=np.int32)


# --- Scoring over DataFrames ----------------------------------------------------------------------------------

#: Models loaded in this Python worker, by shipment: each is loaded once, not once per batch or task.
_LOADED: dict[str, Any] = {}


class _Shipped:
    """A model broadcast to the executors (Spark sends it once to each), loaded once per Python worker by
    ``get``, which also sets the worker's thread count (default: the cores of an executor)."""

    def __init__(self, df: Any, model: Any, threads: int | None) -> None:
        spark = df.sparkSession
        sc = spark.sparkContext
        if threads is None:
            cores = spark.conf.get("spark.executor.cores", None)
            local = re.fullmatch(r"local\[(\d+)(,\d+)?\]", sc.master)
            threads = int(cores) if cores else int(local.group(1)) if local else os.cpu_count() or 1
        if threads < 1:
            raise oximl.InvalidArgumentError(f"threads must be >= 1, got {threads}")
        self.broadcast, self.key, self.threads = sc.broadcast(model), uuid.uuid4().hex, threads

    def get(self) -> Any:
        model = _LOADED.get(self.key)
        if model is None:
            oximl.set_num_threads(self.threads)
            model = _LOADED[self.key] = self.broadcast.value
        return model


def _schema(df: Any, column: str, dtype: Any) -> Any:
    from pyspark.sql import types as T

    if column in df.columns:
        raise oximl.InvalidArgumentError(f"the DataFrame already has a column {column!r}")
    return T.StructType(df.schema.fields + [T.StructField(column, dtype)])


def _column(pa: Any, matrix: np.ndarray) -> Any:
    """A float32 matrix as an Arrow list<float> column (one list per row), without copying the values."""
    n, d = matrix.shape
    offsets = pa.array(np.arange(0, n * d + 1, d, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(matrix).reshape(-1)))


def predict(df: Any, model: Any, input_cols: str | Sequence[str], output_col: str = "prediction", *,
            threads: int | None = None) -> Any:
    """``df`` with a column ``output_col`` of ``model.predict`` (a ``Sequential`` or the path of a saved one):
    a float column for a one-output network, ``array<float>`` otherwise. ``input_cols`` is a list of numeric
    columns (in the network's input order) or the name of one ``array`` column. Null inputs are an error."""
    from pyspark.sql import types as T

    net = oximl.models.load_model(model) if isinstance(model, (str, os.PathLike)) else model
    outputs = int(net.predict(np.zeros((1, net._built().input_dim), np.float32)).shape[1])
    array_input = isinstance(input_cols, str)
    cols = [input_cols] if isinstance(input_cols, str) else list(input_cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise oximl.InvalidArgumentError(f"no column {missing} in the DataFrame")
    schema = _schema(df, output_col, T.FloatType() if outputs == 1 else T.ArrayType(T.FloatType()))
    shipped = _Shipped(df, net, threads)

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        pa = _pyarrow()
        local = shipped.get()
        for batch in batches:
            x = _features(pa, batch, cols, array_input)
            y = local.predict(x)
            column = pa.array(y[:, 0]) if outputs == 1 else _column(pa, y)
            yield pa.RecordBatch.from_arrays(batch.columns + [column], names=batch.schema.names + [output_col])

    return df.mapInArrow(score, schema)


def _features(pa: Any, batch: Any, cols: list[str], array_input: bool) -> np.ndarray:
    if array_input:
        column = batch.column(cols[0])
        if column.null_count:
            raise oximl.InvalidArgumentError(f"column {cols[0]!r} has nulls")
        lengths = pa.compute.list_value_length(column).to_numpy(zero_copy_only=False)
        width = int(lengths[0]) if len(lengths) else 0
        if np.any(lengths != width):
            raise oximl.ShapeError(f"the arrays of column {cols[0]!r} have different lengths")
        values = column.flatten().cast(pa.float32()).to_numpy(zero_copy_only=False)
        return values.reshape(len(column), width)
    x = np.empty((batch.num_rows, len(cols)), np.float32)
    for j, c in enumerate(cols):
        column = batch.column(c)
        if column.null_count:
            raise oximl.InvalidArgumentError(f"column {c!r} has nulls")
        x[:, j] = column.cast(pa.float32()).to_numpy(zero_copy_only=False)
    return x


def embed(df: Any, vectors: Any, text_col: str, output_col: str = "vector", *, threads: int | None = None,
          **options: Any) -> Any:
    """``df`` with an ``array<float>`` column ``output_col`` of ``vectors.embed`` (a ``KeyedVectors`` or the path
    of a file ``KeyedVectors.load`` reads) of the strings of ``text_col``; ``options`` are ``embed``'s keywords
    (``oov``, ``lowercase``, ``weights``...). A null text is embedded as the empty text."""
    from pyspark.sql import types as T

    kv = oximl.embeddings.KeyedVectors.load(vectors) if isinstance(vectors, (str, os.PathLike)) else vectors
    if text_col not in df.columns:
        raise oximl.InvalidArgumentError(f"no column {text_col!r} in the DataFrame")
    kv.embed([""], **options)  # bad options fail here, on the driver
    schema = _schema(df, output_col, T.ArrayType(T.FloatType()))
    shipped = _Shipped(df, kv, threads)

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        pa = _pyarrow()
        local = shipped.get()
        for batch in batches:
            texts = ["" if t is None else t for t in batch.column(text_col).to_pylist()]
            column = _column(pa, local.embed(texts, **options))
            yield pa.RecordBatch.from_arrays(batch.columns + [column], names=batch.schema.names + [output_col])

    return df.mapInArrow(score, schema)


def recommend(df: Any, model: Any, user_col: str, k: int = 10, output_col: str = "recommendations", *,
              exclude_seen: bool = True, threads: int | None = None) -> Any:
    """``df`` with a column ``output_col`` of each user's top-``k`` as ``array<struct<item: string, score:
    float>>``, best first, as ``model.recommend_batch`` gives them (a recommender of ``oximl.recommend`` or the
    path of a saved one; users by id, integer or string columns). An unknown or null user gets null."""
    from pyspark.sql import types as T

    from oximl import recommend as rec

    mf = rec._Recommender.load(model) if isinstance(model, (str, os.PathLike)) else model
    mf._fitted()
    if user_col not in df.columns:
        raise oximl.InvalidArgumentError(f"no column {user_col!r} in the DataFrame")
    entry = T.StructType([T.StructField("item", T.StringType()), T.StructField("score", T.FloatType())])
    schema = _schema(df, output_col, T.ArrayType(entry))
    shipped = _Shipped(df, mf, threads)

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        pa = _pyarrow()
        local = shipped.get()
        known = frozenset(local.user_ids)
        kind = pa.list_(pa.struct([("item", pa.string()), ("score", pa.float32())]))
        for batch in batches:
            users = [None if u is None else str(u) for u in batch.column(user_col).to_pylist()]
            rows = [u for u in users if u in known]
            tops = iter(local.recommend_batch(rows, k, exclude_seen) if rows else [])
            lists = [[{"item": i, "score": s} for i, s in next(tops)] if u in known else None for u in users]
            column = pa.array(lists, type=kind)
            yield pa.RecordBatch.from_arrays(batch.columns + [column], names=batch.schema.names + [output_col])

    return df.mapInArrow(score, schema)
