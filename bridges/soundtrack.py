"""Bridge: the perceptual space -> the embedded composer's controls (video -> soundtrack).

``PerceptualToComposer`` is a small torch module (a per-axis temporal smoother, a linear mix, a sigmoid) whose
initial weights encode the correspondences in ``../shared/design/crossmodal.md``:

- tempo <- pace (tempo <-> speed of visual motion, Spence 2011), a little energy;
- intensity <- energy (loudness <-> brightness/size, Stevens & Marks 1965; energetic music <-> saturated colour,
  Whiteford et al. 2018), density and onsets;
- brightness (filter cutoff) <- brightness and texture (spectral centroid is "bright" timbre, Grey 1977);
- register <- brightness, against warmth (higher pitch <-> lighter colour, Marks 1974/1987);
- valence (major vs minor) <- valence and brightness (light, yellow <-> major, fast: Palmer et al. 2013);
- roughness (noise, sharp attacks) <- texture (jagged <-> rough sound, Ramachandran & Hubbard 2001);
- density (notes per beat) <- density and pace; accent <- onset (rhythmic onsets <-> visual events).

Global choices (tempo in bpm, key, mode) are read off the controls by fixed rules in ``controls()``, so
training the module moves them too. The weights are trainable (``save_pretrained`` / ``from_pretrained``).
``bridge(tensor)`` maps control tracks (``forward``, for training); ``bridge(embedding)`` gives
``ComposerControls`` (``run``, the route step ``perceptual-to-composer``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.adapters.composer import (
    CONTROL_NAMES,
    NOTE_NAMES,
    TEMPO_RANGE_BPM,
    ComposerControls,
)
from xmedia.adapters.perceptual import AXES
from xmedia.embedding import Embedding
from xmedia.errors import MediaError

from .base import Bridge

# Initial mix: control <- {axis: weight}. Rows are normalised in __init__ (weights sum to 1 in magnitude).
INITIAL_MIX = {
    "tempo": {"pace": 1.0, "energy": 0.3},
    "intensity": {"energy": 1.0, "density": 0.3, "onset": 0.2},
    "brightness": {"brightness": 0.7, "texture": 0.3},
    "register": {"brightness": 0.8, "warmth": -0.2},
    "valence": {"valence": 1.0, "brightness": 0.3},
    "roughness": {"texture": 1.0},
    "density": {"density": 0.7, "pace": 0.3},
    "accent": {"onset": 1.0},
}
# The input level each control is centred on (mapped to 0.5): motion axes of everyday clips sit low (median
# energy/pace ~0.1-0.25 on the media in ../shared/media), the other axes are centred on their neutral 0.5.
INITIAL_CENTRE = {"tempo": 0.25, "intensity": 0.25, "density": 0.35, "accent": 0.3}
UNSMOOTHED = ("onset",)  # events stay sharp; every other axis is smoothed over ``smooth_steps``

__all__ = ["PerceptualToComposer", "ComposerControls", "to_controls"]


class PerceptualToComposer(Bridge):
    """(T, 8) perceptual track -> (T, 8) composer controls in [0, 1], one row per step.

    ``gain`` is the sigmoid's slope around each control's centre (``INITIAL_CENTRE``: the input level that
    maps to 0.5);
    ``smooth_steps`` the length of the per-axis smoothing kernel (a Hann window at initialisation).
    """

    src = "space:perceptual"
    dst = "controls:composer"

    def __init__(self, smooth_steps: int = 9, gain: float = 5.0):
        super().__init__()
        self.smooth_steps = int(smooth_steps) | 1
        self.smooth = nn.Conv1d(len(AXES), len(AXES), self.smooth_steps, groups=len(AXES), bias=False)
        self.mix = nn.Linear(len(AXES), len(CONTROL_NAMES))
        with torch.no_grad():
            hann = torch.hann_window(self.smooth_steps + 2, periodic=False)[1:-1]
            delta = torch.zeros(self.smooth_steps)
            delta[self.smooth_steps // 2] = 1
            for i, axis in enumerate(AXES):
                self.smooth.weight[i, 0] = delta if axis in UNSMOOTHED else hann / hann.sum()
            self.mix.weight.zero_()
            for r, name in enumerate(CONTROL_NAMES):
                row = INITIAL_MIX[name]
                norm = sum(abs(w) for w in row.values())
                for axis, w in row.items():
                    self.mix.weight[r, AXES.index(axis)] = gain * w / norm
                self.mix.bias[r] = -INITIAL_CENTRE.get(name, 0.5) * float(self.mix.weight[r].sum())

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
        """The route step: an embedding's controls; a photo or a phrase (no track) is scored as a mood held for
        ``duration_s`` seconds (default 10)."""
        return self.controls(embedding.timed(duration_s))

    @torch.no_grad()
    def controls(self, embedding: Embedding) -> ComposerControls:
        """Run the module on an embedding's track; read off tempo, key and mode; keep events exact."""
        track = _perceptual_track(embedding)
        y = self.forward(torch.from_numpy(np.array(track))).numpy().astype(np.float32)
        return to_controls(embedding, y, perceptual=track)


def to_controls(embedding: Embedding, y: np.ndarray, perceptual: np.ndarray | None = None) -> ComposerControls:
    """Package a (T, 8) control track (columns ``CONTROL_NAMES``, in [0, 1]) computed from ``embedding`` as
    ``ComposerControls``: global tempo, key and mode read off by fixed rules, events and timing kept exact.
    Any bridge to ``controls:composer`` (e.g. a trained ``MLPBridge``) can end with this."""
    y = np.asarray(y, dtype=np.float32)
    col = {n: y[:, i] for i, n in enumerate(CONTROL_NAMES)}
    lo, hi = TEMPO_RANGE_BPM
    tempo_bpm = round(lo + (hi - lo) * float(np.median(col["tempo"])))
    mode = "major" if float(col["valence"].mean()) >= 0.5 else "minor"
    # Brighter, higher-register pictures get a higher tonic (pitch <-> lightness, Marks 1987).
    root = int(np.clip(round(11 * float(col["register"].mean())), 0, 11))
    return ComposerControls(
        track=y, rate_hz=embedding.rate_hz, duration_s=embedding.duration_s, events_s=embedding.events_s,
        event_strengths=embedding.event_strengths, tempo_bpm=tempo_bpm, key=NOTE_NAMES[root], mode=mode,
        start_s=embedding.start_s, perceptual=perceptual,
    )


def _perceptual_track(embedding: Embedding) -> np.ndarray:
    if not isinstance(embedding, Embedding) or embedding.space != "perceptual":
        raise MediaError("PerceptualToComposer takes an Embedding of the perceptual space (xmedia.encode(video))")
    if embedding.track is None:
        raise MediaError(
            f"this input ({embedding.source or 'still medium'}) has no time to score (no track): a soundtrack "
            "needs a video (or audio/motion) clip of at least 2 frames, not a still image or text"
        )
    if embedding.num_steps < 2:
        raise MediaError(
            "the clip has a single frame: there is no motion or time to score; give a clip of at least 2 frames"
        )
    if embedding.duration_s is None or embedding.duration_s <= 0:
        raise MediaError("the clip has zero duration: there is nothing to score")
    axes = tuple(embedding.axes or ())
    if axes != AXES:
        missing = [a for a in AXES if a not in axes]
        if missing:
            raise MediaError(f"the embedding lacks perceptual axes {missing}; encode with xmedia.encode(x)")
        return np.ascontiguousarray(embedding.track[:, [axes.index(a) for a in AXES]], dtype=np.float32)
    return np.ascontiguousarray(embedding.track, dtype=np.float32)

