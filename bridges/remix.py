"""Remixing trained bridges: retrain part of one, stack layers on one, blend two, train on a weighted mix.

Every result is an ordinary ``Bridge`` (same ``save_pretrained``/``from_pretrained``), so a remix can be
shared and remixed again. ``fine_tune`` and ``blend`` are the common ``Process`` methods; these functions are
their spelling for bridges.
"""
from __future__ import annotations

from xmedia.blend import process_spec

from .base import Bridge
from .data import mix
from .models import ExtendedBridge

__all__ = ["fine_tune", "extend", "blend", "mix", "compatible"]


def fine_tune(bridge: Bridge, data, freeze=(), objective: str | None = None, **train_options):
    """Retrain a copy of a bridge (``Process.fine_tune``): parameters whose names start with a prefix in
    ``freeze`` stay as they are.

    The fine-tuning defaults (``bridges/recipe.json``: ``learning_rate`` 1e-3, ``fit_input_stats`` off) keep the
    input normalisation learnt on the original data (refitting it would change what the frozen layers see).
    Returns the ``TrainResult`` (the trained copy in ``.process``); the original bridge is left untouched.
    Parameter names: ``[n for n, _ in bridge.named_parameters()]`` (e.g. ``"video_tower.0"``, ``"net.0"``).
    """
    return bridge.fine_tune(data, freeze=list(freeze), objective=objective, **train_options).train_result


def extend(bridge: Bridge, layers) -> ExtendedBridge:
    """A new bridge = ``bridge`` followed by ``layers`` (a JSON spec: ``[32, 8]`` or
    ``[{"type": "linear", "out": 16}, {"type": "sigmoid"}]``). The base's weights are copied in; train the
    result (e.g. ``fine_tune(ext, data, freeze=["base."])`` to train only the new layers)."""
    ext = ExtendedBridge(process_spec(bridge), list(layers))
    ext.base.load_state_dict(bridge.state_dict())
    ext.card = {"description": f"{type(bridge).__name__} extended with layers {list(layers)}",
                "parent": bridge.card.get("title", type(bridge).__name__)}
    return ext.eval()


def compatible(a: Bridge, b: Bridge) -> bool:
    """Same class, same config and same parameter shapes: their weights can be interpolated."""
    return a.compatible(b)


def blend(a: Bridge, b: Bridge, t: float = 0.5, mode: str = "auto") -> Bridge:
    """Interpolate two bridges like mixing two instruments into a hybrid (``Process.blend``): weights when
    ``compatible(a, b)``, else outputs (a ``BlendedBridge``); exactly ``a`` at ``t = 0`` and ``b`` at ``t = 1``."""
    return Bridge.blend(a, b, t, mode)
