"""``Filter``: a 3D colour LUT plus spatial touches (clarity, blur, sharpen, vignette, grain).

A ``Filter`` applies to an ``Image`` or a ``Video`` (frames lazily, audio kept) with trilinear or tetrahedral
interpolation, has a ``strength`` (0 = identity, 1 = full), blends with another ``Filter`` and saves through
``xmedia.formats`` (``.cube``, Hald CLUT ``.png``: ``xmedia.adapters.look.formats``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from xmedia import formats
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Frame, Image, Video

from .colour import DEFAULT_SIZE, identity_table, look_table
from .kernel import INTERPOLATIONS, TableKernel, apply_kernel, resample_table

SPATIAL_FIELDS = ("clarity_percent", "sharpen_percent", "sharpen_radius_px", "blur_sigma_px", "grain_percent",
                  "grain_size_px", "vignette_stops")
# Amounts scale with strength; sizes/radii do not.
_SPATIAL_AMOUNTS = ("clarity_percent", "sharpen_percent", "blur_sigma_px", "grain_percent", "vignette_stops")


def apply_spatial(rgb: np.ndarray, params: dict[str, float], seed: int = 0) -> np.ndarray:
    """Clarity, blur/sharpen, vignette and grain on float32 RGB (H, W, 3) in [0, 1]; returns a new array."""
    import cv2

    out = rgb.astype(np.float32, copy=True)
    h, w = out.shape[:2]
    if params.get("clarity_percent", 0):
        # Local contrast: unsharp mask with a radius of 2% of the diagonal, blurred at low resolution (fast).
        small_side = 96
        s = small_side / max(h, w)
        small = cv2.resize(out, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        sigma = 0.02 * np.hypot(small.shape[0], small.shape[1])
        base = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma), (w, h), interpolation=cv2.INTER_LINEAR)
        out += params["clarity_percent"] / 100.0 * (out - base)
    if params.get("blur_sigma_px", 0) > 0:
        out = cv2.GaussianBlur(out, (0, 0), params["blur_sigma_px"])
    if params.get("sharpen_percent", 0):
        radius = max(0.3, params.get("sharpen_radius_px", 1.0))
        out += params["sharpen_percent"] / 100.0 * (out - cv2.GaussianBlur(out, (0, 0), radius))
    if params.get("vignette_stops", 0):
        yy, xx = np.ogrid[:h, :w]
        r2 = ((xx - (w - 1) / 2) / (w / 2)) ** 2 + ((yy - (h - 1) / 2) / (h / 2)) ** 2  # 2 at the corners
        gain = np.exp2(-params["vignette_stops"] * (r2 / 2.0) ** 1.5).astype(np.float32)
        out *= gain[:, :, None]
    if params.get("grain_percent", 0) > 0:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((h, w), dtype=np.float32)
        size = params.get("grain_size_px", 1.0)
        if size > 0.5:
            noise = cv2.GaussianBlur(noise, (0, 0), size)
            noise /= max(float(noise.std()), 1e-6)
        out += (params["grain_percent"] / 100.0) * noise[:, :, None]
    return np.clip(out, 0.0, 1.0, out=out)


def _as_table(table) -> np.ndarray:
    t = np.asarray(table, dtype=np.float32)
    if t.ndim != 4 or t.shape[3] != 3 or not (t.shape[0] == t.shape[1] == t.shape[2]):
        raise MediaError(f"a LUT table must be (N, N, N, 3), got shape {t.shape}")
    if not 2 <= t.shape[0] <= 256:
        raise MediaError(f"a LUT size must be 2..256, got {t.shape[0]}")
    if not np.isfinite(t).all():
        raise MediaError("the LUT contains NaN/inf values")
    return t


@dataclass(frozen=True, eq=False)
class Filter:
    """A colour look: a 3D LUT ``table[r, g, b] -> (r, g, b)`` plus optional spatial parameters.

    ``filter(image)`` / ``filter(video)`` applies it; ``strength`` blends with the identity (0 = no change,
    1 = the full look; the LUT is linear in its entries so a blended LUT equals a blended result).
    ``domain_min``/``domain_max`` are the input range the LUT covers (``.cube`` DOMAIN_MIN/MAX).
    Spatial parameters are applied after the LUT: clarity, blur, sharpen, vignette, grain.
    """

    table: np.ndarray
    strength: float = 1.0
    title: str = ""
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    clarity_percent: float = 0.0
    sharpen_percent: float = 0.0
    sharpen_radius_px: float = 1.0
    blur_sigma_px: float = 0.0
    grain_percent: float = 0.0
    grain_size_px: float = 1.0
    vignette_stops: float = 0.0
    grain_seed: int = 0
    look: dict | None = field(default=None, repr=False)  # the parameters and features that made it (reports)
    KIND = "filter"

    def __post_init__(self):
        t = _as_table(self.table)
        t.flags.writeable = False
        object.__setattr__(self, "table", t)
        lo, hi = tuple(float(v) for v in self.domain_min), tuple(float(v) for v in self.domain_max)
        if len(lo) != 3 or len(hi) != 3 or any(a >= b for a, b in zip(lo, hi)):
            raise MediaError(f"DOMAIN_MIN {lo} must be below DOMAIN_MAX {hi} in every channel")
        object.__setattr__(self, "domain_min", lo)
        object.__setattr__(self, "domain_max", hi)
        s = float(self.strength)
        if not np.isfinite(s) or not 0.0 <= s <= 2.0:
            raise ConfigError(f"strength must be in [0, 2] (0 = identity, 1 = full), got {self.strength!r}")
        object.__setattr__(self, "strength", s)
        for name in SPATIAL_FIELDS:
            v = float(getattr(self, name))
            if not np.isfinite(v):
                raise ConfigError(f"{name} must be finite, got {v!r}")
            object.__setattr__(self, name, v)
        if self.blur_sigma_px < 0 or self.grain_percent < 0 or self.grain_size_px < 0:
            raise ConfigError("blur_sigma_px, grain_percent and grain_size_px must be >= 0")
        object.__setattr__(self, "_kernels", {})

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def identity(cls, size: int = DEFAULT_SIZE, **kwargs) -> "Filter":
        lo, hi = kwargs.get("domain_min", (0, 0, 0)), kwargs.get("domain_max", (1, 1, 1))
        return cls(identity_table(size, lo, hi), **kwargs)

    @classmethod
    def from_look(cls, params: dict[str, float], size: int = DEFAULT_SIZE, title: str = "", **extra) -> "Filter":
        """A Filter from look parameters (``LOOK_PARAMS``): the colour ones build the LUT, the rest are spatial."""
        colour = {k: v for k, v in params.items() if k not in SPATIAL_FIELDS}
        spatial = {k: float(v) for k, v in params.items() if k in SPATIAL_FIELDS}
        return cls(look_table(colour, size), title=title, **spatial, **extra)

    @classmethod
    def load(cls, path) -> "Filter":
        """Read a ``.cube`` (1D or 3D) or a Hald CLUT image (``.png``, ``.tif``; from xmedia or any other tool)."""
        return formats.load(path, kind="filter")

    # -- properties ----------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.table.shape[0])

    def spatial(self) -> dict[str, float]:
        """Spatial parameters at this strength (amounts scaled, sizes kept); zero ones left out."""
        out = {}
        for name in SPATIAL_FIELDS:
            v = getattr(self, name) * (self.strength if name in _SPATIAL_AMOUNTS else 1.0)
            if name in _SPATIAL_AMOUNTS and v == 0:
                continue
            out[name] = v
        return out if any(k in _SPATIAL_AMOUNTS for k in out) else {}

    def effective_table(self) -> np.ndarray:
        """The LUT at this strength: identity + strength * (table - identity)."""
        if self.strength == 1.0:
            return self.table
        ident = identity_table(self.size, self.domain_min, self.domain_max)
        return (ident + self.strength * (self.table - ident)).astype(np.float32)

    def with_strength(self, strength: float) -> "Filter":
        return dataclasses.replace(self, strength=strength)

    def _kernel(self, interpolation: str, scale: float) -> TableKernel:
        key = (interpolation, scale)
        if key not in self._kernels:
            self._kernels[key] = TableKernel(self.effective_table(), interpolation, self.domain_min, self.domain_max, scale)
        return self._kernels[key]

    # -- applying ------------------------------------------------------------------------------------------
    def apply_rgb(self, pixels: np.ndarray, interpolation: str = "tetrahedral", seed: int | None = None) -> np.ndarray:
        """Apply to an (H, W, 3|4) array (uint8, uint16 or float); alpha passes through; same dtype out."""
        if interpolation not in INTERPOLATIONS:
            raise ConfigError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        p = np.asarray(pixels)
        if p.ndim != 3 or p.shape[2] not in (3, 4):
            raise MediaError(f"expected (H, W, 3|4) pixels, got shape {p.shape}")
        if p.dtype not in (np.uint8, np.uint16):
            p = p.astype(np.float32)
        rgb = apply_kernel(np.ascontiguousarray(p[:, :, :3]), lambda s: self._kernel(interpolation, s))
        spatial = self.spatial()
        if spatial:
            top = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(rgb.dtype, 1.0)
            f = apply_spatial(rgb.astype(np.float32) / top, spatial, seed=self.grain_seed if seed is None else seed)
            rgb = np.clip(np.round(f * top), 0, top).astype(rgb.dtype) if top != 1.0 else f
        if p.shape[2] == 4:
            rgb = np.concatenate([rgb, p[:, :, 3:].astype(rgb.dtype)], axis=2)
        return rgb

    def __call__(self, x, interpolation: str = "tetrahedral"):
        """``Image`` -> ``Image``; ``Video`` -> ``Video`` (frames filtered lazily, audio kept); arrays -> arrays."""
        if isinstance(x, Image):
            return Image(self.apply_rgb(x.pixels, interpolation), color_space=x.color_space)
        if isinstance(x, Video):
            return filter_video(x, lambda f: self.apply_rgb(f.rgb, interpolation, seed=self.grain_seed + f.index))
        if isinstance(x, np.ndarray):
            return self.apply_rgb(x, interpolation)
        raise MediaError(f"a Filter applies to an Image, a Video or an (H, W, 3) array, not {type(x).__name__}")

    # -- combining -----------------------------------------------------------------------------------------
    def blend(self, other: "Filter", t: float) -> "Filter":
        """``(1 - t) * self + t * other`` of what each does at its strength (LUT and spatial amounts).

        The result has strength 1; ``other``'s LUT is resampled to this one's size if they differ.
        Both must share the input domain.
        """
        if not isinstance(other, Filter):
            raise ConfigError(f"blend takes another Filter, got {type(other).__name__}")
        t = float(t)
        if not 0.0 <= t <= 1.0:
            raise ConfigError(f"blend amount t must be in [0, 1], got {t}")
        if not (np.allclose(self.domain_min, other.domain_min) and np.allclose(self.domain_max, other.domain_max)):
            raise ConfigError("cannot blend LUTs with different DOMAIN_MIN/MAX; resample one first")
        a = self.effective_table()
        b = resample_table(other.effective_table(), self.size)
        mine, theirs = self.spatial(), other.spatial()
        spatial = {}
        for name in _SPATIAL_AMOUNTS:
            spatial[name] = (1 - t) * mine.get(name, 0.0) + t * theirs.get(name, 0.0)
        for name in ("sharpen_radius_px", "grain_size_px"):
            spatial[name] = (1 - t) * getattr(self, name) + t * getattr(other, name)
        title = self.title if t < 0.5 else other.title
        return Filter((1 - t) * a + t * b, title=title, domain_min=self.domain_min, domain_max=self.domain_max,
                      grain_seed=self.grain_seed, **spatial)

    def resized(self, size: int) -> "Filter":
        return dataclasses.replace(self, table=resample_table(self.table, size))

    # -- saving --------------------------------------------------------------------------------------------
    def save(self, path, **options) -> Path:
        """``.cube`` (Adobe/Resolve; ``size=``; spatial parameters kept as ``# xmedia:`` comments) or Hald
        CLUT ``.png`` (``level=``, ``bit_depth=``): see ``xmedia.adapters.look.formats``."""
        return formats.save(self, path, **options)

    def __repr__(self):
        sp = "".join(f", {k}={v:g}" for k, v in self.spatial().items() if k in _SPATIAL_AMOUNTS)
        title = f" {self.title!r}" if self.title else ""
        return f"Filter({self.size}^3{title}, strength={self.strength:g}{sp})"


def filter_video(video: Video, fn: Callable[[Frame], np.ndarray]) -> Video:
    """A Video whose frames are ``fn(frame)`` of the source's, decoded and filtered lazily; audio kept."""
    source_reader = video.iter_frames

    def reader(max_side=None, start=0, stop=None) -> Iterator[Frame]:
        for f in source_reader(max_side=max_side, start=start, stop=stop):
            yield Frame(f.index, f.time_s, fn(f))

    return Video(frames=None, fps=video.fps, pts=video.pts, time_base=video.time_base, audio=video.audio,
                 rotation_deg=video.rotation_deg, width=video.width, height=video.height, reader=reader,
                 source=video.source)
