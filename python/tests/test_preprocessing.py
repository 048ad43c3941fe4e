"""oximl.preprocessing against scikit-learn on its own datasets (digits, iris).

Tolerances: oximl reads float32 and computes statistics in float64, so it is compared with scikit-learn fitted on
the same float32-rounded data: statistics to 1e-12 relative, transformed values (rounded once to float32) to
1e-6 relative (plus 1e-6 absolute near zero).
"""

import json
import pickle

import numpy as np
import pytest

import oximl
from oximl.preprocessing import MinMaxScaler, Normalizer, StandardScaler, dropna, train_test_split

sklearn = pytest.importorskip("sklearn")
from sklearn import preprocessing as skp  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.model_selection import train_test_split as sk_split  # noqa: E402


def data():
    """digits and iris as float32, then back to float64 for scikit-learn (the values oximl sees)."""
    return [load_digits().data.astype(np.float32), load_iris().data.astype(np.float32)]


def close(ours, theirs):
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False)])
def test_standard_scaler_matches_scikit_learn(with_mean, with_std):
    for x in data():
        ours, theirs = StandardScaler(with_mean=with_mean, with_std=with_std), skp.StandardScaler(with_mean=with_mean, with_std=with_std)
        z = ours.fit_transform(x)
        close(z, theirs.fit_transform(x.astype(np.float64)))
        for attr in ("mean_", "var_", "scale_"):
            a, b = getattr(ours, attr), getattr(theirs, attr)
            assert (a is None) == (b is None), attr
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert ours.n_samples_seen_ == theirs.n_samples_seen_ and ours.n_features_in_ == theirs.n_features_in_
        close(ours.transform(x[:7]), theirs.transform(x[:7].astype(np.float64)))
        close(ours.inverse_transform(z), x)


def test_min_max_scaler_matches_scikit_learn():
    for x in data():
        for rng, clip in [((0, 1), False), ((-1, 3), False), ((-1, 1), True)]:
            ours, theirs = MinMaxScaler(feature_range=rng, clip=clip), skp.MinMaxScaler(feature_range=rng, clip=clip)
            close(ours.fit_transform(x), theirs.fit_transform(x.astype(np.float64)))
            for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
                np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-12, atol=1e-12)
            outside = x[:5] * 2 - 1  # partly outside the fitted range: clipped or extrapolated as scikit-learn
            close(ours.transform(outside), theirs.transform(outside.astype(np.float64)))
            close(ours.inverse_transform(ours.transform(x[:9])), x[:9])


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalizer_matches_scikit_learn(norm):
    for x in data():
        x = x - x.mean(axis=0)  # signs of both kinds
        x[0] = 0.0  # a zero row stays zero
        ours = Normalizer(norm=norm)
        close(ours.fit(x).transform(x), skp.Normalizer(norm=norm).fit_transform(x.astype(np.float64)))
        assert ours.n_features_in_ == x.shape[1]
        assert not np.any(ours.transform(x)[0])


def test_scalers_save_load_and_pickle(tmp_path):
    x = data()[1]
    for scaler in (StandardScaler(with_std=False), MinMaxScaler(feature_range=(-2, 2), clip=True)):
        want = scaler.fit_transform(x)
        path = tmp_path / "scaler.json"
        scaler.save(path)
        loaded = type(scaler).load(path)
        assert loaded.get_params() == scaler.get_params() and loaded.n_features_in_ == 4
        assert np.array_equal(loaded.transform(x), want)
        clone = pickle.loads(pickle.dumps(scaler))
        assert np.array_equal(clone.transform(x), want) and clone.get_params() == scaler.get_params()
    unfitted = pickle.loads(pickle.dumps(StandardScaler()))
    with pytest.raises(oximl.NotFittedError):
        unfitted.transform(x)
    norm = pickle.loads(pickle.dumps(Normalizer("max").fit(x)))
    assert norm.norm == "max" and norm.n_features_in_ == 4
    # A file of the other kind, or not a scaler at all, is a FormatError (an OSError).
    StandardScaler().fit(x).save(tmp_path / "standard.json")
    with pytest.raises(oximl.FormatError, match="standard_scaler"):
        MinMaxScaler.load(tmp_path / "standard.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(OSError):
        StandardScaler.load(tmp_path / "junk.json")
    with pytest.raises(oximl.OximlIOError):
        StandardScaler.load(tmp_path / "missing.json")


def test_scalers_save_atomically_and_unpickle_the_former_json_state(tmp_path):
    x = data()[1]
    scaler = StandardScaler().fit(x)
    path = tmp_path / "scaler.oximl"
    path.write_bytes(b"old")
    inode = path.stat().st_ino
    scaler.save(path)  # a new file renamed over the old one, never rewritten in place
    assert path.stat().st_ino != inode and [p.name for p in tmp_path.iterdir()] == ["scaler.oximl"]
    assert path.read_bytes()[8:9] == b"{"  # the oximl (safetensors) file format
    # Pickles of older versions hold the scaler's former JSON text.
    legacy = {"format": "oximl-scaler", "kind": "StandardScaler", "version": 1, "scaler": {
        "with_mean": True, "with_std": True, "state": {
            "mean": scaler.mean_.tolist(), "var": scaler.var_.tolist(), "scale": scaler.scale_.tolist(),
            "n_samples_seen": int(scaler.n_samples_seen_)}}}
    state = scaler.__getstate__()
    state["_core"] = json.dumps(legacy)
    old = StandardScaler.__new__(StandardScaler)
    old.__setstate__(state)
    assert np.array_equal(old.transform(x), scaler.transform(x))


def test_scalers_follow_the_scikit_learn_protocol():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    scaler = StandardScaler(with_mean=False)
    assert clone(scaler).get_params() == {"with_mean": False, "with_std": True}
    fitted = StandardScaler().fit(load_iris().data)
    assert fitted.set_params(with_std=False).with_std is False
    assert not hasattr(fitted, "n_features_in_")  # the fitted state goes with the old parameters
    with pytest.raises(oximl.NotFittedError):
        fitted.transform(load_iris().data)
    with pytest.raises(ValueError):
        scaler.set_params(colour="red")
    x, y = load_iris(return_X_y=True)
    pipe = make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    assert pipe.score(x, y) > 0.9
    assert repr(MinMaxScaler(feature_range=(-1, 1))) == "MinMaxScaler(feature_range=(-1, 1), clip=False)"


def test_scalers_refuse_bad_input():
    x = data()[1]
    with pytest.raises(oximl.NotFittedError):
        StandardScaler().transform(x)
    with pytest.raises(AttributeError):  # as scikit-learn: NotFittedError is also an AttributeError
        _ = MinMaxScaler().data_min_
    fitted = StandardScaler().fit(x)
    with pytest.raises(oximl.ShapeError):
        fitted.transform(x[:, :3])
    with pytest.raises(oximl.NonFiniteError):
        fitted.transform(np.full((1, 4), np.nan))
    with pytest.raises(oximl.NonFiniteError):
        MinMaxScaler().fit([[1.0, np.inf]])
    with pytest.raises(oximl.InvalidArgumentError):
        StandardScaler().fit(np.zeros((0, 4)))
    with pytest.raises(ValueError):
        fitted.transform(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError):
        fitted.transform([["a", "b", "c", "d"]])
    with pytest.raises(TypeError):
        fitted.transform(None)
    with pytest.raises(ValueError):
        MinMaxScaler(feature_range=(1, 1))
    with pytest.raises(ValueError):
        Normalizer("l3")
    assert fitted.transform([[5.1, 3.5, 1.4, 0.2]]).shape == (1, 4)  # lists are converted


def test_scalers_keep_pandas_frames():
    pd = pytest.importorskip("pandas")
    iris = load_iris(as_frame=True)
    df = iris.data.set_index(iris.data.index + 100)
    scaler = StandardScaler().fit(df)
    out = scaler.transform(df)
    assert isinstance(out, pd.DataFrame) and out.index.equals(df.index) and list(out.columns) == list(df.columns)
    assert list(scaler.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(out.to_numpy(), scaler.transform(df.to_numpy()))
    assert isinstance(Normalizer().fit_transform(df), pd.DataFrame)


@pytest.mark.parametrize("sizes", [dict(), dict(test_size=0.2), dict(test_size=0.33), dict(test_size=25),
                                   dict(train_size=0.7), dict(train_size=100), dict(test_size=0.4, train_size=0.6)])
def test_split_sizes_match_scikit_learn_and_partition_the_rows(sizes):
    n = 150
    ours = train_test_split(np.arange(n), random_state=0, **sizes)
    theirs = sk_split(np.arange(n), random_state=0, **sizes)
    assert [len(a) for a in ours] == [len(a) for a in theirs]
    assert sorted(np.concatenate(ours).tolist()) == list(range(n))
    assert np.array_equal(train_test_split(np.arange(n), shuffle=False, **sizes)[1],
                          sk_split(np.arange(n), shuffle=False, **sizes)[1])


def test_split_is_seeded_stratified_and_keeps_each_kind():
    x, y = load_iris(return_X_y=True)
    rows = list(range(150))
    a_train, a_test, x_train, x_test, y_train, y_test, r_train, r_test = train_test_split(
        np.arange(150), x, y, rows, test_size=0.2, random_state=3, stratify=y)
    assert np.array_equal(x_test, x[a_test]) and np.array_equal(y_train, y[a_train])
    assert isinstance(r_test, list) and r_test == a_test.tolist()
    assert np.bincount(y_test).tolist() == [10, 10, 10]  # stratified: each class keeps its share
    assert np.array_equal(train_test_split(np.arange(150), test_size=0.2, random_state=3, stratify=y)[1], a_test)
    assert not np.array_equal(train_test_split(np.arange(150), test_size=0.2, random_state=4, stratify=y)[1], a_test)
    # The core numbers the classes (by first appearance): the labels' own order does not matter.
    names = np.array(["setosa", "versicolor", "virginica"])
    for labels in (names[y], names[::-1][y], 2 - y):
        assert np.array_equal(train_test_split(np.arange(150), test_size=0.2, random_state=3, stratify=labels)[1],
                              a_test)
    # A count gives the same rows as the fraction it stands for.
    assert np.array_equal(train_test_split(np.arange(150), test_size=30, random_state=3, stratify=y)[1], a_test)
    # Stratifying on one-hot rows is stratifying on the classes.
    one_hot = np.eye(3)[y]
    assert np.array_equal(train_test_split(np.arange(150), test_size=0.2, random_state=3, stratify=one_hot)[1], a_test)
    assert len(train_test_split(x, test_size=0.2)[1]) == 30  # random_state=None draws a seed


def test_split_keeps_pandas_objects():
    pd = pytest.importorskip("pandas")
    iris = load_iris(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2, random_state=1,
                                                        stratify=iris.target)
    assert isinstance(x_test, pd.DataFrame) and isinstance(y_test, pd.Series)
    assert x_test.index.equals(y_test.index) and y_test.value_counts().tolist() == [10, 10, 10]


def test_split_refuses_bad_arguments():
    x = np.arange(10)
    with pytest.raises(ValueError):
        train_test_split()
    with pytest.raises(ValueError):
        train_test_split(x, np.arange(9))
    for bad in (dict(test_size=1.5), dict(test_size=0), dict(test_size=10), dict(test_size=0.5, train_size=0.6)):
        with pytest.raises(ValueError):
            train_test_split(x, **bad)
    with pytest.raises(ValueError):
        train_test_split(x, random_state=-1)
    with pytest.raises(ValueError):
        train_test_split(x, shuffle=False, stratify=x % 2)
    with pytest.raises(oximl.InvalidArgumentError, match="class"):  # a class of one cannot be split
        train_test_split(x, test_size=0.5, random_state=0, stratify=[0] * 9 + [1])
    with pytest.raises(ValueError):
        train_test_split(x, random_state=0, stratify=[0.0] * 9 + [np.nan])
    with pytest.raises(TypeError):
        train_test_split(None)


def test_dropna_drops_rows_with_a_nan_and_keeps_the_kind():
    x = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    y = np.array([0, 1, 2, 3])
    assert np.array_equal(dropna(x), x[1:]) and dropna(x).dtype == np.float64
    x2, y2 = dropna(x, np.array([0.0, 1.0, np.nan, 3.0]))
    assert np.array_equal(x2, x[[1, 3]]) and y2.tolist() == [1.0, 3.0]
    x3, y3 = dropna(x, y)
    assert y3.dtype == y.dtype and y3.tolist() == [1, 2, 3]
    _, y4 = dropna(x, np.array([[0, 0], [1, np.nan], [2, 2], [3, 3]]))  # 2-D targets: any cell
    assert y4.tolist() == [[2, 2], [3, 3]]
    assert dropna([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    with pytest.raises(oximl.ShapeError):
        dropna(x, y[:3])
    with pytest.raises(ValueError):
        dropna(np.zeros(3))


def test_dropna_keeps_pandas_frames():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1, 2, 3]}, index=["p", "q", "r"])
    s = pd.Series([np.nan, 1.0, 2.0], index=df.index)
    out = dropna(df)
    assert isinstance(out, pd.DataFrame) and list(out.index) == ["p", "r"] and out["b"].dtype == df["b"].dtype
    x, y = dropna(df, s)
    assert list(x.index) == ["r"] and list(y.index) == ["r"]


def test_digits_end_to_end_reaches_96_percent():
    from oximl.layers import Dense
    from oximl.models import Sequential

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(digits.data, digits.target, test_size=0.2, random_state=42,
                                                        stratify=digits.target)
    scaler = StandardScaler()
    x_train, x_test = scaler.fit_transform(x_train), scaler.transform(x_test)
    model = Sequential([Dense(128, activation="relu", input_dim=64), Dense(64, activation="relu"),
                        Dense(10, activation="softmax")], seed=42)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test)
    assert accuracy >= 0.96
    # scikit-learn's own accuracy_score on our predictions agrees with evaluate().
    from sklearn.metrics import accuracy_score

    assert accuracy_score(y_test, model.predict(x_test).argmax(axis=1)) == pytest.approx(accuracy, abs=1e-9)
