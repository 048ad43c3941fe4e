"""Models in Keras spelling: ``Sequential`` and ``load_model``.

Arrays: C-contiguous float32 numpy arrays are passed to the Rust core without a copy; anything else (lists,
float64, strided views, pandas frames) is converted once with ``np.ascontiguousarray(x, dtype=np.float32)``.
Every heavy call releases the GIL, so Python threads can predict in parallel.
"""

import json

import numpy as np

from oximl import _config, _oximl, callbacks as _callbacks, layers as _layers, losses as _losses, optimizers as _optimizers
from oximl.errors import ShapeError

__all__ = ["Sequential", "History", "load_model"]


def _matrix(a, name):
    """A 2-D C-contiguous float32 array (zero-copy when it already is one); 1-D targets become a column."""
    if a is None:
        raise TypeError(f"{name} must be an array, got None")
    arr = np.ascontiguousarray(a, dtype=np.float32)
    if arr.ndim == 1 and name.startswith("y"):
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ShapeError(f"shape mismatch: expected {name} as a 2-D array (samples x features), got shape {arr.shape}")
    return arr


def _vector(a, name):
    """A 1-D C-contiguous float32 array (one value per sample); a column is flattened."""
    arr = np.ascontiguousarray(a, dtype=np.float32)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ShapeError(f"shape mismatch: expected {name} as a 1-D array (one value per sample), got shape {arr.shape}")
    return arr


class History:
    """What ``fit`` returns: ``history.history`` maps each loss/metric name to its per-epoch values."""

    def __init__(self, epochs, params):
        self.epoch = list(range(len(epochs)))
        self.history = {}
        for logs in epochs:
            for k, v in logs.items():
                self.history.setdefault(k, []).append(v)
        self.params = params

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class _Driver:
    """Called by the core around each epoch: runs the Python callbacks (and a learning-rate schedule). The core
    copies the weights to Python only when ``needs_weights`` (a Python callback might read them); values the
    callbacks add to ``logs`` go back into the history, as in Keras."""

    def __init__(self, model, callbacks, scheduler):
        self.model, self.callbacks, self.scheduler = model, callbacks, scheduler
        self.needs_weights = bool(callbacks)

    def on_epoch_begin(self, epoch, lr):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch)
        return None if self.scheduler is None else float(np.float32(self.scheduler._next_rate(epoch, lr)))

    def on_epoch_end(self, epoch, logs, weights):
        self.model._weights_during_fit = weights
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)
        return self.model.stop_training


class Sequential:
    """A stack of layers, trained and used as in Keras.

    >>> from oximl.layers import Dense
    >>> model = Sequential([Dense(8, activation="relu", input_dim=4), Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    """

    def __init__(self, layers=None, seed=0, name="sequential"):
        self._core = None
        self._layers = []
        self._pending_input = None
        self._weights_during_fit = None
        self.seed, self.name = int(seed), name
        self.stop_training = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, _layers.Input):
            if self._core is not None or self._pending_input is not None:
                raise ValueError("Input must be the first layer")
            self._pending_input = layer.input_dim
            return
        if not isinstance(layer, (_layers.Dense, _layers.Dropout)):
            raise TypeError(f"oximl models take Dense and Dropout layers, got {type(layer).__name__}")
        if self._core is None:
            input_dim = layer.input_dim if layer.input_dim is not None else self._pending_input
            if input_dim is None:
                raise ValueError("the first layer needs input_dim= or input_shape= (or start with Input((n,)))")
            self._core = _oximl.Sequential(input_dim, self.seed)
        self._core.add(_config.dumps("layer", layer._config()))
        self._layers.append(layer)

    @property
    def layers(self):
        return list(self._layers)

    def _built(self):
        if self._core is None:
            raise ValueError("the model has no layers yet")
        return self._core

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None):
        if loss is None:
            raise ValueError("compile needs a loss")
        names = {}
        for arg, given in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            names[arg] = [] if given is None else list(given)
            if not all(isinstance(m, str) for m in names[arg]):
                raise ValueError(f"{arg} must be names, got {given!r}")
        config = {"optimizer": _optimizers.get(optimizer)._config(), "loss": _losses.get(loss)._config(),
                  "metrics": [m.lower() for m in names["metrics"]],
                  "weighted_metrics": [m.lower() for m in names["weighted_metrics"]]}
        self._built().compile(_config.dumps("compile", config))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0, seed=None):
        """Trains as Keras' ``fit``: ``sample_weight`` (one weight per sample) or ``class_weight`` ({class: weight})
        multiply each sample's loss (the sum divided by the batch size, Keras' ``sum_over_batch_size``) and count in
        the ``weighted_metrics``; ``verbose`` "auto" (a progress bar on a terminal), 0, 1 (the bar) or 2 (a line per
        epoch); ``validation_data`` is ``(x, y)`` or ``(x, y, sample_weight)``."""
        core = self._built()
        x, y = _matrix(x, "x"), _matrix(y, "y")
        val = val_weight = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight)")
            val = (_matrix(validation_data[0], "x_val"), _matrix(validation_data[1], "y_val"))
            if len(validation_data) == 3 and validation_data[2] is not None:
                val_weight = _vector(validation_data[2], "val_sample_weight")
        cbs = list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, _callbacks.Callback):
                raise TypeError(f"callbacks must be oximl.callbacks.Callback instances, got {type(cb).__name__}")
        config = {"epochs": int(epochs), "initial_epoch": int(initial_epoch), "shuffle": bool(shuffle),
                  "seed": int(self.seed if seed is None else seed), "validation_split": float(validation_split),
                  "verbose": verbose if verbose == "auto" else int(verbose)}
        if batch_size is not None:
            config["batch_size"] = int(batch_size)
        if class_weight is not None:
            config["class_weight"] = {int(k): float(v) for k, v in dict(class_weight).items()}
        core_cbs = [cb for cb in cbs if isinstance(cb, _callbacks._CoreCallback)]
        for cb in core_cbs:
            if cb._key in config:
                raise ValueError(f"fit takes at most one {type(cb).__name__}")
            config[cb._key] = cb._config()
        schedulers = [cb for cb in cbs if isinstance(cb, _callbacks.LearningRateScheduler)]
        if len(schedulers) > 1:
            raise ValueError("fit takes at most one LearningRateScheduler")
        python_cbs = [cb for cb in cbs if not isinstance(cb, _callbacks._CoreCallback)]
        for cb in python_cbs:
            cb.set_model(self)
            cb.on_train_begin()
        self.stop_training = False
        driver = _Driver(self, python_cbs, schedulers[0] if schedulers else None)
        weight = None if sample_weight is None else _vector(sample_weight, "sample_weight")
        try:
            per_epoch, stopped = core.fit(x, y, _config.dumps("fit", config), val, driver, weight, val_weight)
        finally:
            self._weights_during_fit = None
        for es in (cb for cb in core_cbs if isinstance(cb, _callbacks.EarlyStopping)):
            es.stopped_epoch = 0 if stopped is None or self.stop_training else stopped
        for cb in python_cbs:
            cb.on_train_end()
        history = History(per_epoch, {"epochs": int(epochs), "batch_size": config.get("batch_size"), "verbose": verbose})
        history.epoch = [int(initial_epoch) + i for i in history.epoch]
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False):
        weight = None if sample_weight is None else _vector(sample_weight, "sample_weight")
        pairs = self._built().evaluate(_matrix(x, "x"), _matrix(y, "y"), weight)
        if return_dict:
            return dict(pairs)
        values = [v for _, v in pairs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0):
        return self._built().predict(_matrix(x, "x"))

    def predict_proba(self, x):
        return self._built().predict_proba(_matrix(x, "x"))

    def __call__(self, x):
        return self.predict(x)

    def summary(self, print_fn=None):
        (print_fn or print)(self._built().summary())

    def get_weights(self):
        if self._weights_during_fit is not None:  # inside a callback: the core model is busy training
            return [w.copy() for w in self._weights_during_fit]
        return self._built().get_weights()

    def set_weights(self, weights):
        self._built().set_weights([np.ascontiguousarray(w, dtype=np.float32) for w in weights])

    def count_params(self):
        return sum(w.size for w in self.get_weights())

    def save(self, filepath):
        self._built().save(str(filepath))

    def quantize(self, mode, **config):
        """Quantizes the model in place, as Keras 3 does: ``model.quantize("int8")`` (see ``oximl.compression``)."""
        from oximl import compression

        compression.quantize(self, mode, **config)

    def export(self, filepath, format="onnx"):
        """Exports the model for other runtimes, as Keras 3 does; ``format="onnx"`` (the one format) writes an
        ONNX file (opset 17, input ``input`` with a dynamic batch dimension, output ``output``)."""
        if format != "onnx":
            raise ValueError(f"format must be 'onnx', got {format!r}")
        self._built().export_onnx(str(filepath))

    def __getstate__(self):
        return {"bytes": None if self._core is None else self._core.to_bytes(), "seed": self.seed, "name": self.name}

    def __setstate__(self, state):
        self.__init__(seed=state["seed"], name=state["name"])
        if state["bytes"] is not None:
            self._adopt(_oximl.Sequential.from_bytes(state["bytes"]))

    def _adopt(self, core):
        self._core = core
        self._layers = [_layers._from_config(c) for c in json.loads(core.layers_json)]
        if self._layers:
            self._layers[0].input_dim = core.input_dim


def load_model(filepath):
    """Loads a model saved by ``Sequential.save`` (from Python, Rust or C), an ONNX file of an MLP, or a Keras
    ``.keras``/``.h5`` file (recognized by content; its compile config comes along)."""
    model = Sequential()
    model._adopt(_oximl.Sequential.load(str(filepath)))
    return model
