"""Metric names ``compile(metrics=[...])`` accepts (Keras spelling): the core's names and aliases.

accuracy (also ``acc``, ``binary_accuracy``, ``categorical_accuracy``, ``sparse_categorical_accuracy``: chosen
from the outputs and the loss), mae, mse, precision, recall, f1_score (``f1``; binary for one output,
macro-averaged over classes otherwise). Unknown names are refused by the core.
"""

__all__ = []
