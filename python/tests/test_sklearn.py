"""oximl.sklearn against scikit-learn itself: its estimator checks, Pipeline/GridSearchCV(n_jobs=2)/pickling, and
the digits accuracy of MLPClassifier beside scikit-learn's with the same settings."""

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from oximl import sklearn as osk

ESTIMATORS = [osk.MLPClassifier(), osk.MLPRegressor(), osk.StandardScaler(), osk.MinMaxScaler()]


def expected_failures(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_grid_search_two_processes_and_pickling():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.base import clone

    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", osk.StandardScaler()), ("mlp", osk.MLPClassifier(max_iter=300, learning_rate_init=0.01, random_state=0))])
    grid = GridSearchCV(pipe, {"mlp__hidden_layer_sizes": [(8,), (32,)], "mlp__alpha": [1e-4, 1e-2]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.9 and len(grid.cv_results_["params"]) == 4
    fitted = pickle.loads(pickle.dumps(grid.best_estimator_))
    np.testing.assert_array_equal(fitted.predict(X), grid.best_estimator_.predict(X))
    np.testing.assert_array_equal(clone(pipe).fit(X, y).predict(X), clone(pipe).fit(X, y).predict(X))  # seeded
    folds = KFold(3, shuffle=True, random_state=0)
    regressor = osk.MLPRegressor(max_iter=300, learning_rate_init=0.01, random_state=0)
    assert cross_val_score(regressor, X[:, :3], X[:, 3], cv=folds).mean() > 0.8


def test_scalers_equal_sklearns():
    from sklearn import preprocessing as skp

    X = np.random.default_rng(0).normal(3, 2, (50, 4))
    for ours, theirs in [(osk.StandardScaler(), skp.StandardScaler()), (osk.MinMaxScaler((-1, 2)), skp.MinMaxScaler((-1, 2)))]:
        np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), atol=1e-5)
        np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, rtol=1e-5)


def test_early_stopping_and_parameters_mean_what_sklearns_do():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    m = osk.MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3, max_iter=200,
                          random_state=0).fit(X, y)
    assert m.n_iter_ < 200 and len(m.validation_scores_) == m.n_iter_
    assert m.best_validation_score_ == max(m.validation_scores_)
    assert [c.shape for c in m.coefs_] == [(64, 32), (32, 10)] and m.n_layers_ == 3 and m.out_activation_ == "softmax"
    sgd = osk.MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=0.1, max_iter=30,
                            random_state=0).fit(X, y)
    assert sgd.score(X, y) > 0.9 and len(sgd.loss_curve_) == sgd.n_iter_
    with pytest.raises(ValueError, match="lbfgs"):
        osk.MLPClassifier(solver="lbfgs").fit(X, y)
    # alpha is an L2 penalty: a large one shrinks the weights.
    big = osk.MLPClassifier(hidden_layer_sizes=(32,), alpha=10.0, max_iter=20, random_state=0).fit(X, y)
    small = osk.MLPClassifier(hidden_layer_sizes=(32,), alpha=0.0, max_iter=20, random_state=0).fit(X, y)
    assert np.abs(big.coefs_[0]).sum() < 0.5 * np.abs(small.coefs_[0]).sum()


def test_digits_accuracy_within_one_point_of_sklearn():
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benches", "compare"))
    import sklearn_mlp

    r = sklearn_mlp.compare(seeds=(0, 1, 2), repeats=1)
    print(r)
    assert r["oximl_accuracy"] >= r["sklearn_accuracy"] - 0.01, r
    assert abs(r["oximl_accuracy"] - r["sklearn_accuracy"]) <= 0.01, r
