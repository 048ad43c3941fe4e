"""Model compression in the spelling of Keras 3 and TF Model Optimization: int8 quantization
(``model.quantize("int8")``, also ``quantize(model, "int8")``) and magnitude pruning (``prune`` one-shot,
``prune_low_magnitude`` with a ``ConstantSparsity`` or ``PolynomialDecay`` schedule, ``strip_pruning``, ``sparsity``).

Every model is changed in place (and returned, so that TF-MOT's ``model = prune_low_magnitude(model, ...)`` reads
the same). Names and defaults are the core's: these functions pass the arguments given on as JSON. Pruned weights
stay zero through later ``fit`` calls (the mask is applied after every optimizer step; no ``UpdatePruningStep``
callback is needed); a quantized model predicts and evaluates but cannot be trained or pruned.

>>> from oximl.layers import Dense
>>> from oximl.models import Sequential
>>> model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(2)])
>>> _ = prune(model, sparsity=0.5, scope="global")
>>> sparsity(model)["total"]
0.5
"""

from oximl import _config, _oximl

__all__ = ["quantize", "prune", "prune_low_magnitude", "strip_pruning", "sparsity", "ConstantSparsity",
           "PolynomialDecay"]


def _given(**config):
    return {k: v for k, v in config.items() if v is not None}


def quantize(model, mode, **config):
    """Quantizes ``model`` in place (Keras 3's ``model.quantize(mode)``): ``mode="int8"`` is dynamic int8
    quantization (int8 kernels per output unit, activations quantized per row at run time, int32 products);
    ``reduce_range=True`` quantizes activations to 7 bits (faster on CPUs with AVX2 but no VNNI)."""
    _oximl.quantize(model._built(), _config.dumps("quantize", {"mode": mode, **config}))
    return model


def prune(model, sparsity, scope=None, layers=None):
    """One-shot magnitude pruning: zeroes the ``sparsity`` fraction of smallest kernel weights, per layer
    (``scope="layer"``, the default) or over all of them (``scope="global"``), of all Dense layers or of the
    ``layers`` given (indices in ``model.layers``). Biases are never pruned. The mask is kept for later ``fit``."""
    _oximl.prune(model._built(), _config.dumps("prune", _given(sparsity=sparsity, scope=scope, layers=layers)))
    return model


class ConstantSparsity:
    """TF-MOT's schedule: ``target_sparsity`` at ``begin_step`` and every ``frequency`` steps until ``end_step``."""

    def __init__(self, target_sparsity, begin_step, end_step=None, frequency=None):
        self.config = _given(name="constant_sparsity", target_sparsity=target_sparsity, begin_step=begin_step,
                             end_step=end_step, frequency=frequency)


class PolynomialDecay:
    """TF-MOT's schedule: from ``initial_sparsity`` at ``begin_step`` to ``final_sparsity`` at ``end_step``,
    ``final + (initial - final)·(1 - p)^power``, the mask updated every ``frequency`` steps."""

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=None, frequency=None):
        self.config = _given(name="polynomial_decay", initial_sparsity=initial_sparsity,
                             final_sparsity=final_sparsity, begin_step=begin_step, end_step=end_step, power=power,
                             frequency=frequency)


def prune_low_magnitude(model, pruning_schedule):
    """Prunes every Dense kernel during the next ``fit`` calls as ``pruning_schedule`` says (TF-MOT's
    ``prune_low_magnitude``); the steps count optimizer steps from here."""
    schedule = pruning_schedule.config if hasattr(pruning_schedule, "config") else dict(pruning_schedule)
    _oximl.prune_low_magnitude(model._built(), _config.dumps("pruning_schedule", schedule))
    return model


def strip_pruning(model):
    """Removes the pruning masks: the weights, zeros included, stay; the model trains and saves as a plain one."""
    _oximl.strip_pruning(model._built())
    return model


def sparsity(model):
    """The fraction of zero kernel weights: ``{"layers": {layer index: fraction}, "total": fraction}``."""
    layers, total = _oximl.sparsity(model._built())
    return {"layers": dict(layers), "total": total}
