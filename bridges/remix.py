"""Remixing trained bridges: retrain part of one, stack layers on one, blend two, train on a weighted mix.

Every result is an ordinary ``Bridge`` (same ``save_pretrained``/``from_pretrained``), so a remix can be
shared and remixed again.
"""
from __future__ import annotations

import copy

import torch

from xmedia.errors import ConfigError

from .base import Bridge
from .data import mix
from .models import BlendedBridge, ExtendedBridge, bridge_spec

__all__ = ["fine_tune", "extend", "blend", "mix", "compatible"]


def fine_tune(bridge: Bridge, data, freeze=(), objective: str | None = None, lr: float = 1e-3, copy_bridge: bool = True,
              **train_options):
    """Retrain part of a bridge: parameters whose names start with a prefix in ``freeze`` stay as they are.

    The input normalisation learnt on the original data is kept (refitting it would change what the frozen
    layers see). Returns a ``TrainResult``; the original bridge is left untouched unless ``copy_bridge=False``.
    Parameter names: ``[n for n, _ in bridge.named_parameters()]`` (e.g. ``"video_tower.0"``, ``"net.0"``).
    """
    from .train import guess_objective, train

    target = copy.deepcopy(bridge) if copy_bridge else bridge
    return train(target, data, objective or guess_objective(bridge), freeze=freeze, lr=lr, fit_input_stats=False,
                 **train_options)


def extend(bridge: Bridge, layers) -> ExtendedBridge:
    """A new bridge = ``bridge`` followed by ``layers`` (a JSON spec: ``[32, 8]`` or
    ``[{"type": "linear", "out": 16}, {"type": "sigmoid"}]``). The base's weights are copied in; train the
    result (e.g. ``fine_tune(ext, data, freeze=["base."])`` to train only the new layers)."""
    ext = ExtendedBridge(bridge_spec(bridge), list(layers))
    ext.base.load_state_dict(bridge.state_dict())
    ext.card = {"description": f"{type(bridge).__name__} extended with layers {list(layers)}",
                "parent": bridge.card.get("title", type(bridge).__name__)}
    return ext.eval()


def compatible(a: Bridge, b: Bridge) -> bool:
    """Same class, same config and same parameter shapes: their weights can be interpolated."""
    if type(a) is not type(b) or a.config != b.config:
        return False
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)


def blend(a: Bridge, b: Bridge, t: float = 0.5, mode: str = "auto") -> Bridge:
    """Interpolate two bridges like mixing two instruments into a hybrid.

    ``mode="weights"`` (``auto`` picks it when ``compatible(a, b)``) interpolates every parameter and buffer,
    ``(1 - t) * a + t * b``; ``mode="outputs"`` (``auto`` otherwise) wraps both in a ``BlendedBridge`` whose
    output is ``(1 - t) * a(x) + t * b(x)``. ``t = 0`` is exactly ``a`` and ``t = 1`` exactly ``b`` (copied
    bit for bit, not computed), and both are continuous in ``t`` between.
    """
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ConfigError(f"blend t must be in [0, 1], got {t}")
    if mode == "auto":
        mode = "weights" if compatible(a, b) else "outputs"
    if mode == "weights":
        if not compatible(a, b):
            raise ConfigError(f"cannot interpolate the weights of {type(a).__name__}{a.config} and "
                              f"{type(b).__name__}{b.config}: use mode='outputs'")
        out = copy.deepcopy(a if t < 1.0 else b)
        if 0.0 < t < 1.0:
            sb = b.state_dict()
            with torch.no_grad():
                state = {k: (1 - t) * v + t * sb[k] if v.is_floating_point() else v.clone()
                         for k, v in a.state_dict().items()}
            out.load_state_dict(state)
    elif mode == "outputs":
        out = BlendedBridge(bridge_spec(a), bridge_spec(b), t)
        out.a.load_state_dict(a.state_dict())
        out.b.load_state_dict(b.state_dict())
    else:
        raise ConfigError(f"blend mode must be 'auto', 'weights' or 'outputs', got {mode!r}")
    names = [x.card.get("title", type(x).__name__) for x in (a, b)]
    out.card = {**out.card, "description": f"blend of {names[0]} and {names[1]} at t={t} ({mode})"}
    return out.eval()
