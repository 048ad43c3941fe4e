"""Weight penalties: ``l1``, ``l2``, ``l1_l2`` (Keras' ``L1``, ``L2``, ``L1L2``)."""

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2"]


class Regularizer:
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def L1(l1=0.01):  # noqa: N802 (Keras' spelling)
    return Regularizer(l1=l1)


def L2(l2=0.01):  # noqa: N802
    return Regularizer(l2=l2)


def L1L2(l1=0.0, l2=0.0):  # noqa: N802
    return Regularizer(l1, l2)


l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    """A regularizer from an object, a name ('l1', 'l2', 'l1_l2' with Keras' defaults) or None."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in ("l1", "l2", "l1_l2"):
        return {"l1": L1(), "l2": L2(), "l1_l2": L1L2(0.01, 0.01)}[identifier]
    raise ValueError(f"unknown regularizer {identifier!r}")
