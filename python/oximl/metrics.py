"""Metric names ``compile(metrics=[...])`` accepts (Keras spelling)."""

__all__ = ["NAMES"]

#: accuracy (binary, categorical or sparse, chosen from the outputs and the loss), mae, mse, precision, recall,
#: f1 (binary for one output, macro-averaged over classes otherwise).
NAMES = ("accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "mae", "mse",
         "precision", "recall", "f1_score")
