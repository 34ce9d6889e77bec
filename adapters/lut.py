"""Colour looks: ``Filter`` (a 3D LUT plus spatial touches) and ``FilterTrack`` (a look that follows music).

A ``Filter`` holds a 3D colour LUT ``table[r, g, b] -> rgb`` (N x N x N x 3 float32) and optional spatial
parameters with their units in their names. It applies to an ``Image`` or a ``Video`` (frames lazily, audio
kept) with trilinear or tetrahedral interpolation, has a ``strength`` (0 = identity, 1 = full), blends with
another ``Filter`` and saves/loads as an Adobe/Resolve ``.cube`` (Adobe Cube LUT Specification 1.0) or a
Hald CLUT PNG. ``look_table(params)`` builds the LUT from named, physical look parameters (exposure in stops,
CIELAB shifts...), which is what the audio -> filter bridge (``xmedia.bridges.audio_filter``) predicts.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from xmedia.atomic import write_text
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Frame, Image, Video

CUBE_SIZES = (17, 33, 65)  # the sizes editors use; any 2..256 is read
DEFAULT_SIZE = 33
INTERPOLATIONS = ("tetrahedral", "trilinear")
SPATIAL_FIELDS = ("clarity_percent", "sharpen_percent", "sharpen_radius_px", "blur_sigma_px", "grain_percent",
                  "grain_size_px", "vignette_stops")
# Amounts scale with strength; sizes/radii do not.
_SPATIAL_AMOUNTS = ("clarity_percent", "sharpen_percent", "blur_sigma_px", "grain_percent", "vignette_stops")

# The look parameters (the "controls:filter" node): name -> (lowest, highest, neutral). Physical units.
LOOK_PARAMS: dict[str, tuple[float, float, float]] = {
    "exposure_stops": (-1.0, 1.0, 0.0),         # lightness: a gain of 2**stops in linear light
    "contrast_percent": (-40.0, 60.0, 0.0),     # S-curve around mid-grey on CIELAB L*
    "saturation_percent": (-70.0, 70.0, 0.0),   # CIELAB chroma scaled by 1 + p/100
    "yellow_blue_lab": (-14.0, 14.0, 0.0),      # CIELAB b* shift: + yellower, - bluer
    "red_green_lab": (-10.0, 10.0, 0.0),        # CIELAB a* shift: + redder, - greener
    "vignette_stops": (0.0, 0.8, 0.0),          # corner darkening
    "clarity_percent": (-30.0, 40.0, 0.0),      # local contrast
    "grain_percent": (0.0, 5.0, 0.0),           # film grain std, percent of full scale
    "sharpen_percent": (0.0, 80.0, 0.0),        # unsharp-mask amount
    "blur_sigma_px": (0.0, 1.5, 0.0),           # soft focus
}


# ---------------------------------------------------------------------------------------------- colour math
def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, None)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


_RGB2XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                     [0.0193339, 0.1191920, 0.9503041]])
_WHITE = _RGB2XYZ.sum(axis=1)  # D65


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> CIELAB (D65), float64."""
    xyz = srgb_to_linear(np.asarray(rgb, dtype=np.float64)) @ _RGB2XYZ.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) -> sRGB in [0, 1] (out-of-gamut colours clipped)."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    return np.clip(linear_to_srgb(xyz @ np.linalg.inv(_RGB2XYZ).T), 0.0, 1.0)


def identity_table(size: int = DEFAULT_SIZE, domain_min=(0, 0, 0), domain_max=(1, 1, 1)) -> np.ndarray:
    """The LUT that changes nothing: ``table[r, g, b] = (r, g, b)`` on the domain's grid."""
    lo, hi = np.asarray(domain_min, np.float32), np.asarray(domain_max, np.float32)
    g = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r_, g_, b_ = np.meshgrid(g, g, g, indexing="ij")
    return (lo + np.stack([r_, g_, b_], axis=-1) * (hi - lo)).astype(np.float32)


def look_table(params: dict[str, float], size: int = DEFAULT_SIZE) -> np.ndarray:
    """Build the colour part of a look on an N^3 grid of sRGB colours.

    Exposure acts in linear light (a photographer's stop); contrast is an S-curve on L* pivoting at mid-grey;
    saturation scales CIELAB chroma; the yellow-blue (b*) and red-green (a*) shifts are weighted towards the
    mid-tones so white stays white and black stays black (a grade, not a colour cast).
    """
    unknown = set(params) - set(LOOK_PARAMS)
    if unknown:
        raise ConfigError(f"unknown look parameter(s) {sorted(unknown)}; known: {list(LOOK_PARAMS)}")
    p = {k: float(params.get(k, v[2])) for k, v in LOOK_PARAMS.items()}
    rgb = identity_table(size).reshape(-1, 3).astype(np.float64)
    lin = srgb_to_linear(rgb) * 2.0 ** p["exposure_stops"]
    # Soft shoulder: highlights roll off instead of clipping hard when brightening.
    if p["exposure_stops"] > 0:
        lin = np.where(lin > 0.8, 0.8 + 0.2 * np.tanh((lin - 0.8) / 0.2), lin)
    lab = srgb_to_lab(linear_to_srgb(lin))
    L = lab[:, 0] / 100.0
    k = p["contrast_percent"] / 100.0
    s_curve = 0.5 + 0.5 * np.sin(np.pi * (np.clip(L, 0, 1) - 0.5))  # steeper in the middle
    lab[:, 0] = 100.0 * np.clip(L + k * (s_curve - L), 0, 1)
    lab[:, 1:] *= max(0.0, 1.0 + p["saturation_percent"] / 100.0)
    mid = 0.25 + 0.75 * np.sin(np.pi * np.clip(lab[:, 0] / 100.0, 0, 1))
    lab[:, 1] += p["red_green_lab"] * mid
    lab[:, 2] += p["yellow_blue_lab"] * mid
    return lab_to_srgb(lab).reshape(size, size, size, 3).astype(np.float32)


def resample_table(table: np.ndarray, size: int, interpolation: str = "tetrahedral") -> np.ndarray:
    """The same LUT sampled on another grid size (the domain is unchanged)."""
    if table.shape[0] == size:
        return table
    grid = identity_table(size).reshape(-1, 3)
    return apply_table(grid, table, interpolation).reshape(size, size, size, 3)


# ---------------------------------------------------------------------------------------------- applying
_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="xmedia-lut")
    return _POOL


class _Kernel:
    """Precomputed form of one LUT for fast interpolation of many pixels.

    Per cell (and, for tetrahedral, per ordering of the fractional parts) it stores the polynomial
    coefficients, so each pixel needs ONE row gather and a few multiply-adds, done channel-planar after a
    cv2 transpose (numpy is slow on an inner dimension of 3). For 8/16-bit input the cell offsets and
    fractions come from per-channel tables of 256/65536 entries, and the coefficients are pre-scaled to the
    output's integer range, so the only work left is gather, combine, clip.
    """

    def __init__(self, table: np.ndarray, interpolation: str, domain_min, domain_max, out_scale: float = 1.0):
        n = table.shape[0]
        self.n, self.interpolation = n, interpolation
        self.lo = np.asarray(domain_min, np.float64)
        self.span = np.asarray(domain_max, np.float64) - self.lo
        flat = table.reshape(-1, 3).astype(np.float64) * out_scale
        # Integer outputs: add 0.5 to every corner (weights sum to 1) so a plain truncation rounds.
        flat += 0.5 if out_scale > 1 else 0.0
        sr, sg, sb = n * n, n, 1
        self.strides = np.array([sr, sg, sb], np.int64)
        cells = np.arange(n**3)
        ok = (cells // sr < n - 1) & ((cells // sg) % n < n - 1) & (cells % n < n - 1)
        base = np.where(ok, cells, 0)
        c = lambda off: flat[base + off]  # noqa: E731
        if interpolation == "trilinear":
            self.per_cell = 1
            c000, c100, c010, c001 = c(0), c(sr), c(sg), c(sb)
            c110, c101, c011, c111 = c(sr + sg), c(sr + sb), c(sg + sb), c(sr + sg + sb)
            coef = [c000, c100 - c000, c010 - c000, c001 - c000, c110 - c100 - c010 + c000,
                    c101 - c100 - c001 + c000, c011 - c010 - c001 + c000,
                    c111 - c110 - c101 - c011 + c100 + c010 + c001 - c000]
            self.coef = np.concatenate(coef, axis=1).astype(np.float32)  # (N^3, 24)
        elif interpolation == "tetrahedral":
            # code = (fr >= fg) + 2 (fg >= fb) + 4 (fr >= fb) picks the tetrahedron; 8 slots, 6 possible.
            self.per_cell = 8
            rows = np.zeros((n**3, 8, 12), np.float32)
            for code in range(8):
                rg, gb, rb = code & 1, (code >> 1) & 1, (code >> 2) & 1
                largest = sr if (rg and rb) else (sg if gb else sb)
                smallest = sb if (gb and rb) else (sr if not rg else sg)
                c0, ca, cab, c1 = c(0), c(largest), c(sr + sg + sb - smallest), c(sr + sg + sb)
                rows[:, code] = np.concatenate([c0, ca - c0, cab - ca, c1 - cab], axis=1)
            self.coef = rows.reshape(-1, 12)
        else:
            raise ConfigError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        self._int_tables: dict[int, tuple] = {}

    def _index_tables(self, levels: int):
        """Per channel: cell offset (times per_cell) and fraction for every integer input code."""
        if levels not in self._int_tables:
            v = np.arange(levels, dtype=np.float64) / (levels - 1)
            offs, fracs = [], []
            for ch in range(3):
                i, f = self._split(v, ch)
                offs.append((i * self.strides[ch] * self.per_cell).astype(np.int32))
                fracs.append(f.astype(np.float32))
            self._int_tables[levels] = (offs, fracs)
        return self._int_tables[levels]

    def _split(self, v: np.ndarray, ch: int):
        x = np.clip((v - self.lo[ch]) / self.span[ch], 0.0, 1.0) * (self.n - 1)
        i = np.minimum(np.floor(x), self.n - 2)
        return i, x - i

    def _combine(self, idx: np.ndarray, fr, fg, fb) -> np.ndarray:
        import cv2

        rows = cv2.transpose(np.take(self.coef, idx, axis=0))  # (K*3, n), channel-planar
        out = np.empty((3, idx.size), np.float32)
        if self.per_cell == 8:
            x1 = np.maximum(np.maximum(fr, fg), fb)
            x3 = np.minimum(np.minimum(fr, fg), fb)
            x2 = fr + fg + fb - x1 - x3
            weights = (x1, x2, x3)
        else:
            frg = fr * fg
            weights = (fr, fg, fb, frg, fr * fb, fg * fb, frg * fb)
        for ch in range(3):
            o = out[ch]
            o[:] = rows[ch]
            for k, w in enumerate(weights, start=1):
                o += w * rows[3 * k + ch]
        return out

    def _codes(self, fr, fg, fb) -> np.ndarray:
        code = (fr >= fg).view(np.uint8) + ((fg >= fb).view(np.uint8) << 1)
        code += (fr >= fb).view(np.uint8) << 2
        return code

    def run_int(self, px: np.ndarray, levels: int) -> np.ndarray:
        offs, fracs = self._index_tables(levels)
        r, g, b = px[:, 0], px[:, 1], px[:, 2]
        fr, fg, fb = np.take(fracs[0], r), np.take(fracs[1], g), np.take(fracs[2], b)
        idx = np.take(offs[0], r) + np.take(offs[1], g)
        idx += np.take(offs[2], b)
        if self.per_cell == 8:
            idx += self._codes(fr, fg, fb)
        return self._combine(idx, fr, fg, fb)

    def run_float(self, px: np.ndarray) -> np.ndarray:
        x = (px - self.lo.astype(np.float32)) * ((self.n - 1) / self.span).astype(np.float32)
        np.clip(x, 0.0, self.n - 1, out=x)
        i = np.minimum(np.floor(x), self.n - 2)
        f = x - i
        fr, fg, fb = f[:, 0], f[:, 1], f[:, 2]
        i *= (self.strides * self.per_cell).astype(np.float32)  # exact: offsets stay below 2**24
        idx = (i[:, 0] + i[:, 1] + i[:, 2]).astype(np.int32)
        if self.per_cell == 8:
            idx += self._codes(fr, fg, fb)
        return self._combine(idx, fr, fg, fb)


def _run_chunks(px: np.ndarray, work: Callable[[np.ndarray, slice], None], chunk: int = 1 << 16) -> None:
    n = px.shape[0]
    slices = [slice(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    if len(slices) == 1:
        work(px, slices[0])
        return
    for f in [_pool().submit(work, px, s) for s in slices]:
        f.result()


def apply_kernel(pixels: np.ndarray, kernel_for: Callable[[float], _Kernel]) -> np.ndarray:
    """Apply to (..., 3) uint8 / uint16 / float32 pixels; the result has the input's dtype."""
    import cv2

    shape, dtype = pixels.shape, pixels.dtype
    px = np.ascontiguousarray(pixels.reshape(-1, 3))
    out = np.empty(px.shape, dtype if dtype in (np.uint8, np.uint16) else np.float32)
    if dtype in (np.uint8, np.uint16):
        levels = 256 if dtype == np.uint8 else 65536
        top = float(levels - 1)
        kernel = kernel_for(top)  # coefficients pre-scaled to 0..255 / 0..65535, plus 0.5

        def work(p, s):
            res = kernel.run_int(p[s], levels)  # already + 0.5: truncation below rounds to nearest
            np.clip(res, 0, top, out=res)
            out[s] = cv2.transpose(res.astype(dtype))

    else:
        kernel = kernel_for(1.0)

        def work(p, s):
            out[s] = kernel.run_float(p[s]).T

    _run_chunks(px, work)
    return out.reshape(shape)


def apply_table(pixels: np.ndarray, table: np.ndarray, interpolation: str = "tetrahedral",
                domain_min=(0, 0, 0), domain_max=(1, 1, 1)) -> np.ndarray:
    """Interpolate ``table`` at every pixel (..., 3); uint8/uint16 stay integer, anything else -> float32."""
    pixels = np.asarray(pixels)
    if pixels.dtype not in (np.uint8, np.uint16):
        pixels = pixels.astype(np.float32)
    return apply_kernel(pixels, lambda scale: _Kernel(table, interpolation, domain_min, domain_max, scale))


# ---------------------------------------------------------------------------------------------- spatial
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


# ---------------------------------------------------------------------------------------------- Filter
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
        """Read a ``.cube`` (1D or 3D) or a Hald CLUT image (``.png``, ``.tif``)."""
        path = Path(path)
        if not path.is_file():
            raise MediaError(f"{path}: no such file")
        if path.suffix.lower() == ".cube":
            from .lut_formats import read_cube

            return read_cube(path)
        if path.suffix.lower() in (".png", ".tif", ".tiff"):
            from .lut_formats import read_hald

            return read_hald(path)
        raise MediaError(f"{path}: unknown LUT format {path.suffix!r}; use .cube or a Hald CLUT .png")

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

    def _kernel(self, interpolation: str, scale: float) -> _Kernel:
        key = (interpolation, scale)
        if key not in self._kernels:
            self._kernels[key] = _Kernel(self.effective_table(), interpolation, self.domain_min, self.domain_max, scale)
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
        """``.cube`` (Adobe/Resolve; spatial parameters kept as ``# xmedia:`` comments) or Hald ``.png``."""
        path = Path(path)
        ext = path.suffix.lower()
        if ext == ".cube":
            from .lut_formats import write_cube

            return write_cube(self, path, **options)
        if ext in (".png", ".tif", ".tiff"):
            from .lut_formats import write_hald

            return write_hald(self, path, **options)
        raise MediaError(f"{path}: a Filter saves as .cube or as a Hald CLUT .png, not {ext!r}")

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


# ---------------------------------------------------------------------------------------------- Look / track
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

    @classmethod
    def from_audio(cls, audio: Audio, bridge=None, **kwargs) -> "FilterTrack":
        """The look track of a soundtrack (e.g. to grade a video with music you add to it)."""
        from xmedia.adapters.perceptual import encode_audio

        return cls(_default_bridge(bridge).look(encode_audio(audio)), **kwargs)

    def filter_at(self, time_s: float) -> Filter:
        return Filter.from_look(self.look.params_at(time_s), self.lut_size, strength=self.strength,
                                grain_seed=self.grain_seed)

    def pooled(self, size: int = DEFAULT_SIZE) -> Filter:
        """One static Filter from the pooled parameters."""
        return Filter.from_look(self.look.params, size, strength=self.strength, look=_look_info(self.look))

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
        """``.json``: the parameter track; ``.cube`` / ``.png``: the pooled look as a static LUT."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            import json

            d = {"rate_hz": str(self.look.rate_hz), "start_s": str(self.look.start_s), "lut_size": self.lut_size,
                 "strength": self.strength, "params": self.look.params, "param_names": list(self.look.param_names),
                 "track": np.round(self.look.track, 5).tolist()}
            return write_text(path, json.dumps(d))
        return self.pooled(options.pop("size", DEFAULT_SIZE)).save(path, **options)

    def __repr__(self):
        n = self.look.track.shape[0]
        return f"FilterTrack({n} steps at {self.look.rate_hz} Hz, lut_size={self.lut_size}, strength={self.strength:g})"


def _look_info(look: Look) -> dict:
    return {"params": dict(look.params), "features": dict(look.features or {}), "source": look.source}


_BRIDGE = None


def _default_bridge(bridge=None):
    global _BRIDGE
    if bridge is not None:
        return bridge
    if _BRIDGE is None:
        from xmedia.bridges.audio_filter import PerceptualToFilter

        _BRIDGE = PerceptualToFilter().eval()
    return _BRIDGE


def decode_look(look: Look, lut_size: int = DEFAULT_SIZE, strength: float = 1.0, time_varying: bool | None = None,
                title: str | None = None):
    """``Look`` -> ``Filter`` (static) or ``FilterTrack`` (time-varying; default for a video's own soundtrack)."""
    if not isinstance(look, Look):
        raise MediaError(f"the lut decoder takes a Look (controls:filter), got {type(look).__name__}")
    if lut_size not in CUBE_SIZES:
        raise ConfigError(f"lut_size must be one of {CUBE_SIZES}, got {lut_size}")
    if time_varying is None:
        time_varying = look.source == "video" and look.track is not None
    if time_varying:
        if look.track is None:
            raise ConfigError("time_varying=True needs time-based input (audio or a video's soundtrack)")
        return FilterTrack(look, strength=strength)
    name = title if title is not None else f"xmedia look from {look.source or 'input'}"
    return Filter.from_look(look.params, lut_size, title=name, strength=strength, look=_look_info(look))


def _bridge_step(emb, smoothing_s: float | None = None):
    return _default_bridge().look(emb, smoothing_s=smoothing_s)


def _soundtrack_step(video: Video):
    """A video's own soundtrack in the perceptual space, marked as coming from a video (time-varying look)."""
    from xmedia.adapters.perceptual import encode_audio

    if video.audio is None:
        raise MediaError("this video has no soundtrack: give an audio file, or a video with sound")
    return encode_audio(video.audio).replace(source="video")


def register(registry):
    registry.register("lut", "controls:filter", "filter", lambda: decode_look, cost=0.1, kind="decoder",
                      options=("lut_size", "strength", "time_varying", "title"),
                      description="look parameters -> Filter (3D LUT + spatial) or FilterTrack (follows the music)")
    registry.register("audio-filter", "space:perceptual", "controls:filter", lambda: _bridge_step, cost=0.2,
                      kind="bridge", options=("smoothing_s",), only_for=("filter",),
                      description="perceptual axes -> colour look (Palmer et al. 2013; Whiteford et al. 2018)")
    registry.register("lut-soundtrack", "video", "space:perceptual", lambda: _soundtrack_step, cost=0.4,
                      kind="encoder", only_for=("filter",), accepts=lambda v: getattr(v, "audio", None) is not None,
                      description="a video's soundtrack -> perceptual space, so its look follows the music")
