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


def test_nan_or_inf_in_a_config_is_refused_naming_its_key():
    # Was "expected value at line 1 column 74" (the JSON writer's NaN token, refused by the core's parser).
    from oximl.layers import Dense
    from oximl.models import Sequential
    from oximl.optimizers import Adam
    from oximl.regularizers import L2

    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(oximl.InvalidArgumentError, match=r"`optimizer\.learning_rate` is NaN or infinite"):
        model.compile(optimizer=Adam(learning_rate=float("nan")), loss="mse")
    with pytest.raises(oximl.InvalidArgumentError, match=r"`kernel_regularizer\.l2` is NaN or infinite"):
        model.add(Dense(2, kernel_regularizer=L2(float("inf"))))
    with pytest.raises(oximl.InvalidArgumentError, match=r"learning_rate` is NaN or infinite"):
        oximl.recommend.FunkSVD(lr_all=float("-inf")).fit(oximl.recommend.Ratings([("u", "i", 1.0)]))


def test_numpy_scalars_in_a_config_are_plain_numbers():
    import json

    import numpy as np

    from oximl.layers import Dense
    from oximl.models import Sequential
    from oximl.optimizers import Adam

    model = Sequential([Dense(2, input_dim=3)])
    model.compile(optimizer=Adam(learning_rate=np.float32(0.5), beta_1=np.float64(0.8)), loss="mse")
    optimizer = json.loads(model._core.compiled_json)["optimizer"]
    assert (optimizer["learning_rate"], optimizer["beta_1"]) == (0.5, 0.8)
    assert model.predict(np.ones((1, 3), dtype=np.float32)).shape == (1, 2)


def test_a_panic_in_the_core_is_an_internal_error_not_a_panic_exception():
    # pyo3's PanicException derives from BaseException, so `except Exception` missed it. 2**62 factors made the
    # core panic on a size overflow (the recommender's own checks may refuse it first: either way an OximlError).
    from oximl.recommend import ALS, Ratings

    try:
        ALS(factors=2**62).fit(Ratings([("u", "i", 1.0), ("v", "j", 2.0)]))
    except Exception as e:
        assert isinstance(e, oximl.OximlError), repr(e)
    else:
        raise AssertionError("2**62 factors were accepted")
