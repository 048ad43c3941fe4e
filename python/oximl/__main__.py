"""``python -m oximl serve --model NAME=PATH ...``: the Rust server of ``oximl serve`` (the same arguments, see
``python -m oximl serve --help``), run in this process with the GIL released. Ctrl-C or SIGTERM stops it after
the requests in flight are answered."""

from __future__ import annotations

import sys

from oximl import _oximl

USAGE = "usage: python -m oximl serve --model NAME=PATH [--port 8501] ...  (python -m oximl serve --help)"


def main(argv: list[str] | None = None) -> int:
    """Runs ``python -m oximl ARGS``; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "serve":
        print(USAGE, file=sys.stderr)
        return 2
    try:
        _oximl.serve(args[1:])
    except KeyboardInterrupt:
        pass  # the server has already shut down gracefully
    except Exception as e:  # a model that does not load, a port in use: one line, not a traceback
        print(f"oximl serve: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
