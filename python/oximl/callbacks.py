"""Callbacks in Keras spelling, with Keras' arguments.

``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``, ``CSVLogger`` and ``TerminateOnNaN`` run in the
Rust core (the same code as from Rust and C; only the arguments given are passed, the core holds the defaults).
``LearningRateScheduler`` calls a Python ``schedule(epoch, lr)``; subclass ``Callback`` for your own.
"""

__all__ = ["Callback", "CSVLogger", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau", "TerminateOnNaN"]


class Callback:
    """Override ``on_epoch_begin(epoch)`` or ``on_epoch_end(epoch, logs)`` (``logs`` may be added to); set
    ``self.model.stop_training = True`` to stop. Inside ``on_epoch_end``, ``self.model.get_weights()`` returns the
    weights of that epoch."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class _CoreCallback(Callback):
    """A callback run by the core: its given arguments become the ``FitConfig`` entry ``_key``."""

    _key = ""

    def __init__(self, **given):
        self.config = {k: v for k, v in given.items() if v is not None}

    def _config(self):
        return dict(self.config)


class EarlyStopping(_CoreCallback):
    """Stops when ``monitor`` has not improved for ``patience`` epochs; can restore the best weights.
    ``mode="auto"`` maximizes names containing accuracy, precision, recall or f1."""

    _key = "early_stopping"

    def __init__(self, monitor=None, min_delta=None, patience=None, mode=None, restore_best_weights=None):
        super().__init__(monitor=monitor, min_delta=min_delta, patience=patience, mode=mode,
                         restore_best_weights=restore_best_weights)
        self.stopped_epoch = 0


class ModelCheckpoint(_CoreCallback):
    """Saves the model (oximl format, ``oximl.models.load_model`` reads it) after each epoch, or only when
    ``monitor`` improved with ``save_best_only``; ``filepath`` may hold ``{epoch:02d}``, ``{val_loss:.2f}``, ...
    Keras' ``save_weights_only`` has no counterpart: an oximl model file is its configuration and weights."""

    _key = "model_checkpoint"

    def __init__(self, filepath, monitor=None, verbose=None, save_best_only=None, mode=None,
                 initial_value_threshold=None):
        super().__init__(filepath=str(filepath), monitor=monitor, verbose=verbose, save_best_only=save_best_only,
                         mode=mode, initial_value_threshold=initial_value_threshold)


class ReduceLROnPlateau(_CoreCallback):
    """Multiplies the learning rate by ``factor`` after ``patience`` epochs without improvement of ``monitor``
    (Keras' rule, with ``min_delta``, ``cooldown``, ``min_lr``); logs ``learning_rate``."""

    _key = "reduce_lr_on_plateau"

    def __init__(self, monitor=None, factor=None, patience=None, verbose=None, mode=None, min_delta=None,
                 cooldown=None, min_lr=None):
        super().__init__(monitor=monitor, factor=factor, patience=patience, verbose=verbose, mode=mode,
                         min_delta=min_delta, cooldown=cooldown, min_lr=min_lr)


class CSVLogger(_CoreCallback):
    """Writes each epoch's logs to a CSV file, as Keras' ``CSVLogger``."""

    _key = "csv_logger"

    def __init__(self, filename, separator=None, append=None):
        super().__init__(filename=str(filename), separator=separator, append=append)


class TerminateOnNaN(_CoreCallback):
    """Stops at the first batch whose loss is NaN or infinite; ``fit`` returns the history so far."""

    _key = "terminate_on_nan"

    def _config(self):
        return True


class LearningRateScheduler(Callback):
    """Sets the learning rate before each epoch to ``schedule(epoch, lr)`` (or ``schedule(epoch)``); logs it."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose
        self._lr = None

    def _next_rate(self, epoch, lr):
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # Keras accepts a one-argument schedule too
            lr = self.schedule(epoch)
        lr = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")
        self._lr = lr
        return lr

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._lr is not None:
            logs["learning_rate"] = self._lr
