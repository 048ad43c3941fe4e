"""Losses in Keras spelling, by object or by name.

Names, aliases (``mse``, ``bce``, ``cce``, ``half_mse``, ...) and defaults are the core's: these classes only
gather the keyword arguments given and pass them on (unknown names or keys are refused by the core).
"""

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "HalfSquaredError", "get"]


class Loss:
    """Base class: the settings given, passed on as they are."""

    name = ""

    def __init__(self, **config):
        self.config = {k: v for k, v in config.items() if v is not None}

    def __getattr__(self, key):
        try:
            return self.__dict__["config"][key]
        except KeyError:
            raise AttributeError(key) from None

    def _config(self):
        return {"name": self.name, **self.config}


class MeanSquaredError(Loss):
    """The mean of (h - y)**2 over outputs and samples."""
    name = "mean_squared_error"


class HalfSquaredError(Loss):
    """The classical J = 1/(2m) sum((h - y)**2) over m samples."""
    name = "half_squared_error"


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"


class Huber(Loss):
    """Quadratic within ``delta`` of the target, linear beyond."""
    name = "huber"

    def __init__(self, delta=None):
        super().__init__(delta=delta)


class _FromLogits(Loss):
    def __init__(self, from_logits=None):
        super().__init__(from_logits=from_logits)


class BinaryCrossentropy(_FromLogits):
    name = "binary_crossentropy"


class CategoricalCrossentropy(_FromLogits):
    name = "categorical_crossentropy"


class SparseCategoricalCrossentropy(_FromLogits):
    name = "sparse_categorical_crossentropy"


def get(identifier):
    """A loss from an object or a name (any name or alias the core knows)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        named = Loss()
        named.name = identifier.lower()
        return named
    raise ValueError(f"unknown loss {identifier!r}; expected a loss name or a Loss")
