"""oximl: embeddable machine learning on the CPU, from the same Rust core as its C and Rust APIs."""

import os as _os

from oximl import (
    _oximl,
    callbacks,
    compression,
    embeddings,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    recommend,
    regularizers,
)
from oximl._oximl import __version__, num_threads, set_num_threads, version
from oximl.errors import *  # noqa: F401,F403 (the exception classes)
from oximl.errors import __all__ as _error_names

__all__ = [
    "__version__",
    "callbacks",
    "compression",
    "embeddings",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "preprocessing",
    "recommend",
    "regularizers",
    "version",
    "set_num_threads",
    "num_threads",
] + _error_names

# A forked child has none of the parent's pool threads: rebuild the pool there instead of deadlocking.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_oximl._reset_after_fork)
