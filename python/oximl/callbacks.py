"""Callbacks in Keras spelling: subclass ``Callback``; ``EarlyStopping`` configures the core's early stopping."""

__all__ = ["Callback", "EarlyStopping"]


class Callback:
    """Override ``on_epoch_end(epoch, logs)``; set ``self.model.stop_training = True`` to stop. Inside it,
    ``self.model.get_weights()`` returns the weights of that epoch."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved for ``patience`` epochs; can restore the best weights.

    Runs in the core (the same rule as from Rust and C, with the core's defaults: only the settings given are
    passed); ``mode="auto"`` maximizes names containing accuracy, precision, recall or f1.
    """

    def __init__(self, monitor=None, min_delta=None, patience=None, mode=None, restore_best_weights=None):
        given = {"monitor": monitor, "min_delta": min_delta, "patience": patience, "mode": mode,
                 "restore_best_weights": restore_best_weights}
        self.config = {k: v for k, v in given.items() if v is not None}
        self.stopped_epoch = 0

    def _config(self):
        return dict(self.config)
