import threading
import time

import pytest


@pytest.fixture()
def run_beside_python():
    """``run(work)`` calls ``work()`` in a thread while this thread keeps running Python, and returns its result.
    It fails unless this thread ran many times during the call: a call that held the GIL would have blocked it."""

    def run(work):
        result = {}

        def target():
            try:
                result["value"] = work()
            except BaseException as e:  # re-raised below, in the test's thread
                result["error"] = e

        worker = threading.Thread(target=target)
        ticks, start = 0, time.perf_counter()
        worker.start()
        while worker.is_alive():
            ticks += 1
            time.sleep(0.001)
        took = time.perf_counter() - start
        if "error" in result:
            raise result["error"]
        assert took > 0.05 and ticks > 10, f"Python ran {ticks} times in {took:.3f}s beside the call"
        return result["value"]

    return run
