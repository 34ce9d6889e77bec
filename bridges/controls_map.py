"""The perceptual space -> the composer's controls, evaluated in numpy (what the soundtrack route runs).

The math is that of ``PerceptualToComposer`` (``bridges/soundtrack.py``, the trainable torch module): a per-axis
temporal smoother, a linear mix, a sigmoid. Running it needs a few small arrays, so the route does not import
torch: ``ControlsMap()`` holds the research-grounded initial weights, ``ControlsMap.from_pretrained(dir_or_name)``
the weights of a trained ``PerceptualToComposer`` (read with ``xmedia.pretrained.load_arrays``).

Initial weights encode the correspondences in ``../shared/design/crossmodal.md``:

- tempo <- pace (tempo <-> speed of visual motion, Spence 2011), a little energy;
- intensity <- energy (loudness <-> brightness/size, Stevens & Marks 1965; energetic music <-> saturated colour,
  Whiteford et al. 2018), density and onsets;
- brightness (filter cutoff) <- brightness and texture (spectral centroid is "bright" timbre, Grey 1977);
- register <- brightness, against warmth (higher pitch <-> lighter colour, Marks 1974/1987);
- valence (major vs minor) <- valence and brightness (light, yellow <-> major, fast: Palmer et al. 2013);
- roughness (noise, sharp attacks) <- texture (jagged <-> rough sound, Ramachandran & Hubbard 2001);
- density (notes per beat) <- density and pace; accent <- onset (rhythmic onsets <-> visual events).
"""
from __future__ import annotations

import numpy as np

from xmedia.adapters.composer import CONTROL_NAMES, NOTE_NAMES, TEMPO_RANGE_BPM, ComposerControls
from xmedia.adapters.perceptual import AXES
from xmedia.embedding import Embedding
from xmedia.errors import MediaError, WeightsError
from xmedia.pretrained import load_arrays

# Initial mix: control <- {axis: weight}. Rows are normalised (weights sum to 1 in magnitude) times the gain.
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
PARAMETERS = ("smooth.weight", "mix.weight", "mix.bias")  # the torch module's state-dict names


def initial_parameters(smooth_steps: int = 9, gain: float = 5.0) -> dict[str, np.ndarray]:
    """The research-grounded initial weights, by the torch module's state-dict names."""
    k = int(smooth_steps) | 1
    hann = np.hanning(k + 2)[1:-1]
    delta = np.zeros(k)
    delta[k // 2] = 1
    smooth = np.stack([delta if axis in UNSMOOTHED else hann / hann.sum() for axis in AXES])[:, None, :]
    weight = np.zeros((len(CONTROL_NAMES), len(AXES)))
    bias = np.zeros(len(CONTROL_NAMES))
    for r, name in enumerate(CONTROL_NAMES):
        row = INITIAL_MIX[name]
        norm = sum(abs(w) for w in row.values())
        for axis, w in row.items():
            weight[r, AXES.index(axis)] = gain * w / norm
        bias[r] = -INITIAL_CENTRE.get(name, 0.5) * weight[r].sum()
    return {"smooth.weight": smooth.astype(np.float32), "mix.weight": weight.astype(np.float32),
            "mix.bias": bias.astype(np.float32)}


def apply(parameters: dict[str, np.ndarray], track: np.ndarray) -> np.ndarray:
    """(T, 8) perceptual track -> (T, 8) controls in [0, 1]: replicate-padded depthwise smoothing, mix, sigmoid."""
    smooth = parameters["smooth.weight"][:, 0, :]
    k = smooth.shape[1]
    x = np.asarray(track, dtype=np.float32)
    padded = np.concatenate([np.repeat(x[:1], k // 2, 0), x, np.repeat(x[-1:], k // 2, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k, axis=0)  # (T, 8, k)
    h = np.einsum("tak,ak->ta", windows, smooth)
    z = h @ parameters["mix.weight"].T + parameters["mix.bias"]
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


class ControlsMap:
    """The route step ``perceptual-to-composer``: ``run(embedding, duration_s=None) -> ComposerControls``."""

    src = "space:perceptual"
    dst = "controls:composer"

    def __init__(self, smooth_steps: int = 9, gain: float = 5.0, parameters: dict | None = None):
        self.parameters = dict(parameters) if parameters is not None else initial_parameters(smooth_steps, gain)

    @classmethod
    def from_pretrained(cls, name_or_path) -> "ControlsMap":
        """The weights of a saved ``PerceptualToComposer`` (a folder or a zoo name)."""
        cfg, arrays = load_arrays(name_or_path)
        if cfg.get("class") != "PerceptualToComposer" or set(arrays) != set(PARAMETERS):
            raise WeightsError(f"{name_or_path} holds a {cfg.get('class')}, not a PerceptualToComposer")
        return cls(parameters=arrays)

    def run(self, embedding: Embedding, duration_s=None) -> ComposerControls:
        """An embedding's controls; a photo or a phrase (no track) is scored as a mood held for ``duration_s``
        seconds (default 10)."""
        return self.controls(embedding.timed(duration_s))

    __call__ = run

    def controls(self, embedding: Embedding) -> ComposerControls:
        """The controls of an embedding's track, with tempo, key and mode read off and events kept exact."""
        track = perceptual_track(embedding)
        return to_controls(embedding, apply(self.parameters, track), perceptual=track)


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


def perceptual_track(embedding: Embedding) -> np.ndarray:
    """The (T, 8) perceptual track of an embedding, columns in ``AXES`` order; a clear error for what has none."""
    if not isinstance(embedding, Embedding) or embedding.space != "perceptual":
        raise MediaError("the composer's bridge takes an Embedding of the perceptual space (xmedia.encode(video))")
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
