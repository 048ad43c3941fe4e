"""The exceptions oximl raises.

Every one subclasses :class:`OximlError` and the builtin a Python user would catch anyway, so
``except ValueError`` works for bad shapes and arguments and ``except OSError`` for files.
"""

__all__ = [
    "OximlError",
    "InternalError",
    "InvalidArgumentError",
    "ShapeError",
    "NonFiniteError",
    "OximlIOError",
    "FormatError",
    "NotFittedError",
    "CancelledError",
]


class OximlError(Exception):
    """Base class of every oximl error."""


class InternalError(OximlError, RuntimeError):
    """A bug in oximl; please report it."""


class InvalidArgumentError(OximlError, ValueError):
    """An argument outside its valid range."""


class ShapeError(OximlError, ValueError):
    """Arrays whose shapes do not fit together or do not fit the model."""


class NonFiniteError(OximlError, ValueError):
    """A NaN or infinity in the input, or one that appeared during training."""


class OximlIOError(OximlError, OSError):
    """A file could not be read or written."""


class FormatError(OximlError, OSError):
    """A corrupt, truncated, wrong-kind or newer-version file."""


class NotFittedError(OximlError, ValueError, AttributeError):
    """A model used before it was trained or loaded (as scikit-learn's ``NotFittedError``)."""


class CancelledError(OximlError, RuntimeError):
    """Work stopped by a callback."""


#: The exception class of each ``oximl_core::Error::code()`` (0 = internal); the extension module raises these.
BY_CODE = (InternalError, InvalidArgumentError, ShapeError, NonFiniteError, OximlIOError, FormatError,
           NotFittedError, CancelledError)
