"""Music -> colour look, trainable: ``PerceptualToFilter`` is the torch form of ``bridges/look_map.py``.

Train it, save it, fine-tune it like any process; the audio -> filter route runs the same math in numpy
(``LookMap``: the research-initialised weights, or this module's trained ones via ``LookMap.from_pretrained``).
The research behind the initial weights is listed in ``bridges/look_map.py`` and ``docs/filter.md``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xmedia.adapters.perceptual import AXES
from xmedia.embedding import Embedding
from xmedia.errors import MediaError

from .base import Bridge
from .look_map import PARAM_NAMES, LookMap, initial_parameters, look_track, smooth_track

__all__ = ["PerceptualToFilter", "look_track", "smooth_track"]


class PerceptualToFilter(Bridge):
    """Perceptual axes (B, 8) in [0, 1] -> look parameters (B, P) in physical units (``LOOK_PARAMS``).

    Same math as ``LookMap`` (see there); call it on an ``Embedding`` to get a ``Look`` (``run``), on a tensor to
    get a tensor (``forward``).
    """

    src = "space:perceptual"
    dst = "controls:filter"

    def __init__(self, amount: float = 1.0, silence_energy: float = 0.03, gate_width: float = 0.07,
                 smoothing_s: float = 0.35):
        super().__init__()
        self.param_names = PARAM_NAMES
        self.amount, self.silence_energy, self.gate_width = float(amount), float(silence_energy), float(gate_width)
        self.smoothing_s = float(smoothing_s)
        self.linear = nn.Linear(len(AXES), len(self.param_names))
        init = initial_parameters()
        for name in ("low", "high", "neutral"):
            self.register_buffer(name, torch.from_numpy(init[name]))
        self.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()})
        self.card = {
            "description": "Music -> colour look. Untrained: weights implement Palmer et al. 2013 and "
                           "Whiteford et al. 2018 (see docs/filter.md).",
            "data": "none (research-initialised)",
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.isfinite(x).all():
            raise MediaError("the perceptual features contain NaN/inf; the audio must be finite "
                             "(clean it with np.nan_to_num before encoding)")
        t = torch.tanh(self.amount * self.linear(x - 0.5))
        energy = x[..., AXES.index("energy")]
        gate = torch.clamp((energy - self.silence_energy) / self.gate_width, 0.0, 1.0)
        gate = gate * gate * (3 - 2 * gate)  # smoothstep
        t = t * gate[..., None]
        return self.neutral + torch.where(t > 0, t * (self.high - self.neutral), t * (self.neutral - self.low))

    def numpy_map(self) -> LookMap:
        """The same map in numpy, with this module's weights and settings."""
        return LookMap(self.amount, self.silence_energy, self.gate_width, self.smoothing_s,
                       parameters={k: v.detach().cpu().numpy() for k, v in self.state_dict().items()})

    def params(self, axes: np.ndarray) -> np.ndarray:
        """numpy (..., 8) -> numpy (..., P), without gradients."""
        return self.numpy_map().params(axes)

    def run(self, embedding: Embedding, smoothing_s: float | None = None):
        """An ``Embedding`` -> ``Look`` (see ``LookMap.run``), with this module's current weights."""
        return self.numpy_map().run(embedding, smoothing_s=smoothing_s)
