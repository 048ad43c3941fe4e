"""Layers in Keras spelling: ``Input``, ``Dense``, ``Dropout``."""

from oximl import _config, _oximl
from oximl.regularizers import Regularizer, get as _get_regularizer

__all__ = ["Input", "Dense", "Dropout"]


def _input_dim(input_dim, input_shape):
    if input_dim is not None and input_shape is not None:
        raise ValueError("give input_dim or input_shape, not both")
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) != 1:
            raise ValueError(f"oximl's dense layers take flat inputs: input_shape must be (features,), got {shape}")
        return int(shape[0])
    return None if input_dim is None else int(input_dim)


class Input:
    """The input of a model: ``Sequential([Input((64,)), Dense(10)])``."""

    def __init__(self, shape=None, input_dim=None):
        self.input_dim = _input_dim(input_dim, shape)
        if self.input_dim is None:
            raise ValueError("Input needs a shape, e.g. Input((64,))")


class Dense:
    """A fully connected layer: ``activation(x @ W + b)``."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, bias_regularizer=None, input_dim=None, input_shape=None, name=None):
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        # Names, their parameters' defaults and the check of both are the core's (`_oximl.check_layer` below).
        act = {"name": "linear" if activation is None else activation} if not isinstance(activation, dict) else activation
        if not isinstance(act["name"], str):
            raise TypeError(f"activation must be a name or a dict, got {type(activation).__name__}")
        self.units = units
        self.activation = act
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = _get_regularizer(kernel_regularizer)
        self.bias_regularizer = _get_regularizer(bias_regularizer)
        self.input_dim = _input_dim(input_dim, input_shape)
        self.name = name
        _oximl.check_layer(_config.dumps("layer", self._config()))

    def _config(self):
        reg = lambda r: None if r is None else {"l1": r.l1, "l2": r.l2}  # noqa: E731
        return {"type": "dense", "units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer, "kernel_regularizer": reg(self.kernel_regularizer),
                "bias_regularizer": reg(self.bias_regularizer)}


class Dropout:
    """Zeroes inputs with probability ``rate`` during training (scaling the rest by 1/(1-rate))."""

    def __init__(self, rate, input_dim=None, input_shape=None, name=None):
        self.rate = float(rate)
        self.input_dim = _input_dim(input_dim, input_shape)
        self.name = name

    def _config(self):
        return {"type": "dropout", "rate": self.rate}


def _from_config(config):
    """Rebuilds a layer object from the core's JSON (for loaded models)."""
    if config["type"] == "dropout":
        return Dropout(config["rate"])
    reg = lambda r: None if r is None else Regularizer(r["l1"], r["l2"])  # noqa: E731
    return Dense(config["units"], activation=config["activation"], use_bias=config["use_bias"],
                 kernel_initializer=config["kernel_initializer"],
                 kernel_regularizer=reg(config["kernel_regularizer"]), bias_regularizer=reg(config["bias_regularizer"]))
