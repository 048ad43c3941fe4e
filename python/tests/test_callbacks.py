"""Keras' training features against Keras 3 itself (JAX backend, pinned in requirements-keras.txt): sample and
class weights (loss, gradient, weighted metrics), and each callback's semantics, replayed through Keras' own
callback on the values oximl logged."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pytest

import oximl
from oximl import callbacks, layers, losses, models, optimizers

keras = pytest.importorskip("keras", reason="Keras 3 is the reference (pip install -r requirements-keras.txt)")

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (24, 3)).astype(np.float32)
LABELS = np.array([i % 3 for i in range(24)], dtype=np.float32).reshape(-1, 1)
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS[:, 0].astype(int)]
BINARY = (X[:, :1] + X[:, 1:2] > 0).astype(np.float32)
REAL = RNG.uniform(-1, 1, (24, 2)).astype(np.float32)
WEIGHTS = RNG.uniform(0, 3, 24).astype(np.float32)

# (oximl loss, Keras loss, output activation, targets)
CASES = [
    ("mse", "mse", "linear", REAL),
    ("mae", "mae", "linear", REAL),
    (losses.Huber(delta=0.3), keras.losses.Huber(delta=0.3), "linear", REAL),
    ("binary_crossentropy", "binary_crossentropy", "sigmoid", BINARY),
    (losses.BinaryCrossentropy(from_logits=True), keras.losses.BinaryCrossentropy(from_logits=True), "linear", BINARY),
    ("categorical_crossentropy", "categorical_crossentropy", "softmax", ONE_HOT),
    (losses.CategoricalCrossentropy(from_logits=True), keras.losses.CategoricalCrossentropy(from_logits=True),
     "linear", ONE_HOT),
    ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", "softmax", LABELS),
]


def pair(loss, keras_loss, activation, outputs, lr=1.0, metrics=(), weighted=()):
    """The same network in oximl and in Keras, with oximl's initial weights, both plain SGD."""
    ours = models.Sequential([layers.Dense(5, activation="tanh", input_dim=3), layers.Dense(outputs, activation=activation)],
                             seed=3)
    ours.compile(optimizer=optimizers.SGD(learning_rate=lr), loss=loss, metrics=list(metrics),
                 weighted_metrics=list(weighted))
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh"),
                               keras.layers.Dense(outputs, activation=activation)])
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=keras_loss, metrics=list(metrics),
                   weighted_metrics=list(weighted))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def outputs_of(y):
    return 3 if y is LABELS else y.shape[1]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_weighted_loss_and_gradient_equal_keras(case):
    loss, keras_loss, activation, y = CASES[case]
    ours, theirs = pair(loss, keras_loss, activation, outputs_of(y))
    before = ours.get_weights()
    ours_loss = ours.evaluate(X, y, sample_weight=WEIGHTS)
    keras_value = theirs.evaluate(X, y, sample_weight=WEIGHTS, batch_size=len(X), verbose=0)
    assert abs(ours_loss - keras_value) < 1e-5
    # One SGD step of rate 1 on the whole batch: the weights move by minus the weighted gradient.
    ours.fit(X, y, sample_weight=WEIGHTS, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, y, sample_weight=WEIGHTS, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    for b, a, k in zip(before, ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(b - a, b - k, atol=1e-5)
    # The weights matter: without them the step differs.
    plain, _ = pair(loss, keras_loss, activation, outputs_of(y))
    plain.fit(X, y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    assert max(np.abs(p - a).max() for p, a in zip(plain.get_weights(), ours.get_weights())) > 1e-4


@pytest.mark.parametrize("targets", ["sparse", "one_hot", "binary"])
def test_class_weight_equals_keras(targets):
    loss, keras_loss, activation, y = {
        "sparse": CASES[7], "one_hot": CASES[5], "binary": CASES[3]}[targets]
    class_weight = {0: 0.5, 1: 3.0, 2: 1.5} if targets != "binary" else {1: 4.0}
    ours, theirs = pair(loss, keras_loss, activation, outputs_of(y), lr=0.1)
    h = ours.fit(X, y, class_weight=class_weight, batch_size=8, epochs=3, shuffle=False, verbose=0)
    k = theirs.fit(X, y, class_weight=class_weight, batch_size=8, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], k.history["loss"], atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(oximl.InvalidArgumentError):
        ours.fit(X, y, class_weight=class_weight, sample_weight=WEIGHTS, verbose=0)


@pytest.mark.parametrize("case, metric", [(3, "accuracy"), (5, "accuracy"), (7, "accuracy"), (0, "mae"), (0, "mse")])
def test_weighted_metrics_equal_keras(case, metric):
    loss, keras_loss, activation, y = CASES[case]
    ours, theirs = pair(loss, keras_loss, activation, outputs_of(y), metrics=[metric], weighted=[metric])
    got = ours.evaluate(X, y, sample_weight=WEIGHTS, return_dict=True)
    want = theirs.evaluate(X, y, sample_weight=WEIGHTS, batch_size=len(X), verbose=0, return_dict=True)
    assert set(got) == set(want) == {"loss", metric, f"weighted_{metric}"}
    for name in want:
        assert abs(got[name] - want[name]) < 1e-5, name
    assert got[metric] != got[f"weighted_{metric}"]


def trained(monitor_split=0.25, epochs=30, lr=0.05, extra=()):
    model = models.Sequential([layers.Dense(8, activation="tanh", input_dim=3), layers.Dense(1, activation="sigmoid")],
                              seed=1)
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="binary_crossentropy", metrics=["accuracy"])
    return model, model.fit(X, BINARY, epochs=epochs, batch_size=4, validation_split=monitor_split,
                            callbacks=list(extra), verbose=0)


def keras_replay(callback, per_epoch, lr=0.05):
    """Runs a Keras callback on oximl's per-epoch logs (a Keras model stands in for the optimizer and metrics);
    returns the logs as the callback left them and whether it stopped training."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="binary_crossentropy", metrics=["accuracy"])
    callback.set_model(model)
    callback.on_train_begin()
    seen = []
    for epoch, logs in enumerate(per_epoch):
        logs = dict(logs)
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, logs)
        seen.append(logs)
        if model.stop_training:
            break
    callback.on_train_end()
    return seen, model.stop_training


def rows(history):
    names = list(history.history)
    return [{k: history.history[k][i] for k in names} for i in range(len(history.epoch))]


def test_reduce_lr_on_plateau_replays_as_keras():
    args = dict(monitor="val_loss", factor=0.5, patience=1, min_delta=0.02, cooldown=1, min_lr=0.01)
    _, h = trained(epochs=40, extra=[callbacks.ReduceLROnPlateau(**args)])
    ours = h.history["learning_rate"]
    assert len(set(ours)) >= 3, ours  # it did reduce, more than once
    logs = [{k: v for k, v in r.items() if k != "learning_rate"} for r in rows(h)]
    seen, _ = keras_replay(keras.callbacks.ReduceLROnPlateau(**args), logs)
    np.testing.assert_allclose(ours, [r["learning_rate"] for r in seen], rtol=1e-7)


def test_early_stopping_replays_as_keras():
    args = dict(monitor="val_loss", patience=2, min_delta=0.01)
    _, h = trained(epochs=60, extra=[callbacks.EarlyStopping(**args)])
    assert len(h.epoch) < 60
    seen, stopped = keras_replay(keras.callbacks.EarlyStopping(**args), rows(h))
    assert stopped and len(seen) == len(h.epoch)


def test_model_checkpoint_saves_what_keras_saves(tmp_path):
    template = "m-{epoch:02d}-{val_accuracy:.3f}-{val_loss:.4f}.keras"
    args = dict(monitor="val_accuracy", save_best_only=True)
    (tmp_path / "ours").mkdir()
    model, h = trained(extra=[callbacks.ModelCheckpoint(tmp_path / "ours" / template, **args)])
    # Keras' stand-in model has no metric objects to tell the direction from: "max" is what oximl's "auto" chose.
    keras_replay(keras.callbacks.ModelCheckpoint(str(tmp_path / "keras" / template), mode="max", **args), rows(h))
    ours, theirs = sorted(os.listdir(tmp_path / "ours")), sorted(os.listdir(tmp_path / "keras"))
    assert ours == theirs and len(ours) >= 2
    best = models.load_model(tmp_path / "ours" / ours[-1])
    assert best.evaluate(X[18:], BINARY[18:], return_dict=True)["accuracy"] == max(h.history["val_accuracy"])


@pytest.mark.parametrize("split", [0.25, 0.0])
def test_csv_logger_writes_keras_file(tmp_path, split):
    _, h = trained(monitor_split=split, epochs=4, extra=[callbacks.CSVLogger(tmp_path / "ours.csv")])
    keras_replay(keras.callbacks.CSVLogger(str(tmp_path / "keras.csv")), rows(h))
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()
    # Appending: no second header, as Keras.
    trained(monitor_split=split, epochs=2, extra=[callbacks.CSVLogger(tmp_path / "ours.csv", append=True)])
    text = (tmp_path / "ours.csv").read_text()
    assert text.count("epoch") == 1 and len(text.splitlines()) == 1 + 4 + 2


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.5

    _, h = trained(epochs=5, extra=[callbacks.LearningRateScheduler(schedule)])
    seen, _ = keras_replay(keras.callbacks.LearningRateScheduler(schedule), rows(h))
    assert h.history["learning_rate"] == [r["learning_rate"] for r in seen]
    assert h.history["learning_rate"][-1] == pytest.approx(0.05 / 8)
    # A one-argument schedule, as Keras allows; training with rate ~0 leaves the weights alone.
    model, _ = trained(epochs=1)
    before = model.get_weights()
    model.fit(X, BINARY, epochs=2, callbacks=[callbacks.LearningRateScheduler(lambda epoch: 1e-30)], verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-20)


def test_terminate_on_nan_stops_like_keras():
    big = X * 1e4
    def diverging():
        m = models.Sequential([layers.Dense(1, input_dim=3)], seed=0)
        m.compile(optimizer=optimizers.SGD(learning_rate=10.0), loss="mse")
        return m
    with pytest.raises(oximl.NonFiniteError):
        diverging().fit(big, REAL[:, :1] * 1e4, epochs=20, batch_size=4, verbose=0)
    m = diverging()
    h = m.fit(big, REAL[:, :1] * 1e4, epochs=20, batch_size=4, callbacks=[callbacks.TerminateOnNaN()], verbose=0)
    assert len(h.epoch) < 20 and np.isnan(h.history["loss"][-1])
    assert all(np.isfinite(w).all() for w in m.get_weights())


def test_initial_epoch_and_shuffle():
    model, _ = trained(epochs=1)
    seen = []

    class Record(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    h = model.fit(X, BINARY, epochs=5, initial_epoch=3, callbacks=[Record()], verbose=0)
    assert h.epoch == [3, 4] and seen == [3, 4]
    a, _ = trained(epochs=1)
    b, _ = trained(epochs=1)
    a.fit(X, BINARY, epochs=1, shuffle=False, verbose=0)
    b.fit(X, BINARY, epochs=1, shuffle=True, verbose=0)
    assert any((wa != wb).any() for wa, wb in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("verbose", ["auto", 0, 1, 2])
def test_progress_display(capfd, verbose):
    model, _ = trained(epochs=1)
    capfd.readouterr()
    model.fit(X, BINARY, epochs=3, batch_size=4, verbose=verbose)
    out = capfd.readouterr().out
    lines = out.splitlines()
    if verbose in ("auto", 0):  # pytest's stdout is not a terminal: "auto" shows nothing
        assert out == ""
    elif verbose == 1:  # not a terminal: the final bar line of each epoch, no redraws
        assert "\r" not in out and len(lines) == 6 and lines[0] == "Epoch 1/3"
        assert lines[1].startswith("6/6 ━━━━━━━━━━━━━━━━━━━━ ") and "ms/step - loss: " in lines[1]
    else:
        assert len(lines) == 6 and lines[2] == "Epoch 2/3"
        assert lines[3].startswith("6/6 - ") and " - accuracy: " in lines[3] and "━" not in out
