"""Typed, frozen, validated media containers.

Time is exact: rates are ``Fraction`` and video timestamps are integer ``pts`` in a ``time_base`` (as in PyAV),
so a timestamp never drifts. Arrays are made read-only, so a frozen object really is immutable and copying
one (``dataclasses.replace``) shares its buffers. ``Audio`` lives in ``media_audio``, the shared checks in
``media_base``; both are re-exported here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterator

import numpy as np

from . import limits
from .errors import MediaError
from .media_audio import Audio, AudioReader
from .media_base import (_check_finite, _frozen_array, _Media, as_fraction, media_types, register_medium,
                         registered_kind)

__all__ = ["Audio", "AudioReader", "Frame", "Image", "Motion", "Rig", "Text", "Video", "as_fraction", "downscale",
           "kind_of", "media_types", "register_medium"]


@dataclass(frozen=True, eq=False)
class Image(_Media):
    """Pixels ``(height, width, 3|4)`` as uint8, uint16 or float32 in [0, 1]; alpha is the 4th channel."""

    pixels: np.ndarray
    color_space: str = "srgb"
    KIND = "image"

    def __post_init__(self):
        p = np.asarray(self.pixels)
        if p.ndim == 2:
            p = np.repeat(p[:, :, None], 3, axis=2)
        if p.ndim != 3 or p.shape[2] not in (3, 4) or p.shape[0] < 1 or p.shape[1] < 1:
            raise MediaError(f"Image pixels must be (height, width, 3 or 4), got shape {np.shape(self.pixels)}")
        if p.dtype not in (np.uint8, np.uint16, np.float32):
            if p.dtype.kind == "f":
                p = p.astype(np.float32)
            else:
                raise MediaError(f"Image dtype must be uint8, uint16 or float32, got {p.dtype}")
        _check_finite(p, "Image pixels")
        limits.check_image(p.shape[1], p.shape[0])
        object.__setattr__(self, "pixels", _frozen_array(np.ascontiguousarray(p)))

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4

    def to_float(self) -> np.ndarray:
        """RGB(A) as float32 in [0, 1]."""
        p = self.pixels
        if p.dtype == np.uint8:
            return p.astype(np.float32) / 255.0
        if p.dtype == np.uint16:
            return p.astype(np.float32) / 65535.0
        return p.astype(np.float32)

    def rgb_uint8(self) -> np.ndarray:
        p = self.pixels[:, :, :3]
        if p.dtype == np.uint8:
            return p
        return np.clip(np.round(self.to_float()[:, :, :3] * 255), 0, 255).astype(np.uint8)

    def __repr__(self):
        return f"Image({self.width}x{self.height}, {self.pixels.dtype}, {self.pixels.shape[2]} ch)"


@dataclass(frozen=True, eq=False)
class Text(_Media):
    text: str
    language: str | None = None
    KIND = "text"

    def __post_init__(self):
        if not isinstance(self.text, str):
            raise MediaError(f"Text needs a str, got {type(self.text).__name__}")


@dataclass(frozen=True)
class Rig:
    """What a Motion's channels drive: a named skeleton or robot with per-joint position limits."""

    name: str
    joint_names: tuple[str, ...]
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()


@dataclass(frozen=True, eq=False)
class Motion(_Media):
    """A multichannel time series ``(T, C)`` sampled at ``rate_hz`` with named channels and units."""

    values: np.ndarray
    rate_hz: Fraction
    channels: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    rig: Rig | None = None
    start_s: Fraction = Fraction(0)
    KIND = "motion"

    def __post_init__(self):
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[1] < 1:
            raise MediaError(f"Motion values must be (T, channels), got shape {np.shape(self.values)}")
        _check_finite(v, "Motion values")
        channels = tuple(self.channels) or tuple(f"ch{i}" for i in range(v.shape[1]))
        units = tuple(self.units) or ("",) * v.shape[1]
        if len(channels) != v.shape[1] or len(units) != v.shape[1]:
            raise MediaError(
                f"Motion has {v.shape[1]} channels but {len(channels)} names and {len(units)} units were given"
            )
        object.__setattr__(self, "values", _frozen_array(v))
        rate = as_fraction(self.rate_hz, "Motion rate_hz")
        limits.check("rate_hz", rate, "Motion rate_hz")
        limits.check("duration_s", v.shape[0] / rate, f"Motion duration ({v.shape[0]} frames at {float(rate):g} Hz)")
        object.__setattr__(self, "rate_hz", rate)
        object.__setattr__(self, "start_s", as_fraction(self.start_s, "Motion start_s", positive=False))
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "units", units)

    @property
    def num_frames(self) -> int:
        return self.values.shape[0]

    @property
    def duration_s(self) -> Fraction:
        return self.num_frames / self.rate_hz

    def times_s(self) -> np.ndarray:
        return float(self.start_s) + np.arange(self.num_frames) / float(self.rate_hz)

    def channel(self, name: str) -> np.ndarray:
        try:
            return self.values[:, self.channels.index(name)]
        except ValueError:
            raise MediaError(f"Motion has no channel {name!r}; it has {list(self.channels)}") from None

    def __repr__(self):
        return f"Motion({self.num_frames} x {len(self.channels)} at {self.rate_hz} Hz, channels={list(self.channels)})"


@dataclass(frozen=True)
class Frame:
    """One decoded video frame: displayed orientation, RGB uint8, with its exact timestamp."""

    index: int
    time_s: Fraction
    rgb: np.ndarray


FrameReader = Callable[..., Iterator[Frame]]


@dataclass(frozen=True, eq=False)
class Video(_Media):
    """Frames with exact timestamps (``pts * time_base``), an optional audio track and the source rotation.

    ``frames`` is either an in-memory ``(T, H, W, 3)`` uint8 array or ``None`` for a file-backed video whose
    frames are decoded lazily by ``iter_frames`` (memory stays bounded however long the file is). Width and
    height are as displayed: a ``rotation_deg`` from the container has already been applied to the frames.
    """

    frames: np.ndarray | None
    fps: Fraction
    pts: np.ndarray | None = None
    time_base: Fraction | None = None
    audio: Audio | None = None
    rotation_deg: int = 0
    color_space: str = "srgb"
    width: int = 0
    height: int = 0
    reader: FrameReader | None = field(default=None, repr=False)
    source: str | None = None
    KIND = "video"

    def __post_init__(self):
        fps = as_fraction(self.fps, "Video fps")
        limits.check("fps", fps, "Video fps")
        object.__setattr__(self, "fps", fps)
        if self.frames is not None:
            f = np.asarray(self.frames)
            if f.ndim == 3:
                f = np.repeat(f[..., None], 3, axis=3)
            if f.ndim != 4 or f.shape[3] != 3:
                raise MediaError(f"Video frames must be (T, H, W, 3), got shape {np.shape(self.frames)}")
            if f.dtype != np.uint8:
                if f.dtype.kind != "f":
                    raise MediaError(f"Video frames must be uint8 or float in [0, 1], got {f.dtype}")
                _check_finite(f, "Video frames")
                f = np.clip(np.round(f * 255), 0, 255).astype(np.uint8)
            object.__setattr__(self, "frames", _frozen_array(f))
            object.__setattr__(self, "height", f.shape[1])
            object.__setattr__(self, "width", f.shape[2])
            n = f.shape[0]
        elif self.reader is None:
            raise MediaError("Video needs frames (an array) or a reader (a file-backed video)")
        else:
            n = None
        if self.pts is None:
            if n is None:
                raise MediaError("a file-backed Video needs pts")
            object.__setattr__(self, "pts", np.arange(n, dtype=np.int64))
            object.__setattr__(self, "time_base", 1 / fps)
        pts = _frozen_array(np.asarray(self.pts, dtype=np.int64))
        object.__setattr__(self, "pts", pts)
        object.__setattr__(self, "time_base", as_fraction(self.time_base, "Video time_base"))
        if pts.size == 0:
            raise MediaError(f"Video {self.source or ''} has no frames".replace("  ", " "))
        if n is not None and pts.size != n:
            raise MediaError(f"Video has {n} frames but {pts.size} timestamps")
        if pts.size > 1 and np.any(np.diff(pts) <= 0):
            raise MediaError("Video timestamps must increase strictly")
        if self.rotation_deg % 90:
            raise MediaError(f"rotation_deg must be a multiple of 90, got {self.rotation_deg}")
        if self.width <= 0 or self.height <= 0:
            raise MediaError("Video width and height must be positive")
        limits.check_image(self.width, self.height, f"{self.source or 'the video'} frame")
        limits.check("frames", pts.size, f"{self.source or 'the video'} frame count")
        limits.check("duration_s", self.duration_s, f"{self.source or 'the video'} duration")

    @classmethod
    def from_frames(cls, frames, fps=30, audio: Audio | None = None, **kwargs) -> "Video":
        return cls(frames=frames, fps=fps, audio=audio, **kwargs)

    @property
    def num_frames(self) -> int:
        return int(self.pts.size)

    def __len__(self):
        return self.num_frames

    def time_s(self, index: int) -> Fraction:
        return (int(self.pts[index]) - int(self.pts[0])) * self.time_base

    def times_s(self) -> np.ndarray:
        """Frame times in seconds from the first frame (float, for plotting and numerics)."""
        return (self.pts - self.pts[0]) * float(self.time_base)

    @property
    def duration_s(self) -> Fraction:
        """From the first frame's start to the last frame's end (the last frame lasts one nominal frame)."""
        return self.time_s(self.num_frames - 1) + 1 / self.fps

    @property
    def is_variable_frame_rate(self) -> bool:
        if self.num_frames < 3:
            return False
        d = np.diff(self.pts)
        return bool(d.max() - d.min() > max(1, 0.02 * np.median(d)))

    def iter_frames(self, max_side: int | None = None, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Yield frames in display order, optionally downscaled so the longer side is at most ``max_side``."""
        if self.frames is None:
            yield from self.reader(max_side=max_side, start=start, stop=stop)
            return
        for i in range(start, self.num_frames if stop is None else min(stop, self.num_frames)):
            rgb = self.frames[i]
            if max_side and max(rgb.shape[:2]) > max_side:
                rgb = downscale(rgb, max_side)
            yield Frame(i, self.time_s(i), rgb)

    def load_frames(self, max_side: int | None = None) -> np.ndarray:
        """All frames in memory (use ``iter_frames`` for long files)."""
        if self.frames is not None and not max_side:
            return self.frames
        return np.stack([f.rgb for f in self.iter_frames(max_side=max_side)])

    def frame(self, index: int) -> Image:
        for f in self.iter_frames(start=index, stop=index + 1):
            return Image(f.rgb)
        raise MediaError(f"frame {index} is out of range (0..{self.num_frames - 1})")

    def with_audio(self, audio: Audio | None) -> "Video":
        return dataclasses.replace(self, audio=audio)

    def __repr__(self):
        a = f", audio={self.audio!r}" if self.audio is not None else ""
        r = f", rotation={self.rotation_deg}" if self.rotation_deg else ""
        return f"Video({self.width}x{self.height}, {self.num_frames} frames, {self.fps} fps, {float(self.duration_s):.3f} s{r}{a})"


def downscale(rgb: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def kind_of(x: Any) -> str:
    """The route node kind of ``x``: its class's registered kind (``register_medium``, or a ``Medium`` subclass's
    ``KIND``), else its ``KIND`` attribute (intermediate values such as ``ComposerControls``)."""
    kind = registered_kind(type(x)) or getattr(x, "KIND", None)
    if not isinstance(kind, str):
        known = ", ".join(c.__name__ for c in media_types().values())
        raise MediaError(f"expected an xmedia object ({known}, ...), got {type(x).__name__}; a new medium subclasses "
                         "xmedia.media_base.Medium with a KIND, or is registered with register_medium")
    return kind
