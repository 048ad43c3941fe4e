"""Ctrl-C during fit: training stops between batches with KeyboardInterrupt, and the model stays usable."""

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, os, signal, threading, time
    import numpy as np
    from oximl.layers import Dense
    from oximl.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 32)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(64, activation="relu", input_dim=32), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        model.fit(x, y, epochs=100000, batch_size=32, verbose=0)
        print(json.dumps({"interrupted": False}))
    except KeyboardInterrupt:
        stopped = time.perf_counter() - start
        trained = not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        p = model.predict(x[:8])
        history = model.fit(x, y, epochs=1, verbose=0)  # still trainable
        print(json.dumps({"interrupted": True, "seconds": stopped, "trained": trained,
                          "finite": bool(np.isfinite(p).all()), "epochs_after": len(history.epoch)}))
    """
)


def test_ctrl_c_stops_fit_between_batches_and_leaves_the_model_usable():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["interrupted"], "fit ran to its end despite SIGINT"
    # The signal comes after 0.5 s; one batch takes well under a millisecond, so 5 s is a generous bound.
    assert 0.5 <= result["seconds"] < 5.0, result
    assert result["trained"] and result["finite"] and result["epochs_after"] == 1
