"""Losses in Keras spelling, by object or by name."""

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "HalfSquaredError", "get"]


class Loss:
    name = ""

    def _config(self):
        return {"name": self.name}


class MeanSquaredError(Loss):
    """The mean of (h - y)**2 over outputs and samples."""
    name = "mean_squared_error"


class HalfSquaredError(Loss):
    """The classical J = 1/(2m) sum((h - y)**2) over m samples."""
    name = "half_squared_error"


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"


class Huber(Loss):
    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = float(delta)

    def _config(self):
        return {"name": self.name, "delta": self.delta}


class _FromLogits(Loss):
    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def _config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class BinaryCrossentropy(_FromLogits):
    name = "binary_crossentropy"


class CategoricalCrossentropy(_FromLogits):
    name = "categorical_crossentropy"


class SparseCategoricalCrossentropy(_FromLogits):
    name = "sparse_categorical_crossentropy"


_NAMES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "half_squared_error": HalfSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError, "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A loss from an object or a Keras name."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {sorted(_NAMES)} or a Loss")
