"""Music -> colour look, evaluated in numpy (what the audio -> filter route runs; no torch).

The math is that of ``PerceptualToFilter`` (``bridges/audio_filter.py``, the trainable torch module):
``z = W (x - 0.5) + b``; each parameter is ``neutral + tanh(amount z) * (high - neutral)`` for z > 0 and
``neutral + tanh(amount z) * (neutral - low)`` for z < 0, times a smoothstep silence gate on ``energy``.
``LookMap()`` holds the research-initialised weights, ``LookMap.from_pretrained(dir_or_name)`` those of a trained
``PerceptualToFilter``.

Its initial weights implement what music-colour research found, so it works untrained and can be fine-tuned:

- Palmer, Schloss, Xu & Prado-Leon 2013 (PNAS 110:8836): faster, major-mode music -> lighter, more saturated,
  yellower colours; slower, minor -> darker, desaturated, bluer (mediated by emotion). Here ``pace`` and
  ``valence`` (the encoder's major-vs-minor score with brightness and pace) drive exposure, saturation and
  the CIELAB b* (yellow-blue) shift.
- Whiteford, Schloss, Helwig & Palmer 2018 (i-Perception 9(6)): louder, more energetic music -> more
  saturated, redder, darker. Here ``energy`` (loudness) and ``onset`` (punch) raise saturation and the a*
  (red) shift and pull exposure down.
- Marks 1974/1987, Spence 2011: brighter timbre (spectral centroid) and higher pitch go with lighter colour:
  ``brightness`` raises exposure. Rough, noisy, sharp-attack sounds go with jagged, high-contrast visuals
  (Ramachandran & Hubbard 2001): ``texture`` and ``onset`` raise contrast, clarity, grain and sharpening;
  smooth, slow sounds soften (a little blur).

Where the two studies disagree (lightness: faster -> lighter, louder -> darker), both terms are kept and
the sum decides; ``docs/filter.md`` says which comparisons the real recordings support.
Silence (energy ~ 0, below about -57 dBFS) gives the neutral look: every parameter is gated to neutral.
"""
from __future__ import annotations

import numpy as np

from xmedia.adapters.look import LOOK_PARAMS, FilterTrack, Look
from xmedia.adapters.perceptual import AXES, encode_audio
from xmedia.embedding import Embedding
from xmedia.errors import MediaError, WeightsError
from xmedia.media import Audio
from xmedia.pretrained import load_arrays

# Initial weights: parameter <- {axis: weight} on axes centred at 0.5. tanh(z) then scales to the range
# (LOOK_PARAMS in xmedia.adapters.look). Units of z: about +-1 = most of the range.
RESEARCH_WEIGHTS: dict[str, dict[str, float]] = {
    # Palmer 2013: faster & major -> lighter; Marks: bright timbre -> lighter; Whiteford 2018: louder -> darker.
    "exposure_stops": {"pace": 1.0, "valence": 1.6, "brightness": 0.6, "energy": -0.8},
    # Palmer: faster & major -> more saturated; Whiteford: louder, punchier -> more saturated.
    "saturation_percent": {"pace": 0.9, "valence": 1.2, "energy": 1.4, "onset": 0.5},
    # Palmer: faster & major -> yellower, slower & minor -> bluer; timbral warmth adds a little.
    "yellow_blue_lab": {"pace": 1.0, "valence": 2.0, "warmth": 0.3},
    # Whiteford: louder, more energetic -> redder.
    "red_green_lab": {"energy": 1.6, "onset": 0.6, "warmth": 0.3},
    # Spence 2011 / bouba-kiki: punchy, rough sound -> hard, high-contrast image.
    "contrast_percent": {"onset": 0.9, "texture": 1.0, "energy": 0.6},
    # Minor, dark music -> a heavier, enclosing vignette (darkness is judged negative, Palmer 2013).
    "vignette_stops": {"valence": -1.6, "energy": 0.4, "pace": -0.4},
    "clarity_percent": {"texture": 1.2, "density": 0.8, "onset": 0.4},
    # Noisy, rough timbre (high spectral flatness) -> film grain. Bias puts the threshold at texture ~ 0.15.
    "grain_percent": {"texture": 3.0},
    "sharpen_percent": {"onset": 1.4, "texture": 0.8},
    # Smooth, slow sound -> soft focus.
    "blur_sigma_px": {"onset": -1.6, "pace": -0.8},
}
RESEARCH_BIAS: dict[str, float] = {"grain_percent": 1.05}


PARAM_NAMES = tuple(LOOK_PARAMS)
GATE_DEFAULTS = {"amount": 1.0, "silence_energy": 0.03, "gate_width": 0.07, "smoothing_s": 0.35}


def initial_parameters() -> dict[str, np.ndarray]:
    """The research weights, by the torch module's state-dict names."""
    weight = np.zeros((len(PARAM_NAMES), len(AXES)), np.float32)
    bias = np.zeros(len(PARAM_NAMES), np.float32)
    for p, row in RESEARCH_WEIGHTS.items():
        for axis, w in row.items():
            weight[PARAM_NAMES.index(p), AXES.index(axis)] = w
    for p, b in RESEARCH_BIAS.items():
        bias[PARAM_NAMES.index(p)] = b
    low, high, neutral = (np.array([LOOK_PARAMS[p][i] for p in PARAM_NAMES], np.float32) for i in range(3))
    return {"linear.weight": weight, "linear.bias": bias, "low": low, "high": high, "neutral": neutral}


class LookMap:
    """The route step ``perceptual-to-look``: ``run(embedding, smoothing_s=None) -> Look``; ``params(axes)`` maps
    (..., 8) perceptual axes to (..., P) look parameters in physical units (``LOOK_PARAMS``)."""

    src = "space:perceptual"
    dst = "controls:filter"
    param_names = PARAM_NAMES

    def __init__(self, amount: float = 1.0, silence_energy: float = 0.03, gate_width: float = 0.07,
                 smoothing_s: float = 0.35, parameters: dict | None = None):
        self.amount, self.silence_energy, self.gate_width = float(amount), float(silence_energy), float(gate_width)
        self.smoothing_s = float(smoothing_s)
        self.parameters = dict(parameters) if parameters is not None else initial_parameters()

    @classmethod
    def from_pretrained(cls, name_or_path) -> "LookMap":
        """The weights and settings of a saved ``PerceptualToFilter`` (a folder or a zoo name)."""
        cfg, arrays = load_arrays(name_or_path)
        if cfg.get("class") != "PerceptualToFilter" or set(arrays) != set(initial_parameters()):
            raise WeightsError(f"{name_or_path} holds a {cfg.get('class')}, not a PerceptualToFilter")
        settings = {k: cfg.get("config", {}).get(k, v) for k, v in GATE_DEFAULTS.items()}
        return cls(**settings, parameters=arrays)

    def params(self, axes: np.ndarray) -> np.ndarray:
        a = np.asarray(axes, dtype=np.float32)
        if not np.isfinite(a).all():
            raise MediaError("the perceptual features contain NaN/inf; the audio must be finite "
                             "(clean it with np.nan_to_num before encoding)")
        p = self.parameters
        t = np.tanh(self.amount * ((a - 0.5) @ p["linear.weight"].T + p["linear.bias"]))
        gate = np.clip((a[..., AXES.index("energy")] - self.silence_energy) / self.gate_width, 0.0, 1.0)
        t = t * (gate * gate * (3 - 2 * gate))[..., None]  # smoothstep
        out = p["neutral"] + np.where(t > 0, t * (p["high"] - p["neutral"]), t * (p["neutral"] - p["low"]))
        return out.astype(np.float32)

    def run(self, embedding: Embedding, smoothing_s: float | None = None) -> Look:
        """An ``Embedding`` (space "perceptual") -> ``Look``: pooled parameters and, with a track, a smoothed
        track (the parameters are smoothed, not only the features: the silence gate and tanh are non-linear)."""
        if embedding.space != "perceptual" or tuple(embedding.axes or ()) != AXES:
            raise MediaError(f"the look bridge needs a perceptual embedding with axes {AXES}, got space "
                             f"{embedding.space!r} with axes {embedding.axes}")
        vector = self.params(embedding.vector)
        track = None
        if embedding.track is not None:
            sigma_s = self.smoothing_s if smoothing_s is None else float(smoothing_s)
            track = smooth_track(self.params(embedding.track), float(embedding.rate_hz), sigma_s)
        return Look(dict(zip(self.param_names, map(float, vector))), features=embedding.as_dict(), track=track,
                    rate_hz=embedding.rate_hz if track is not None else None, start_s=embedding.start_s,
                    param_names=self.param_names, source=embedding.source, feature_track=embedding.track)

    __call__ = run


def smooth_track(track: np.ndarray, rate_hz: float, sigma_s: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing along time (no lag: the look changes with the music, not after it)."""
    if sigma_s <= 0 or track.shape[0] < 3:
        return np.asarray(track, dtype=np.float32)
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.asarray(track, np.float32), sigma=sigma_s * rate_hz, axis=0, mode="nearest")


def look_track(audio: Audio, bridge=None, **filter_track_options) -> FilterTrack:
    """The look track of a soundtrack (e.g. to grade a video with music you add to it).

    ``bridge`` (a ``LookMap`` or a ``PerceptualToFilter``) defaults to the research-initialised map;
    ``filter_track_options`` go to ``FilterTrack`` (``lut_size``, ``strength``, ``grain_seed``)."""
    bridge = LookMap() if bridge is None else bridge
    return FilterTrack(bridge.run(encode_audio(audio)), **filter_track_options)
