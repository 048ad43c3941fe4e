"""The ``oximl`` command line from Python: the ``oximl`` console script of the wheel and ``python -m oximl`` run
the Rust command line (``info``, ``convert``, ``quantize``, ``serve``; ``oximl --help``) in this process with the
GIL released. Ctrl-C or SIGTERM stops ``serve`` after the requests in flight are answered."""

from __future__ import annotations

import sys

from oximl import _oximl


def main(argv: list[str] | None = None) -> int:
    """Runs ``oximl ARGS`` and returns its exit status (0 done, 1 the work failed, 2 a usage error).

    >>> main(["--version"])  # doctest: +SKIP
    oximl 0.1.0
    0
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        return _oximl.cli(args)
    except KeyboardInterrupt:
        # `serve` has shut down gracefully, as the binary does on Ctrl-C; other work was interrupted.
        return 0 if args[:1] == ["serve"] else 130


if __name__ == "__main__":
    sys.exit(main())
