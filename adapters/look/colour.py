"""Colour math of the looks: sRGB <-> linear light <-> CIELAB, LUT grids, and the parametric look table.

``LOOK_PARAMS`` names the look parameters (the ``controls:filter`` node) with their physical ranges;
``look_table(params)`` builds the colour part of a look on an N^3 grid of sRGB colours.
"""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError

CUBE_SIZES = (17, 33, 65)  # the sizes editors use; any 2..256 is read
DEFAULT_SIZE = 33

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
