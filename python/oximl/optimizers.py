"""Optimizers in Keras spelling, with Keras' defaults: ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``."""

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "get"]


class Optimizer:
    """Base class: ``learning_rate``, ``clipnorm`` (global norm, as Keras' ``global_clipnorm``)."""

    def __init__(self, learning_rate, clipnorm=None, global_clipnorm=None):
        self.learning_rate = float(learning_rate)
        self.clipnorm = global_clipnorm if global_clipnorm is not None else clipnorm

    def _common(self, name):
        c = {"name": name, "learning_rate": self.learning_rate}
        if self.clipnorm is not None:
            c["clipnorm"] = float(self.clipnorm)
        return c


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay or 0.0)

    def _config(self):
        return {**self._common("sgd"), "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad, self.weight_decay = bool(amsgrad), float(weight_decay or 0.0)

    def _config(self):
        return {**self._common("adam"), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad, "weight_decay": self.weight_decay}


class AdamW(Adam):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)

    def _config(self):
        return {**self._common("rmsprop"), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}


def get(identifier):
    """An optimizer from an object or a Keras name ('sgd', 'adam', 'adamw', 'rmsprop')."""
    if isinstance(identifier, Optimizer):
        return identifier
    names = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
    if isinstance(identifier, str) and identifier.lower() in names:
        return names[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; expected one of {sorted(names)} or an Optimizer")
