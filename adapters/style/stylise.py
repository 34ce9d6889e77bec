"""Applying styles: resolve ``style=`` (a zoo name, a folder, a ``StyleNet``, a blend ``"starry:0.6,wave:0.4"``),
check the input, run the network (or Gatys optimisation for ``style_image=``), mix with ``strength``.
"""
from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

from xmedia.errors import ConfigError
from xmedia.media import Image
from xmedia.pretrained import locate
from xmedia.process import Process

from .network import MAX_SIDE_PX, StyleNet, apply_network, check_strength, content_rgb

_WEIGHTED = re.compile(r"^(?P<name>.+?):(?P<weight>[0-9]*\.?[0-9]+)$")


class StyleMix(nn.Module):
    """Several style networks' outputs mixed with fixed weights (used when their weights cannot be interpolated)."""

    def __init__(self, nets, weights):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        w = torch.tensor([float(x) for x in weights])
        self.register_buffer("weights", w / w.sum())
        self.card = {}

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return sum(w * net(rgb) for w, net in zip(self.weights, self.nets))


def _blend_outputs(cls, a, b, t: float) -> nn.Module:
    return a if t == 0.0 else b if t == 1.0 else StyleMix([a, b], [1.0 - t, t])


StyleNet.blend_outputs = classmethod(_blend_outputs)


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """``"starry:0.6,wave:0.4"`` -> ``[("starry", 0.6), ("wave", 0.4)]``; a bare name has weight 1."""
    parts = []
    for item in filter(None, (p.strip() for p in spec.split(","))):
        m = _WEIGHTED.match(item)
        name, weight = (m["name"], float(m["weight"])) if m else (item, 1.0)
        parts.append((name.rstrip("/") or name, weight))
    if not parts:
        raise ConfigError(f"style {spec!r} names no style; give a zoo name, a folder, or 'a:0.6,b:0.4'")
    if sum(w for _, w in parts) <= 0:
        raise ConfigError(f"style blend {spec!r}: the weights must not all be zero")
    return parts


def load_style(name_or_path) -> StyleNet:
    model = Process.from_pretrained(locate(name_or_path))
    if not isinstance(model, StyleNet):
        raise ConfigError(f"{name_or_path} holds a {type(model).__name__}, not a style model (StyleNet)")
    return model


def resolve_style(style, blend_mode: str = "auto") -> nn.Module:
    """The network ``style=`` names: a ``StyleNet``/module, a zoo name or folder, or a weighted blend of them.

    A blend of compatible models interpolates their weights (``blend_mode="weights"``, the default when they share
    a config); ``"outputs"`` mixes their pictures instead."""
    if isinstance(style, nn.Module):
        return style.eval()
    if not isinstance(style, str):
        raise ConfigError(f"style= takes a zoo name, a folder, 'a:0.6,b:0.4' or a StyleNet, got {type(style).__name__}")
    parts = parse_blend(style)
    nets = [load_style(name) for name, _ in parts]
    if len(nets) == 1:
        return nets[0]
    return mix_styles(nets, [w for _, w in parts], blend_mode)


def mix_styles(nets, weights, blend_mode: str = "auto") -> nn.Module:
    """One network for a weighted mix of style networks (weights normalised to sum 1)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(nets),) or weights.sum() <= 0 or (weights < 0).any():
        raise ConfigError(f"style weights must be {len(nets)} non-negative numbers, not all zero; got {weights}")
    weights = weights / weights.sum()
    keep = [i for i, w in enumerate(weights) if w > 0]
    nets, weights = [nets[i] for i in keep], weights[keep]
    if len(nets) == 1:
        return nets[0]
    mode = blend_mode
    if mode == "auto":
        mode = "weights" if all(nets[0].compatible(n) for n in nets[1:]) else "outputs"
    if mode == "outputs":
        return StyleMix(nets, weights).eval()
    if mode != "weights":
        raise ConfigError(f"blend_mode must be 'auto', 'weights' or 'outputs', got {blend_mode!r}")
    out, acc = nets[0], weights[0]
    for net, w in zip(nets[1:], weights[1:]):  # a running weighted average: exact for any number of styles
        acc += w
        out = Process.blend(out, net, float(w / acc), mode="weights")
    return out


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
