"""The one bridge of settings from Python to the core: JSON text read by the core's serde types.

The core owns every name, alias and default; the Python classes only gather keyword arguments into a dict and
pass ``dumps(what, config)`` to the extension, which deserializes it into the core type (unknown keys refused).
"""

import json
import math
from typing import Any

from oximl.errors import InvalidArgumentError


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values (``json`` cannot write them)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _non_finite(value: Any, path: str) -> "str | None":
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _non_finite(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def dumps(what: str, config: Any) -> str:
    """``config`` as JSON text for the core; a NaN or infinity is refused with the key that holds it.

    >>> dumps("optimizer", {"name": "adam", "learning_rate": 0.001})
    '{"name": "adam", "learning_rate": 0.001}'
    """
    plain = json.loads(json.dumps(config, default=_plain))
    bad = _non_finite(plain, "")
    if bad is not None:
        raise InvalidArgumentError(f"invalid argument `{what}`: `{bad or what}` is NaN or infinite, not a finite number")
    return json.dumps(plain)
