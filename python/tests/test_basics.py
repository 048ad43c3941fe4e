import multiprocessing
import re

import pytest

import oximl


def test_version_matches_the_package():
    assert re.fullmatch(r"\d+\.\d+\.\d+", oximl.version())
    assert oximl.__version__ == oximl.version()
    from importlib.metadata import version

    assert version("oximl") == oximl.version()


def test_thread_count_round_trips():
    oximl.set_num_threads(2)
    assert oximl.num_threads() == 2
    oximl.set_num_threads(1)
    assert oximl.num_threads() == 1
    oximl.set_num_threads(0)
    assert oximl.num_threads() >= 1


def test_bad_thread_count_raises_a_value_error_and_keeps_the_pool():
    oximl.set_num_threads(2)
    with pytest.raises(oximl.InvalidArgumentError, match="threads") as info:
        oximl.set_num_threads(1 << 20)
    assert isinstance(info.value, ValueError) and isinstance(info.value, oximl.OximlError)
    assert oximl.num_threads() == 2
    with pytest.raises(OverflowError):
        oximl.set_num_threads(-1)
    with pytest.raises(TypeError):
        oximl.set_num_threads("two")


def _child_threads(q):
    oximl.set_num_threads(2)
    q.put(oximl.num_threads())


def test_pool_survives_fork():
    oximl.set_num_threads(2)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_threads, args=(q,))
    p.start()
    p.join(timeout=60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == 2


def test_exception_classes_subclass_the_builtins():
    assert issubclass(oximl.ShapeError, ValueError)
    assert issubclass(oximl.FormatError, OSError)
    assert issubclass(oximl.OximlIOError, OSError)
    assert issubclass(oximl.NotFittedError, AttributeError)
    for cls in (oximl.ShapeError, oximl.FormatError, oximl.NonFiniteError, oximl.InternalError):
        assert issubclass(cls, oximl.OximlError)
