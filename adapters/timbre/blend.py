"""Timbres by name: a folder, a zoo name, or a blend ``"violin:0.7,flute:0.3"`` (NSynth-like breeding).

``imprint_step`` is the route step ``timbre`` (``controls:timbre -> audio``): it loads the timbre it is named.

A blend of several timbres interpolates their weights (and their learnt ranges) with ``Process.blend``: exact
at t = 0 and t = 1, continuous between. Weights are normalised to sum to one.
"""
from __future__ import annotations

from xmedia.errors import ConfigError, WeightsError
from xmedia.media import Audio
from xmedia.pretrained import locate, read_config

from .performance import Performance


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """``"violin:0.7,flute/:0.3"`` -> [("violin", 0.7), ("flute/", 0.3)]; a single name has weight 1."""
    parts = []
    for item in str(spec).split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, weight = item.rpartition(":")
        if not sep or not name:
            name, weight = item, "1"
        try:
            w = float(weight)
        except ValueError:
            name, w = item, 1.0  # a ':' inside a path, not a weight
        if not w >= 0:
            raise ConfigError(f"blend weight of {name!r} must be >= 0, got {weight}")
        parts.append((name, w))
    if not parts or sum(w for _, w in parts) <= 0:
        raise ConfigError(f"{spec!r} names no timbre with a positive weight; e.g. 'violin' or 'violin:0.7,flute:0.3'")
    return parts


def load_one(name):
    from .model import Timbre

    folder = locate(name)
    cfg = read_config(folder)
    if cfg.get("class") != "Timbre":
        raise WeightsError(f"{folder} holds a {cfg.get('class')}, not a timbre model; train one with "
                           "`xmedia train timbre --data recordings/ -o my_timbre/`")
    return Timbre.from_pretrained(folder)


def blend_timbres(models_and_weights) -> object:
    """Weighted blend of several ``Timbre``s (pairwise ``Process.blend``, so each pair is exact at its ends)."""
    from xmedia.process import Process

    total = sum(w for _, w in models_and_weights)
    acc, acc_w = None, 0.0
    for model, w in models_and_weights:
        if w <= 0:
            continue
        if acc is None:
            acc, acc_w = model, w
            continue
        acc_w += w
        acc = Process.blend(acc, model, w / acc_w)
    if acc is None or total <= 0:
        raise ConfigError("a blend needs at least one timbre with a positive weight")
    return acc


def load_timbre(timbre):
    """A ``Timbre`` from an object, a folder, a zoo name or a blend spec."""
    if hasattr(timbre, "synthesize"):
        return timbre
    spec = str(timbre)
    parts = parse_blend(spec) if ("," in spec or _weighted(spec)) else [(spec, 1.0)]
    if len(parts) == 1:
        return load_one(parts[0][0])
    return blend_timbres([(load_one(n), w) for n, w in parts])


def _weighted(spec: str) -> bool:
    name, sep, weight = spec.rpartition(":")
    try:
        float(weight)
    except ValueError:
        return False
    return bool(sep and name)


def imprint_step(performance: Performance, timbre=None, octave: str | int = "auto", loudness: str = "match",
                 sample_rate_hz: int | None = None) -> Audio:
    """The route step ``timbre``: ``timbre`` is a folder, a zoo name, a blend ``"violin:0.7,flute:0.3"`` or a
    ``Timbre``."""
    if timbre is None:
        raise ConfigError("the timbre step needs timbre= (a trained timbre folder or zoo name, e.g. 'violin')")
    return load_timbre(timbre).run(performance, octave=octave, loudness=loudness, sample_rate_hz=sample_rate_hz)
