"""scikit-learn estimators on oximl's core: ``MLPClassifier`` and ``MLPRegressor`` with scikit-learn's parameter
names and meaning, and the scalers ``StandardScaler``/``MinMaxScaler`` as scikit-learn transformers. They pass
scikit-learn's ``check_estimator`` and work in ``Pipeline``, ``GridSearchCV(n_jobs=...)``, ``cross_val_score`` and
``clone`` (fitted estimators pickle).

Training is the core's Keras-style ``fit``: scikit-learn's settings map onto it as follows.

- ``alpha`` (L2 on the weights, not the biases, scaled by the batch size as scikit-learn does) is a kernel
  regularizer ``alpha / (2 * batch_size)``;
- ``solver="adam"``/``"sgd"`` with ``learning_rate_init``, ``beta_1``, ``beta_2``, ``epsilon``, ``momentum``,
  ``nesterovs_momentum``; only ``learning_rate="constant"`` (scikit-learn's default) is supported;
- ``max_iter`` epochs, stopped earlier when the training loss has not improved by ``tol`` for
  ``n_iter_no_change`` epochs, or with ``early_stopping`` when the score on a ``validation_fraction`` held out
  (stratified for classifiers) has not improved by ``tol``; the best weights are then restored, as scikit-learn;
- classifiers end in one logistic unit (two classes) or a softmax (more), trained with log-loss; regressors in
  identity units trained with half the squared error, as scikit-learn.

>>> from sklearn.datasets import load_iris
>>> X, y = load_iris(return_X_y=True)
>>> MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y).score(X, y) > 0.9
True
"""

import numbers

import numpy as np
from sklearn.base import (  # type: ignore[import-untyped,unused-ignore]
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped,unused-ignore]
from sklearn.utils import check_random_state  # type: ignore[import-untyped,unused-ignore]
from sklearn.utils.multiclass import (  # type: ignore[import-untyped,unused-ignore]
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import (  # type: ignore[import-untyped,unused-ignore]
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from oximl import callbacks, layers, models, optimizers, preprocessing, regularizers

__all__ = ["MLPClassifier", "MLPRegressor", "MinMaxScaler", "StandardScaler"]

_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


class _BaseMLP(BaseEstimator):
    """What both networks share: scikit-learn's parameters, their check, the network and its training."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    def _check_params(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        if self.solver not in ("adam", "sgd"):
            raise ValueError(f"solver must be 'adam' or 'sgd' (oximl has no 'lbfgs'), got {self.solver!r}")
        if self.learning_rate != "constant":
            raise ValueError(f"learning_rate must be 'constant' (the one schedule supported), got {self.learning_rate!r}")
        if not (isinstance(self.max_iter, numbers.Integral) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        if self.alpha < 0 or self.learning_rate_init <= 0 or self.tol < 0:
            raise ValueError("alpha and tol must be >= 0 and learning_rate_init > 0")
        if self.batch_size != "auto" and not (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}")
        return [int(s) for s in sizes]

    def _optimizer(self):
        if self.solver == "adam":
            return optimizers.Adam(learning_rate=self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2,
                                   epsilon=self.epsilon)
        return optimizers.SGD(learning_rate=self.learning_rate_init, momentum=self.momentum,
                              nesterov=bool(self.nesterovs_momentum) and self.momentum > 0)

    def _train(self, X, y, outputs, out_activation, loss, metric, stratify=None):
        """Builds and trains the network on float32 ``X`` and encoded targets ``y`` (2-D)."""
        sizes = self._check_params()
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        l2 = regularizers.L2(self.alpha / (2.0 * batch)) if self.alpha > 0 else None
        act = _ACTIVATIONS[self.activation]
        stack = [layers.Dense(size, activation=act, kernel_regularizer=l2) for size in sizes]
        stack.append(layers.Dense(outputs, activation=out_activation, kernel_regularizer=l2))
        stack[0].input_dim = X.shape[1]
        model = models.Sequential(stack, seed=seed)
        model.compile(optimizer=self._optimizer(), loss=loss, metrics=[metric] if metric else None)
        validation = None
        if self.early_stopping:
            X, Xv, y, yv = train_test_split(X, y, test_size=self.validation_fraction, random_state=seed,
                                            stratify=stratify)
            validation = (Xv, yv)
            stop = callbacks.EarlyStopping(monitor=f"val_{metric}" if metric else "val_loss", min_delta=self.tol,
                                           patience=self.n_iter_no_change, restore_best_weights=True)
        else:
            stop = callbacks.EarlyStopping(monitor="loss", min_delta=self.tol, patience=self.n_iter_no_change)
        history = model.fit(X, y, batch_size=batch, epochs=int(self.max_iter), shuffle=bool(self.shuffle),
                            validation_data=validation, callbacks=[stop], verbose=2 if self.verbose else 0,
                            seed=seed)
        self.model_ = model
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = len(history.epoch)
        self.loss_curve_ = history.history["loss"]
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_)
        self.n_layers_ = len(sizes) + 2
        self.n_outputs_ = outputs
        if self.early_stopping:
            self.validation_scores_ = history.history[f"val_{metric}" if metric else "val_loss"]
            self.best_validation_score_ = max(self.validation_scores_) if metric else min(self.validation_scores_)
        return self

    @property
    def coefs_(self):
        """The weight matrices, one per layer (``n_in × n_out``)."""
        check_is_fitted(self, "model_")
        return self.model_.get_weights()[0::2]

    @property
    def intercepts_(self):
        """The bias vectors, one per layer."""
        check_is_fitted(self, "model_")
        return self.model_.get_weights()[1::2]

    def _forward(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float32, np.float64), order="C")
        return self.model_.predict(np.asarray(X, dtype=np.float32))


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's ``MLPClassifier`` parameters (see the module)."""

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=(np.float32, np.float64), order="C")
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(f"MLPClassifier takes binary or multiclass targets, got {type_of_target(y)}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})")
        codes = np.searchsorted(self.classes_, y).astype(np.float32).reshape(-1, 1)
        binary = len(self.classes_) == 2
        self.out_activation_ = "logistic" if binary else "softmax"
        return self._train(np.asarray(X, dtype=np.float32), codes, 1 if binary else len(self.classes_),
                           "sigmoid" if binary else "softmax",
                           "binary_crossentropy" if binary else "sparse_categorical_crossentropy", "accuracy",
                           stratify=codes[:, 0])

    def predict_proba(self, X):
        """Class probabilities, one column per class of ``classes_``."""
        p = self._forward(X)
        return np.hstack([1.0 - p, p]) if p.shape[1] == 1 else p

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's ``MLPRegressor`` parameters (see the module)."""

    def fit(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=(np.float32, np.float64), order="C")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self._y_1d = y.ndim == 1
        target = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        self.out_activation_ = "identity"
        return self._train(np.asarray(X, dtype=np.float32), target, target.shape[1], "linear", "half_squared_error",
                           None)

    def predict(self, X):
        out = self._forward(X)
        return out.ravel() if self._y_1d else out


class _Scaler(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer around one of ``oximl.preprocessing``'s scalers (the core's). The core computes
    in float32: float32 is the dtype kept (scikit-learn's ``preserves_dtype`` tag)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _make(self):
        raise NotImplementedError

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        self.scaler_ = self._make().fit(np.asarray(X, dtype=np.float32))
        return self

    def transform(self, X):
        check_is_fitted(self, "scaler_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.scaler_.transform(np.asarray(X, dtype=np.float32))

    def inverse_transform(self, X):
        check_is_fitted(self, "scaler_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.scaler_.inverse_transform(np.asarray(X, dtype=np.float32))


class StandardScaler(_Scaler):
    """``oximl.preprocessing.StandardScaler`` as a scikit-learn transformer."""

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def _make(self):
        return preprocessing.StandardScaler(with_mean=self.with_mean, with_std=self.with_std)


class MinMaxScaler(_Scaler):
    """``oximl.preprocessing.MinMaxScaler`` as a scikit-learn transformer."""

    def __init__(self, feature_range=(0, 1), *, clip=False):
        self.feature_range = feature_range
        self.clip = clip

    def _make(self):
        return preprocessing.MinMaxScaler(feature_range=self.feature_range, clip=self.clip)
