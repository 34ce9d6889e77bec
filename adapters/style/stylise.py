"""Applying styles: resolve ``style=`` (a zoo name, a folder, a ``StyleNet``, a blend ``"starry:0.6,wave:0.4"``),
check the input, run the network (or Gatys optimisation for ``style_image=``), mix with ``strength``.
"""
from __future__ import annotations

import functools
import os

import numpy as np
from torch import nn

from xmedia.blend import blend_processes, load_process
from xmedia.blend import parse_blend as _parse_blend
from xmedia.errors import ConfigError
from xmedia.media import Image

from .network import MAX_SIDE_PX, StyleMix, StyleNet, apply_network, check_strength, content_rgb

__all__ = ["StyleMix", "parse_blend", "load_style", "resolve_style", "mix_styles", "stylise"]
STYLES = (StyleNet, StyleMix)
HINT = "train one with `xmedia train style --style-image painting.jpg --data photos/ -o my_style/`"

parse_blend = functools.partial(_parse_blend, what="style")
parse_blend.__doc__ = "A style blend spec as ``[(name, weight), ...]`` (``xmedia.blend.parse_blend``'s rules)."


def load_style(name_or_path, blend_mode: str = "auto") -> StyleNet | StyleMix:
    """A style network from a folder, a zoo name or a blend ``"starry:0.6,wave:0.4"`` (``xmedia.blend``)."""
    return load_process(name_or_path, STYLES, "style", blend_mode=blend_mode, hint=HINT)


def resolve_style(style, blend_mode: str = "auto") -> nn.Module:
    """The network ``style=`` names: a ``StyleNet``/module, a zoo name or folder, or a weighted blend of them.

    A blend of compatible models interpolates their weights (``blend_mode="weights"``, the default when they share
    a config); ``"outputs"`` mixes their pictures instead (a ``StyleMix``, which saves and loads like a model)."""
    if isinstance(style, nn.Module):
        return style.eval()
    if not isinstance(style, (str, os.PathLike)):
        raise ConfigError(f"style= takes a zoo name, a folder, 'a:0.6,b:0.4' or a StyleNet, got {type(style).__name__}")
    return load_style(style, blend_mode)


def mix_styles(nets, weights, blend_mode: str = "auto") -> nn.Module:
    """One network for a weighted mix of style networks (weights normalised to sum 1; ``xmedia.blend``)."""
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(weights) != len(nets):
        raise ConfigError(f"style weights must be {len(nets)} numbers, one per style; got {weights}")
    return blend_processes(nets, weights.tolist(), blend_mode, what="style")


def stylise(x, style=None, strength: float = 1.0, max_side_px: int = MAX_SIDE_PX, blend_mode: str = "auto"):
    """A photo (``Image`` or uint8 array) painted by a style network; returns the same type as given."""
    strength = check_strength(strength)
    net = resolve_style(style, blend_mode)
    rgb, alpha = content_rgb(x, max_side_px)
    out = apply_network(net, rgb, strength)
    if isinstance(x, np.ndarray):
        return out
    if alpha is not None:
        out = np.dstack([out, alpha])
    return Image(out)
