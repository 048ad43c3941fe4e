"""Optimizers in Keras spelling: ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``.

Names and defaults (learning rates, betas, epsilon, rho) are the core's: these classes only gather the keyword
arguments given and pass them on; unknown keys are refused by the core. A learning-rate schedule is set with
``schedule={"name": "exponential", "steps": 1000, "rate": 0.9}`` (or ``"step"``/``"cosine"``), as from C.
"""

import json

from oximl import _oximl

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "get"]


class Optimizer:
    """Base class: the settings given (``learning_rate`` first, as in Keras), passed on as they are."""

    name = ""

    def __init__(self, learning_rate=None, **config):
        self.config = {k: v for k, v in {"learning_rate": learning_rate, **config}.items() if v is not None}

    def __getattr__(self, key):
        try:
            return self.__dict__["config"][key]
        except KeyError:
            raise AttributeError(key) from None

    def _config(self):
        return {"name": self.name, **self.config}


class SGD(Optimizer):
    """Settings: ``learning_rate``, ``momentum``, ``nesterov``, ``weight_decay``, ``clipnorm``, ``schedule``."""
    name = "sgd"


class Adam(Optimizer):
    """Settings: ``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad``, ``weight_decay``,
    ``clipnorm``, ``schedule``."""
    name = "adam"


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' ``AdamW``: the core's weight decay, 0.004, unless given)."""

    def __init__(self, learning_rate=None, **config):
        if config.get("weight_decay") is None:
            config["weight_decay"] = json.loads(_oximl.optimizer_defaults("adamw"))["weight_decay"]
        super().__init__(learning_rate, **config)


class RMSprop(Optimizer):
    """Settings: ``learning_rate``, ``rho``, ``momentum``, ``epsilon``, ``clipnorm``, ``schedule``."""
    name = "rmsprop"


def get(identifier):
    """An optimizer from an object or a name (``sgd``, ``adam``, ``adamw``, ``rmsprop``)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() == "adamw":
            return AdamW()
        named = Optimizer()
        named.name = identifier.lower()
        return named
    raise ValueError(f"unknown optimizer {identifier!r}; expected a name or an Optimizer")
