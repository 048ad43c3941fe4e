"""Recommenders by matrix factorization, with the verbs of Surprise and implicit.

>>> from oximl.recommend import Ratings, FunkSVD, train_test_split, rmse
>>> data = Ratings([("alice", "x", 5), ("alice", "y", 1), ("bob", "x", 4), ("bob", "z", 2)])
>>> model = FunkSVD(n_factors=4, n_epochs=50, lr_all=0.02).fit(data)
>>> model.recommend("bob", k=1)  # doctest: +SKIP
[('y', 1.7...)]

Ids are strings or integers; an integer id is stored as its decimal text (``5`` and ``"5"`` are the same id) and
results give ids as strings. An unknown user or item is an ``InvalidArgumentError`` (a ``ValueError``), except in
``predict``, which gives the cold-start prediction (global mean plus the known side's bias) as the Rust API does.

Hyper-parameter names (and the Rust field each sets):

- ``FunkSVD`` as Surprise's ``SVD``: ``n_factors`` (factors), ``n_epochs`` (epochs), ``lr_all`` (learning_rate),
  ``reg_all`` (reg_factors, and reg_bias unless ``reg_bias`` is given), ``init_std_dev`` (init_std), ``biased``,
  ``random_state`` (seed), plus ``blocks`` (LIBMF-style stratification; results depend on it, never on the
  thread count). Surprise's per-parameter ``lr_bu``/``lr_pu``/``reg_pu``/... and ``init_mean`` have no equivalent.
- ``ALS`` (explicit, weighted-lambda, as Spark MLlib) and ``ImplicitALS`` as implicit's ``AlternatingLeastSquares``:
  ``factors``, ``iterations``, ``regularization``, ``alpha`` (confidence ``1 + alpha * r``), ``cg_steps``,
  ``random_state`` (seed), ``init_std`` and, for ``ALS``, ``biased``.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar, Iterable, Sequence, Tuple, Union

import numpy as np

from oximl import _config, _oximl
from oximl.errors import FormatError, InvalidArgumentError, NotFittedError

__all__ = ["Ratings", "FunkSVD", "ALS", "ImplicitALS", "FoldedUser", "train_test_split", "leave_last_k", "rmse",
           "mae", "precision_at_k", "recall_at_k", "average_precision_at_k", "map_at_k", "ndcg_at_k", "coverage",
           "ranking_metrics"]

Id = Union[str, int]
FoldedUser = _oximl.FoldedUser
PathLike = Union[str, "os.PathLike[str]"]

def _id(x: Any, what: str) -> str:
    """An id as the core stores it: strings as they are, integers as their decimal text."""
    if isinstance(x, str):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return str(int(x))
    raise TypeError(f"{what} ids must be str or int, got {type(x).__name__}")


def _options(scale: tuple[float, float] | None, duplicates: str | None) -> dict[str, Any]:
    """The given ``RatingsOptions`` fields (the core fills in the others)."""
    given = {"scale": None if scale is None else [scale[0], scale[1]], "duplicates": duplicates}
    return {key: value for key, value in given.items() if value is not None}


def _ids(xs: Iterable[Any], what: str) -> list[str]:
    if isinstance(xs, np.ndarray) and xs.dtype.kind in "iu":
        return [str(v) for v in xs.tolist()]
    if isinstance(xs, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of ids, got a single {type(xs).__name__}")
    return [_id(x, what) for x in xs]


class Ratings:
    """(user, item, rating[, timestamp]) triplets with their id maps.

    ``Ratings(rows)`` takes any iterable of ``(user, item, rating)`` or ``(user, item, rating, timestamp)`` tuples;
    ``Ratings.from_arrays`` takes columns; ``Ratings.load`` reads a file. ``scale=(min, max)`` refuses ratings
    outside it and clips predictions to it (default: the observed range); ``duplicates`` is ``"last_wins"`` (the
    default, alias ``"last"``: the last rating of a pair wins) or ``"mean"``.
    """

    def __init__(self, rows: Iterable[Sequence[Any]] = (), *, scale: tuple[float, float] | None = None,
                 duplicates: str | None = None) -> None:
        rows = [tuple(r) for r in rows]
        widths = {len(r) for r in rows}
        if not widths <= {3} and not widths <= {4}:
            raise ValueError("each row must be (user, item, rating) or (user, item, rating, timestamp), all alike")
        cols = list(zip(*rows)) if rows else [(), (), ()]
        stamps = cols[3] if len(cols) == 4 else None
        self._core: Any = Ratings.from_arrays(cols[0], cols[1], cols[2], stamps, scale=scale,
                                              duplicates=duplicates)._core

    @classmethod
    def from_arrays(cls, users: Iterable[Id], items: Iterable[Id], ratings: Any, timestamps: Any = None, *,
                    scale: tuple[float, float] | None = None, duplicates: str | None = None) -> Ratings:
        """Ratings from columns (lists or numpy arrays) of equal length."""
        values = np.ascontiguousarray(ratings, dtype=np.float32)
        if values.ndim != 1:
            raise ValueError(f"ratings must be 1-D, got shape {values.shape}")
        stamps = None
        if timestamps is not None:
            stamps = np.asarray(timestamps)
            if stamps.ndim != 1 or stamps.dtype.kind not in "iu":
                raise ValueError("timestamps must be a 1-D sequence of integers")
            stamps = np.ascontiguousarray(stamps, dtype=np.int64)
        return cls._wrap(_oximl.Ratings.from_columns(_ids(users, "user"), _ids(items, "item"), values, stamps,
                                                     _config.dumps("options", _options(scale, duplicates))))

    @classmethod
    def load(cls, path: PathLike, layout: str | None = None, *, sep: str | None = None,
             header: bool | None = None, columns: tuple[int, int, int, int | None] | None = None,
             scale: tuple[float, float] | None = None, duplicates: str | None = None,
             skip_invalid: bool | None = None) -> Ratings:
        """Reads a delimited file. ``layout`` is a preset of the core: "csv" (the default: comma-separated with a
        header), "tsv", "movielens_100k" (alias "ml-100k") for ``u.data``, "movielens_1m" ("ml-1m") for
        ``ratings.dat``, "movielens_csv" ("ml-latest") for ``ratings.csv``; ``sep``, ``header``, ``columns``
        (0-based user, item, rating, timestamp or None) and ``scale`` override it. With a one-character ``sep``
        quoted fields are read as CSV (``"Heat, 1995"`` is one field). A malformed line raises ``FormatError``
        (an ``OSError``) naming it, unless ``skip_invalid`` (see ``skipped``). Ctrl-C stops the reading."""
        given = {"preset": layout, "separator": sep, "header": header, "skip_invalid": skip_invalid,
                 "columns": None if columns is None else list(columns), "ratings": _options(scale, duplicates)}
        options = {key: value for key, value in given.items() if value is not None and value != {}}
        return cls._wrap(_oximl.Ratings.read_csv(os.fspath(path), _config.dumps("options", options)))

    @classmethod
    def _wrap(cls, core: Any) -> Ratings:
        r = cls.__new__(cls)
        r._core = core
        return r

    def __len__(self) -> int:
        return len(self._core)

    def __iter__(self) -> Any:
        users, items = self._core.user_ids, self._core.item_ids
        for u, i, r in zip(self._core.user_indices.tolist(), self._core.item_indices.tolist(),
                           self._core.values.tolist()):
            yield users[u], items[i], r

    def __repr__(self) -> str:
        return f"Ratings({len(self)} ratings, {self.n_users} users, {self.n_items} items)"

    @property
    def n_users(self) -> int:
        return self._core.n_users

    @property
    def n_items(self) -> int:
        return self._core.n_items

    @property
    def scale(self) -> tuple[float, float]:
        return self._core.scale

    @property
    def global_mean(self) -> float:
        return self._core.mean

    @property
    def skipped(self) -> int:
        """Lines skipped by ``load(..., skip_invalid=True)``."""
        return self._core.skipped

    @property
    def user_ids(self) -> list[str]:
        """User ids by dense index (shared by the parts of a split)."""
        return self._core.user_ids

    @property
    def item_ids(self) -> list[str]:
        return self._core.item_ids

    @property
    def user_indices(self) -> np.ndarray:
        """Dense user index of each rating (uint32)."""
        return self._core.user_indices

    @property
    def item_indices(self) -> np.ndarray:
        return self._core.item_indices

    @property
    def ratings(self) -> np.ndarray:
        """The rating values (float32)."""
        return self._core.values

    @property
    def timestamps(self) -> np.ndarray | None:
        return self._core.timestamps

    def __getstate__(self) -> dict[str, Any]:
        return {"users": [self.user_ids[u] for u in self.user_indices.tolist()],
                "items": [self.item_ids[i] for i in self.item_indices.tolist()],
                "ratings": self.ratings, "timestamps": self.timestamps, "scale": self.scale}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._core = Ratings.from_arrays(state["users"], state["items"], state["ratings"], state["timestamps"],
                                         scale=state["scale"])._core


def train_test_split(ratings: Ratings, test_size: float = 0.2, random_state: int = 0,
                     per_user: bool = False) -> tuple[Ratings, Ratings]:
    """A seeded (train, test) split, as Surprise's ``train_test_split``: ``test_size`` of all ratings at random,
    or of each user's ratings with ``per_user=True`` (each user keeps at least one in training). Both parts share
    the id maps of ``ratings``."""
    split = {"method": "per_user_fraction" if per_user else "random", "test_fraction": test_size,
             "seed": random_state}
    train, test = ratings._core.split(_config.dumps("split", split))
    return Ratings._wrap(train), Ratings._wrap(test)


def leave_last_k(ratings: Ratings, k: int = 1) -> tuple[Ratings, Ratings]:
    """Each user's ``k`` latest ratings (by timestamp; needed) go to the test part; users with ``k`` or fewer
    ratings stay in training."""
    train, test = ratings._core.split(_config.dumps("split", {"method": "leave_last_k", "k": k}))
    return Ratings._wrap(train), Ratings._wrap(test)


def _ratings(data: Ratings | Iterable[Sequence[Any]]) -> Ratings:
    return data if isinstance(data, Ratings) else Ratings(data)


class _Recommender:
    """What every recommender shares; subclasses name their algorithm and map their hyper-parameters."""

    _algorithm: ClassVar[str]
    #: (Python name, Rust field) of each hyper-parameter.
    _fields: ClassVar[Tuple[Tuple[str, str], ...]]

    _core: Any = None

    def _config(self) -> dict[str, Any]:
        return {"algorithm": self._algorithm, **{rust: getattr(self, name) for name, rust in self._fields}}

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> _Recommender:
        return cls(**{name: config[rust] for name, rust in cls._fields})

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters, as passed to the constructor."""
        return {name: getattr(self, name) for name, _ in self._fields}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def fit(self, ratings: Ratings | Iterable[Sequence[Any]]) -> _Recommender:
        """Trains on ``ratings`` (a ``Ratings`` or rows for one); returns ``self``. Ctrl-C stops the training
        (``KeyboardInterrupt``, the model left as it was)."""
        self._core = _oximl.MfModel.fit(_ratings(ratings)._core, _config.dumps("algorithm", self._config()))
        return self

    def _fitted(self) -> Any:
        if self._core is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(ratings) first")
        return self._core

    def predict(self, user: Any, item: Any) -> Any:
        """The predicted rating (clipped to the scale) or implicit score of ``(user, item)``; arrays or lists of
        users and items give a float32 array. Unknown ids get the cold-start prediction."""
        core = self._fitted()
        if isinstance(user, (str, int, np.integer)) and isinstance(item, (str, int, np.integer)):
            return core.predict(_id(user, "user"), _id(item, "item"))
        return core.predict_many(_ids(user, "user"), _ids(item, "item"))

    def recommend(self, user: Id | FoldedUser, k: int = 10, exclude_seen: bool = True) -> list[tuple[str, float]]:
        """The ``k`` best items for ``user`` (an id, or a ``FoldedUser`` from ``fold_in``) as (item, score), best
        first; ``exclude_seen`` leaves out the items the user rated in training."""
        core = self._fitted()
        if isinstance(user, FoldedUser):
            return core.recommend_folded(user, int(k), bool(exclude_seen))
        return core.recommend(_id(user, "user"), int(k), bool(exclude_seen))

    def recommend_batch(self, users: Iterable[Id], k: int = 10,
                        exclude_seen: bool = True) -> list[list[tuple[str, float]]]:
        """``recommend`` for many users at once, in parallel with the GIL released."""
        return self._fitted().recommend_batch(_ids(users, "user"), int(k), bool(exclude_seen))

    def similar_items(self, item: Id, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` items whose factors have the highest cosine with ``item``'s (itself excluded)."""
        return self._fitted().similar_items(_id(item, "item"), int(k))

    def fold_in(self, ratings: Iterable[tuple[Id, float]] | dict[Id, float]) -> FoldedUser:
        """A new user's factors from their (item, rating) pairs, without retraining (one least-squares solve);
        pass the result to ``recommend``. Unknown items are ignored."""
        pairs = ratings.items() if isinstance(ratings, dict) else ratings
        return self._fitted().fold_in([(_id(i, "item"), float(r)) for i, r in pairs])

    @property
    def user_factors(self) -> np.ndarray:
        """Users × factors (float32), rows in ``user_ids`` order."""
        return self._fitted().user_factors

    @property
    def item_factors(self) -> np.ndarray:
        return self._fitted().item_factors

    @property
    def user_biases(self) -> np.ndarray:
        """b_u (zeros for unbiased and implicit models)."""
        return self._fitted().user_biases

    @property
    def item_biases(self) -> np.ndarray:
        return self._fitted().item_biases

    @property
    def global_mean(self) -> float:
        """mu (0 for unbiased and implicit models): predict = mu + b_u + b_i + p_u . q_i, clipped to the scale."""
        return self._fitted().mean

    @property
    def scale(self) -> tuple[float, float]:
        return self._fitted().scale

    @property
    def user_ids(self) -> list[str]:
        return self._fitted().user_ids

    @property
    def item_ids(self) -> list[str]:
        return self._fitted().item_ids

    @property
    def history(self) -> list[float]:
        """Per epoch: the training RMSE (FunkSVD) or the objective (ALS); empty for ImplicitALS."""
        return self._fitted().history

    def save(self, path: PathLike) -> None:
        """Saves the model with its id maps (oximl format, kind "mf"; loadable from Rust and C)."""
        self._fitted().save(os.fspath(path))

    @classmethod
    def load(cls, path: PathLike) -> _Recommender:
        """Loads a saved model as the class of its algorithm (``FormatError`` if it is not a ``cls``)."""
        return cls._adopt(_oximl.MfModel.load(os.fspath(path)))

    @classmethod
    def _adopt(cls, core: Any) -> _Recommender:
        config = json.loads(core.algorithm_json)
        kind = _CLASSES.get(config.get("algorithm"))
        if kind is None or not issubclass(kind, cls):
            raise FormatError(f"the file holds a {config.get('algorithm')} model, not a {cls.__name__}")
        model = kind._from_config(config)
        model._core = core
        return model

    def __getstate__(self) -> dict[str, Any]:
        return {"params": self.get_params(), "bytes": None if self._core is None else self._core.to_bytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["params"])  # type: ignore[misc]
        if state["bytes"] is not None:
            self._core = _oximl.MfModel.from_bytes(state["bytes"])


class FunkSVD(_Recommender):
    """Biased MF by SGD, Surprise's ``SVD`` (same update rule and defaults): ŷ = μ + b_u + b_i + p_u·q_i."""

    _algorithm = "funk_svd"
    _fields = (("n_factors", "factors"), ("n_epochs", "epochs"), ("lr_all", "learning_rate"),
               ("reg_all", "reg_factors"), ("reg_bias", "reg_bias"), ("init_std_dev", "init_std"),
               ("biased", "biased"), ("random_state", "seed"), ("blocks", "blocks"))

    def __init__(self, n_factors: int = 100, n_epochs: int = 20, lr_all: float = 0.005, reg_all: float = 0.02,
                 reg_bias: float | None = None, init_std_dev: float = 0.1, biased: bool = True,
                 random_state: int = 0, blocks: int = 8) -> None:
        self.n_factors, self.n_epochs, self.lr_all, self.reg_all = n_factors, n_epochs, lr_all, reg_all
        self.reg_bias, self.init_std_dev, self.biased = reg_bias, init_std_dev, biased
        self.random_state, self.blocks = random_state, blocks

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        if self.reg_bias is None:
            config["reg_bias"] = self.reg_all
        return config


class _SparkALS(_Recommender):
    """Spark MLlib ``ALSModel`` files in and out (oximl.spark reads and writes them with pyarrow)."""

    #: Hyper-parameters of a model read from Spark, whose files keep none (Spark's defaults).
    _spark_defaults: ClassVar[dict[str, Any]]

    @classmethod
    def load_spark(cls, path: PathLike, **params: Any) -> Any:
        """Reads a directory written by Spark's ``ALSModel.save``: a model without biases, ``factors`` = Spark's
        rank, ids the decimal text of Spark's integer ids, nothing marked as seen. Spark's file keeps no training
        hyper-parameter: ``params`` set those ``fold_in`` uses (default: Spark's ``regParam`` 0.1, ``alpha`` 1)."""
        from oximl import spark

        users, p, items, q = spark.read_als_model(path)
        model = cls(**{**cls._spark_defaults, **params, "factors": p.shape[1]})
        model._core = _oximl.MfModel.from_factors(_config.dumps("algorithm", model._config()), users, items, p, q)
        return model

    def save_spark(self, path: PathLike) -> None:
        """Writes the factors as Spark's ``ALSModel.save`` does, for ``ALSModel.load(path)``. Ids must be 32-bit
        integers (Spark's) and the model unbiased (Spark's has no biases): otherwise ``InvalidArgumentError``."""
        from oximl import spark

        core = self._fitted()
        if json.loads(core.algorithm_json).get("biased"):
            raise InvalidArgumentError("Spark's ALSModel has no biases: train ALS(biased=False) to export it")
        spark.write_als_model(path, core.user_ids, core.user_factors, core.item_ids, core.item_factors)


class ALS(_SparkALS):
    """Explicit ALS with weighted-λ regularization (Spark MLlib's), optionally with biases."""

    _spark_defaults: ClassVar[dict[str, Any]] = {"biased": False, "regularization": 0.1}

    _algorithm = "als"
    _fields = (("factors", "factors"), ("iterations", "iterations"), ("regularization", "regularization"),
               ("biased", "biased"), ("init_std", "init_std"), ("random_state", "seed"))

    def __init__(self, factors: int = 10, iterations: int = 10, regularization: float = 0.05, biased: bool = True,
                 init_std: float = 0.1, random_state: int = 0) -> None:
        self.factors, self.iterations, self.regularization = factors, iterations, regularization
        self.biased, self.init_std, self.random_state = biased, init_std, random_state


class ImplicitALS(_SparkALS):
    """Implicit-feedback ALS (Hu, Koren, Volinsky; conjugate gradient), implicit's ``AlternatingLeastSquares``:
    every rating r is an observed pair with confidence 1 + alpha·r."""

    _spark_defaults: ClassVar[dict[str, Any]] = {"regularization": 0.1, "alpha": 1.0}

    _algorithm = "implicit_als"
    _fields = (("factors", "factors"), ("iterations", "iterations"), ("regularization", "regularization"),
               ("alpha", "alpha"), ("cg_steps", "cg_steps"), ("init_std", "init_std"), ("random_state", "seed"))

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.01, alpha: float = 1.0,
                 cg_steps: int = 3, init_std: float = 0.01, random_state: int = 0) -> None:
        self.factors, self.iterations, self.regularization = factors, iterations, regularization
        self.alpha, self.cg_steps, self.init_std, self.random_state = alpha, cg_steps, init_std, random_state


_CLASSES: dict[str, type[_Recommender]] = {c._algorithm: c for c in (FunkSVD, ALS, ImplicitALS)}


def rmse(model: _Recommender, test: Ratings) -> float:
    """Root mean squared error of ``model``'s predictions on ``test`` (cold start for unknown ids)."""
    return model._fitted().rmse(test._core)


def mae(model: _Recommender, test: Ratings) -> float:
    """Mean absolute error of ``model``'s predictions on ``test``."""
    return model._fitted().mae(test._core)


def _coded(recommended: Iterable[Any], relevant: Iterable[Any]) -> tuple[list[int], list[int]]:
    """Both lists as integer codes (equal items, equal codes) for the core's metrics."""
    codes: dict[Any, int] = {}
    rec = [codes.setdefault(x, len(codes)) for x in recommended]
    return rec, [codes.setdefault(x, len(codes)) for x in relevant]


def _metric(name: str, recommended: Iterable[Any], relevant: Iterable[Any], k: int) -> float:
    items = [x[0] if isinstance(x, tuple) else x for x in recommended]  # accepts recommend()'s (item, score)
    rec, rel = _coded(items, relevant)
    return _oximl.rank_metric(name, rec, rel, int(k))


def precision_at_k(recommended: Iterable[Any], relevant: Iterable[Any], k: int) -> float:
    """Relevant items among the first ``k`` recommended, divided by ``k``. ``recommended`` may be item ids or
    ``recommend``'s (item, score) pairs; ``relevant`` any collection of item ids."""
    return _metric("precision", recommended, relevant, k)


def recall_at_k(recommended: Iterable[Any], relevant: Iterable[Any], k: int) -> float:
    """Relevant items among the first ``k`` recommended, divided by the number relevant (0 if none)."""
    return _metric("recall", recommended, relevant, k)


def average_precision_at_k(recommended: Iterable[Any], relevant: Iterable[Any], k: int) -> float:
    """Mean of precision@j over the hit positions j ≤ k, divided by min(k, number relevant)."""
    return _metric("average_precision", recommended, relevant, k)


def map_at_k(recommended: Sequence[Iterable[Any]], relevant: Sequence[Iterable[Any]], k: int) -> float:
    """Mean of ``average_precision_at_k`` over users (one list and one relevant set per user)."""
    if len(recommended) != len(relevant) or not recommended:
        raise ValueError("map_at_k needs one relevant set per recommended list, and at least one list")
    return sum(average_precision_at_k(r, s, k) for r, s in zip(recommended, relevant)) / len(recommended)


def ndcg_at_k(recommended: Iterable[Any], relevant: Iterable[Any], k: int) -> float:
    """Normalized discounted cumulative gain at ``k`` with binary relevance."""
    return _metric("ndcg", recommended, relevant, k)


def coverage(recommended: Iterable[Iterable[Any]], n_items: int) -> float:
    """Distinct items over all the recommended lists, divided by ``n_items``."""
    codes: dict[Any, int] = {}
    lists = [[codes.setdefault(x[0] if isinstance(x, tuple) else x, len(codes)) for x in r] for r in recommended]
    return _oximl.coverage(lists, int(n_items))


def ranking_metrics(model: _Recommender, test: Ratings, k: int = 10,
                    threshold: float | None = None) -> dict[str, float]:
    """precision, recall, map, ndcg (means over users) and coverage of ``model``'s top-``k`` (training items
    excluded) against each test user's items rated ≥ ``threshold`` (all of them by default); ``users`` = how many
    users were evaluated."""
    return model._fitted().ranking(test._core, int(k), float("-inf") if threshold is None else float(threshold))
