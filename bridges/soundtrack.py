"""Bridge: the perceptual space -> the embedded composer's controls (video -> soundtrack), trainable.

``PerceptualToComposer`` is the torch form of ``bridges/controls_map.py`` (a per-axis temporal smoother, a
linear mix, a sigmoid; initial weights from the cross-modal research listed there). Train it, save it, fine-tune
it like any process; the soundtrack route runs the same math in numpy (``ControlsMap``, no torch), with the
initial weights or, via ``ControlsMap.from_pretrained(dir)``, this module's trained ones.
``bridge(tensor)`` maps control tracks (``forward``, for training); ``bridge(embedding)`` gives
``ComposerControls`` (``run``).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from xmedia.adapters.composer import CONTROL_NAMES, ComposerControls
from xmedia.adapters.perceptual import AXES
from xmedia.embedding import Embedding

from .base import Bridge
from .controls_map import ControlsMap, initial_parameters, to_controls

__all__ = ["PerceptualToComposer", "ComposerControls", "to_controls"]


class PerceptualToComposer(Bridge):
    """(T, 8) perceptual track -> (T, 8) composer controls in [0, 1], one row per step.

    ``gain`` is the sigmoid's slope around each control's centre (the input level that maps to 0.5);
    ``smooth_steps`` the length of the per-axis smoothing kernel (a Hann window at initialisation).
    """

    src = "space:perceptual"
    dst = "controls:composer"

    def __init__(self, smooth_steps: int = 9, gain: float = 5.0):
        super().__init__()
        self.smooth_steps = int(smooth_steps) | 1
        self.smooth = nn.Conv1d(len(AXES), len(AXES), self.smooth_steps, groups=len(AXES), bias=False)
        self.mix = nn.Linear(len(AXES), len(CONTROL_NAMES))
        initial = {k: torch.from_numpy(v) for k, v in initial_parameters(self.smooth_steps, gain).items()}
        self.load_state_dict(initial)

    def forward(self, x):
        """``x``: a (T, 8) or (B, T, 8) tensor of perceptual tracks -> controls of the same shape."""
        squeeze = x.dim() == 2
        if squeeze:
            x = x.unsqueeze(0)
        pad = self.smooth_steps // 2
        h = F.pad(x.transpose(1, 2), (pad, pad), mode="replicate")
        h = self.smooth(h).transpose(1, 2)
        y = torch.sigmoid(self.mix(h))
        return y.squeeze(0) if squeeze else y

    def run(self, embedding: Embedding, duration_s=None) -> ComposerControls:
        """The controls of an embedding (see ``ControlsMap.run``), with this module's current weights."""
        return self.controls(embedding.timed(duration_s))

    def controls(self, embedding: Embedding) -> ComposerControls:
        """Run the module's weights on an embedding's track; read off tempo, key and mode; keep events exact."""
        return self.numpy_map().controls(embedding)

    def numpy_map(self) -> ControlsMap:
        """The same map in numpy, with this module's weights."""
        return ControlsMap(parameters={k: v.detach().cpu().numpy() for k, v in self.state_dict().items()})
