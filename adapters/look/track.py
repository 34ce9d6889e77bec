"""``Look`` (the look parameters, pooled and over time) and ``FilterTrack`` (a look that follows the music)."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia import formats
from xmedia.errors import MediaError
from xmedia.media import Frame, Image, Video

from .colour import DEFAULT_SIZE, LOOK_PARAMS
from .filter import Filter, filter_video


@dataclass(frozen=True, eq=False)
class Look:
    """Look parameters (the ``controls:filter`` node): pooled ``params`` and, for time-based input, a ``track``.

    ``track`` is (T, P) over ``param_names`` at ``rate_hz`` (already smoothed by the bridge); ``features``
    and ``feature_track`` are the perceptual axes that drove it (for reports).
    """

    params: dict[str, float]
    features: dict[str, float] | None = None
    track: np.ndarray | None = None
    rate_hz: Fraction | None = None
    start_s: Fraction = Fraction(0)
    param_names: tuple[str, ...] = tuple(LOOK_PARAMS)
    source: str | None = None
    feature_track: np.ndarray | None = field(default=None, repr=False)
    KIND = "look"

    def __post_init__(self):
        bad = {k: v for k, v in self.params.items() if not np.isfinite(v)}
        if bad:
            raise MediaError(f"look parameters must be finite, got {bad}")
        if self.track is not None:
            t = np.asarray(self.track, dtype=np.float32)
            if t.ndim != 2 or t.shape[1] != len(self.param_names) or not np.isfinite(t).all():
                raise MediaError(f"a look track must be finite (T, {len(self.param_names)}), got shape {t.shape}")
            if self.rate_hz is None:
                raise MediaError("a look track needs rate_hz")
            object.__setattr__(self, "track", t)

    def params_at(self, time_s: float) -> dict[str, float]:
        """Parameters at a time (linear interpolation of the track; the pooled ones without a track)."""
        if self.track is None:
            return dict(self.params)
        pos = (float(time_s) - float(self.start_s)) * float(self.rate_hz)
        pos = min(max(pos, 0.0), self.track.shape[0] - 1)
        i = min(int(pos), self.track.shape[0] - 2) if self.track.shape[0] > 1 else 0
        w = pos - i if self.track.shape[0] > 1 else 0.0
        row = self.track[i] * (1 - w) + self.track[min(i + 1, self.track.shape[0] - 1)] * w
        return dict(zip(self.param_names, map(float, row)))

    def summary(self) -> dict:
        """The pooled parameters, the features that drove them and the source (what reports show)."""
        return {"params": dict(self.params), "features": dict(self.features or {}), "source": self.source}

    def times_s(self) -> np.ndarray:
        if self.track is None:
            return np.zeros(0)
        return float(self.start_s) + np.arange(self.track.shape[0]) / float(self.rate_hz)


@dataclass(frozen=True, eq=False)
class FilterTrack:
    """A look that follows the music: a ``Filter`` per frame, built from the look parameters at that time.

    ``track(video)`` filters every frame with the parameters at the frame's exact time (the look track was
    smoothed with zero phase, so it neither flickers nor lags); the video's audio is kept. ``lut_size``
    is the per-frame LUT size (17 is plenty for the smooth looks a parametric grade makes, and quick to build).
    """

    look: Look
    lut_size: int = 17
    strength: float = 1.0
    grain_seed: int = 0
    KIND = "filter"

    def __post_init__(self):
        if self.look.track is None:
            raise MediaError("a FilterTrack needs a Look with a track (time-based input)")
        Filter.identity(2, strength=self.strength)  # validates strength

    def filter_at(self, time_s: float) -> Filter:
        return Filter.from_look(self.look.params_at(time_s), self.lut_size, strength=self.strength,
                                grain_seed=self.grain_seed)

    def pooled(self, size: int = DEFAULT_SIZE) -> Filter:
        """One static Filter from the pooled parameters."""
        return Filter.from_look(self.look.params, size, strength=self.strength, look=self.look.summary())

    def __call__(self, x, interpolation: str = "tetrahedral"):
        if isinstance(x, Video):
            def fn(f: Frame) -> np.ndarray:
                filt = self.filter_at(float(f.time_s))
                return filt.apply_rgb(f.rgb, interpolation, seed=self.grain_seed + f.index)

            return filter_video(x, fn)
        if isinstance(x, Image):
            return self.pooled()(x, interpolation)
        raise MediaError(f"a FilterTrack applies to a Video (or an Image, with its pooled look), not {type(x).__name__}")

    def save(self, path, **options) -> Path:
        """``.json``: the parameter track (``xmedia.load`` reads it back); ``.cube`` / ``.png``: the pooled
        look as a static LUT (``size=`` for the ``.cube``)."""
        return formats.save(self, path, **options)

    def __repr__(self):
        n = self.look.track.shape[0]
        return f"FilterTrack({n} steps at {self.look.rate_hz} Hz, lut_size={self.lut_size}, strength={self.strength:g})"
