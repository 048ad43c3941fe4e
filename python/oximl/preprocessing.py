"""Data preparation in scikit-learn spelling: ``StandardScaler``, ``MinMaxScaler``, ``Normalizer``,
``train_test_split`` and ``dropna``, computed by the Rust core (the same numbers as from Rust and C).

Inputs are numpy arrays, lists or, when pandas is installed, DataFrames and Series. Scalers compute in float32
(statistics in float64) like every oximl model: a C-contiguous float32 array is used without a copy, anything
else is converted once. A scaler given a DataFrame returns a DataFrame with the same index and columns;
``train_test_split`` and ``dropna`` select rows of what they are given, keeping its type and dtype.
"""

from __future__ import annotations

import math
import os
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

from oximl import _oximl
from oximl.errors import NotFittedError, ShapeError
from oximl.models import _matrix

__all__ = ["StandardScaler", "MinMaxScaler", "Normalizer", "train_test_split", "dropna"]

_Self = TypeVar("_Self", bound="_Transformer")
_Scaler = TypeVar("_Scaler", bound="_FittedScaler")
_PathLike = Union[str, "os.PathLike[str]"]


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.partition(".")[0] == "pandas"


def _num_rows(obj: Any) -> int:
    shape = getattr(obj, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise ValueError("expected an array with rows, got a scalar")
        return int(shape[0])
    if obj is None or not hasattr(obj, "__len__"):
        raise TypeError(f"expected an array-like with rows, got {type(obj).__name__}")
    return len(obj)


def _take(obj: Any, rows: npt.NDArray[Any]) -> Any:
    """The given rows of `obj`, of the same kind: a DataFrame/Series (by position), an array or a list."""
    if _is_pandas(obj):
        return obj.iloc[rows]
    if isinstance(obj, np.ndarray):
        return obj[rows]
    if isinstance(obj, (list, tuple)):
        return [obj[i] for i in rows]
    return np.asarray(obj)[rows]


class _Transformer:
    """What the three scalers share: scikit-learn's parameter protocol, pandas in and out, pickling."""

    _PARAMS: ClassVar[Tuple[str, ...]] = ()
    _core: Any

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor arguments (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self: _Self, **params: Any) -> _Self:
        """Changes constructor arguments (scikit-learn's ``set_params``); a fitted state is dropped."""
        unknown = set(params) - set(self._PARAMS)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; expected among {list(self._PARAMS)}")
        merged = {**self.get_params(), **params}
        self.__dict__.clear()
        self.__init__(**merged)  # type: ignore[misc]
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _seen(self, x: Any, n_features: int) -> None:
        """Records scikit-learn's ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame)."""
        self.n_features_in_: int = int(n_features)
        if _is_pandas(x) and hasattr(x, "columns"):
            self.feature_names_in_: npt.NDArray[Any] = np.asarray(x.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @staticmethod
    def _like(x: Any, out: npt.NDArray[np.float32]) -> Any:
        """`out` as a DataFrame with the index and columns of `x` if `x` is one, else as is."""
        if _is_pandas(x) and hasattr(x, "columns"):
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]

            return pd.DataFrame(out, index=x.index, columns=x.columns)
        return out

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X)`` then ``transform(X)`` in one pass."""
        out = self._core.fit_transform(_matrix(X, "X"))
        self._seen(X, out.shape[1])
        return self._like(X, out)

    def __getstate__(self) -> Dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k != "_core"}
        state["_core"] = self._core.to_bytes() if hasattr(self._core, "to_bytes") else None
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        core = state.pop("_core")
        self.__dict__.update(state)
        self.__init__(**self.get_params())  # type: ignore[misc]
        self.__dict__.update(state)
        if core is not None:  # bytes; older versions pickled JSON text, which from_bytes also reads
            self._core = type(self._core).from_bytes(core.encode() if isinstance(core, str) else core)


class _FittedScaler(_Transformer):
    """A column scaler with learned statistics: ``fit``, ``transform``, ``inverse_transform``, ``save``/``load``."""

    _CORE: ClassVar[Any]

    def fit(self: _Self, X: Any, y: Any = None) -> _Self:
        """Learns the per-column statistics of ``X`` (rows = samples)."""
        self._core.fit(_matrix(X, "X"))
        self._seen(X, self._core.n_features)
        return self

    def _fitted(self) -> Any:
        if self._core.n_features is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")
        return self._core

    def transform(self, X: Any) -> Any:
        """Scales ``X`` with the fitted statistics (float32 out; a DataFrame for a DataFrame)."""
        return self._like(X, self._fitted().transform(_matrix(X, "X")))

    def inverse_transform(self, X: Any) -> Any:
        """Undoes ``transform``."""
        return self._like(X, self._fitted().inverse_transform(_matrix(X, "X")))

    def save(self, path: _PathLike) -> None:
        """Writes the scaler as an oximl file, atomically (readable by Rust's ``load``)."""
        self._core.save(os.fspath(path))

    @classmethod
    def load(cls: "type[_Scaler]", path: _PathLike) -> _Scaler:
        """Reads a scaler saved by ``save`` (from Python or Rust; also the JSON files of older versions)."""
        core = cls._CORE.load(os.fspath(path))
        scaler = cls(**cls._params_of(core))  # type: ignore[attr-defined]
        scaler._core = core
        if core.n_features is not None:
            scaler.n_features_in_ = core.n_features
        return scaler


class StandardScaler(_FittedScaler):
    """Standardizes each column: ``(x - mean_) / scale_`` (population standard deviation; a constant column
    gets scale 1), as scikit-learn's ``StandardScaler``.

    >>> import numpy as np
    >>> StandardScaler().fit_transform(np.array([[1.0], [3.0]])).ravel().tolist()
    [-1.0, 1.0]
    """

    _PARAMS = ("with_mean", "with_std")
    _CORE = _oximl.StandardScaler

    def __init__(self, *, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)
        self._core = self._CORE(self.with_mean, self.with_std)

    @staticmethod
    def _params_of(core: _oximl.StandardScaler) -> Dict[str, Any]:
        return {"with_mean": core.with_mean, "with_std": core.with_std}

    @property
    def mean_(self) -> Optional[npt.NDArray[np.float64]]:
        """The per-column means (None when neither centering nor scaling, as scikit-learn)."""
        return self._fitted().mean if self.with_mean or self.with_std else None

    @property
    def var_(self) -> Optional[npt.NDArray[np.float64]]:
        """The per-column population variances (None with ``with_std=False``)."""
        return self._fitted().var if self.with_std else None

    @property
    def scale_(self) -> Optional[npt.NDArray[np.float64]]:
        """The per-column divisors (None with ``with_std=False``)."""
        return self._fitted().scale if self.with_std else None

    @property
    def n_samples_seen_(self) -> int:
        return int(self._fitted().n_samples_seen)


class MinMaxScaler(_FittedScaler):
    """Scales each column onto ``feature_range``: ``x * scale_ + min_``, as scikit-learn's ``MinMaxScaler``.

    >>> import numpy as np
    >>> MinMaxScaler(feature_range=(-1, 1)).fit_transform(np.array([[0.0], [2.0], [4.0]])).ravel().tolist()
    [-1.0, 0.0, 1.0]
    """

    _PARAMS = ("feature_range", "clip")
    _CORE = _oximl.MinMaxScaler

    def __init__(self, feature_range: Tuple[float, float] = (0, 1), *, clip: bool = False) -> None:
        if len(feature_range) != 2:
            raise ValueError(f"feature_range must be (min, max), got {feature_range!r}")
        self.feature_range, self.clip = tuple(feature_range), bool(clip)
        self._core = self._CORE(float(feature_range[0]), float(feature_range[1]), self.clip)

    @staticmethod
    def _params_of(core: _oximl.MinMaxScaler) -> Dict[str, Any]:
        return {"feature_range": core.feature_range, "clip": core.clip}

    @property
    def data_min_(self) -> npt.NDArray[np.float64]:
        return self._fitted().data_min

    @property
    def data_max_(self) -> npt.NDArray[np.float64]:
        return self._fitted().data_max

    @property
    def data_range_(self) -> npt.NDArray[np.float64]:
        return self.data_max_ - self.data_min_

    @property
    def scale_(self) -> npt.NDArray[np.float64]:
        return self._fitted().scale

    @property
    def min_(self) -> npt.NDArray[np.float64]:
        return self._fitted().min


class Normalizer(_Transformer):
    """Scales each row to unit norm (``'l2'``, ``'l1'`` or ``'max'``), as scikit-learn's ``Normalizer``; a zero
    row stays zero. Stateless: ``fit`` only records the column count.

    >>> Normalizer().transform([[3.0, 4.0]]).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """

    _PARAMS = ("norm",)

    def __init__(self, norm: str = "l2") -> None:
        self.norm = norm
        self._core = _oximl.Normalizer(norm)

    def fit(self, X: Any, y: Any = None) -> "Normalizer":
        """Records the column count of ``X``; nothing is learned."""
        self._seen(X, _matrix(X, "X").shape[1])
        return self

    def transform(self, X: Any) -> Any:
        """Divides each row by its norm (float32 out; a DataFrame for a DataFrame)."""
        return self._like(X, self._core.transform(_matrix(X, "X")))

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        out = self.transform(X)
        self._seen(X, out.shape[1])
        return out


def _test_count(n: int, test_size: Optional[float], train_size: Optional[float]) -> int:
    """scikit-learn's sizes: a float is a fraction (test rounded up, train down), an int a count."""

    def count(size: float, name: str, round_up: bool) -> int:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            if not 0 < size < n:
                raise ValueError(f"{name}={size} must be between 1 and {n - 1} for {n} samples")
            return int(size)
        if not 0.0 < float(size) < 1.0:
            raise ValueError(f"{name}={size} must be a fraction strictly between 0 and 1, or a count")
        return math.ceil(float(size) * n) if round_up else math.floor(float(size) * n)

    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = count(test_size, "test_size", True) if test_size is not None else None
    n_train = count(train_size, "train_size", False) if train_size is not None else None  # type: ignore[arg-type]
    if n_test is None:
        n_test = n - n_train  # type: ignore[operator]
    elif n_train is not None and n_train + n_test != n:
        raise ValueError(f"train_size and test_size give {n_train} + {n_test} samples, not the {n} given")
    if n_test <= 0 or n_test >= n:
        raise ValueError(f"the split leaves {n - n_test} training and {n_test} test samples out of {n}")
    return n_test


def _label_codes(stratify: Any, n: int) -> npt.NDArray[np.uintp]:
    """One integer code per row, equal labels (values or rows) equal codes; the core numbers the groups."""
    labels = stratify.to_numpy() if _is_pandas(stratify) else np.asarray(stratify)
    if labels.ndim == 0 or labels.shape[0] != n:
        raise ShapeError(f"shape mismatch: expected stratify with {n} rows, got shape {labels.shape}")
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        raise ValueError("cannot stratify on NaN or infinite labels")
    _, codes = np.unique(labels, return_inverse=True, axis=0 if labels.ndim > 1 else None)
    return np.ascontiguousarray(np.asarray(codes).ravel(), dtype=np.uintp)


def train_test_split(
    *arrays: Any,
    test_size: Optional[float] = None,
    train_size: Optional[float] = None,
    random_state: Optional[int] = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> List[Any]:
    """Splits each array's rows into train and test, as scikit-learn's ``train_test_split``:
    returns ``[a_train, a_test, b_train, b_test, ...]``.

    The split is the Rust core's: the same ``random_state`` (an int ≥ 0) and ``test_size`` give the same rows as
    ``oximl::data::train_test_split`` in Rust (with ``stratify=y`` for its ``stratify: true``). ``random_state=None``
    draws a seed. Sizes follow scikit-learn (a fraction or a count; 0.25 by default). ``shuffle=False`` takes the
    first rows for training. With ``stratify``, each class (distinct value or row) keeps its proportion.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = _num_rows(arrays[0])
    for a in arrays[1:]:
        if _num_rows(a) != n:
            raise ShapeError(f"shape mismatch: arrays of {n} and {_num_rows(a)} rows")
    n_test = _test_count(n, test_size, train_size)
    train: npt.NDArray[Any]
    test: npt.NDArray[Any]
    if not shuffle:
        if stratify is not None:
            raise ValueError("stratify needs shuffle=True")
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    else:
        if random_state is None:
            seed = int(np.random.default_rng().integers(0, 2**63))
        elif isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and random_state >= 0:
            seed = int(random_state)
        else:
            raise ValueError(f"random_state must be None or an int >= 0, got {random_state!r}")
        strata = None if stratify is None else _label_codes(stratify, n)
        train, test = _oximl.split_indices(n, n_test, seed, strata)
    out: List[Any] = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def dropna(x: Any, y: Any = None) -> Any:
    """Drops the rows with a NaN in ``x`` (or in ``y``), as pandas' ``dropna``: returns ``x`` (or ``(x, y)``)
    without them, each of the kind and dtype it was given.

    >>> import numpy as np
    >>> dropna(np.array([[1.0, np.nan], [2.0, 3.0]])).tolist()
    [[2.0, 3.0]]
    """
    xm = _matrix(x, "x")
    n = xm.shape[0]
    yv: Optional[npt.NDArray[np.float32]] = None
    if y is not None:
        ym = np.ascontiguousarray(y.to_numpy() if _is_pandas(y) else y, dtype=np.float32)
        if ym.ndim == 2 and ym.shape[1] == 1:
            ym = ym.ravel()
        if ym.ndim == 1:
            yv = ym
        elif ym.ndim == 2 and ym.shape[0] == n:
            xm = np.hstack([xm, ym])
        else:
            raise ShapeError(f"shape mismatch: expected y with {n} rows, got shape {ym.shape}")
    removed = _oximl.missing_rows(xm, yv)
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    rows = np.flatnonzero(keep)
    return _take(x, rows) if y is None else (_take(x, rows), _take(y, rows))
