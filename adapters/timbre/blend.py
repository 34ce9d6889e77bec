"""Timbres by name: a folder, a zoo name, or a blend ``"violin:0.7,flute:0.3"`` (NSynth-like breeding).

``imprint_step`` is the route step ``timbre`` (``controls:timbre -> audio``): it loads the timbre it is named.

A blend of several timbres interpolates their weights (and their learnt ranges) with ``Process.blend``: exact
at t = 0 and t = 1, continuous between. Weights are normalised to sum to one.
"""
from __future__ import annotations

from xmedia.blend import blend_processes, load_process, parse_blend
from xmedia.errors import ConfigError
from xmedia.media import Audio

from .performance import Performance

__all__ = ["parse_blend", "blend_timbres", "load_timbre", "imprint_step"]
HINT = "train one with `xmedia train timbre --data recordings/ -o my_timbre/`"


def blend_timbres(models_and_weights) -> object:
    """Weighted blend of several ``Timbre``s (``xmedia.blend.blend_processes``: exact at each end)."""
    models_and_weights = list(models_and_weights)
    return blend_processes([m for m, _ in models_and_weights], [w for _, w in models_and_weights], what="timbre")


def load_timbre(timbre):
    """A ``Timbre`` from an object, a folder, a zoo name or a blend spec (``xmedia.blend.load_process``)."""
    if hasattr(timbre, "synthesize"):
        return timbre
    from .model import Timbre

    return load_process(timbre, Timbre, "timbre", hint=HINT)


def imprint_step(performance: Performance, timbre=None, octave: str | int = "auto", loudness: str = "match",
                 sample_rate_hz: int | None = None) -> Audio:
    """The route step ``timbre``: ``timbre`` is a folder, a zoo name, a blend ``"violin:0.7,flute:0.3"`` or a
    ``Timbre``."""
    if timbre is None:
        raise ConfigError("the timbre step needs timbre= (a trained timbre folder or zoo name, e.g. 'violin')")
    return load_timbre(timbre).run(performance, octave=octave, loudness=loudness, sample_rate_hz=sample_rate_hz)
