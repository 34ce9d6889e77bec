"""What every media container shares: exact rates, read-only arrays, the NaN check, ``save`` and ``replace``."""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from . import formats
from .errors import MediaError


def as_fraction(value, name: str, positive: bool = True) -> Fraction:
    """A rate or time as an exact Fraction (floats are rounded to the nearest ratio of small integers)."""
    try:
        frac = value if isinstance(value, Fraction) else Fraction(value).limit_denominator(1_000_000)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise MediaError(f"{name} must be a number or Fraction, got {value!r}") from exc
    if positive and frac <= 0:
        raise MediaError(f"{name} must be positive, got {value!r}")
    return frac


def _frozen_array(arr: np.ndarray) -> np.ndarray:
    if arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


def _all_finite(arr: np.ndarray, block: int = 1 << 20) -> bool:
    """Checked a block of rows at a time: a long clip's check needs no full-length mask."""
    if arr.ndim == 0:
        return bool(np.isfinite(arr))
    return all(np.isfinite(arr[a : a + block]).all() for a in range(0, len(arr), block))


def _check_finite(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind == "f" and not _all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise MediaError(f"{what} contains {bad} NaN/inf values; clean the data (np.nan_to_num) before use")


class _Media:
    """Shared behaviour: ``save`` and ``replace``."""

    KIND = "media"

    def save(self, path, **options):
        """Write to ``path`` atomically; the format follows the extension."""
        return formats.save(self, path, **options)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)
