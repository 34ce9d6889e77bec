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
    """Shared behaviour: ``save`` and ``replace``. A subclass that sets its own ``KIND`` is a registered medium
    (``media_types()``), so a plug-in's medium subclasses ``Medium`` (this class) and is known by its kind."""

    KIND = "media"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("KIND"), str):
            register_medium(cls)

    def save(self, path, **options):
        """Write to ``path`` atomically; the format follows the extension."""
        return formats.save(self, path, **options)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


Medium = _Media  # the public name of the base a plug-in medium subclasses

MEDIA_GROUP = "xmedia.media_types"
_KINDS: dict[type, str] = {}  # class -> kind, for every registered medium
_TYPES: dict[str, type] = {}  # kind -> the class registered first for it
_PLUGINS_LOADED: list[bool] = []


def register_medium(cls: type | None = None, *, kind: str | None = None):
    """Register ``cls`` as a medium of ``kind`` (default: its ``KIND``); usable as a decorator.

    ``Medium`` subclasses are registered when defined; this is for a class that cannot subclass it (or that has no
    ``KIND`` attribute): ``kind_of`` and ``node_name`` then know it."""

    def add(c: type) -> type:
        k = kind or getattr(c, "KIND", None)
        if not isinstance(k, str) or not k:
            raise MediaError(f"register_medium({c.__name__}): give kind='...' or a KIND class attribute")
        _KINDS[c] = k
        _TYPES.setdefault(k, c)
        return c

    return add if cls is None else add(cls)


def registered_kind(cls: type) -> str | None:
    """The kind of a registered medium class (or of its nearest registered base), else its ``KIND`` attribute."""
    for c in cls.__mro__:
        if c in _KINDS:
            return _KINDS[c]
    kind = getattr(cls, "KIND", None)
    return kind if isinstance(kind, str) else None


def media_types() -> dict[str, type]:
    """Every registered medium by kind: the built-ins and those of the ``xmedia.media_types`` entry-point group (its
    modules are imported on the first call)."""
    if not _PLUGINS_LOADED:
        from .plugins import entry_modules, import_plugins

        _PLUGINS_LOADED.append(True)
        import_plugins(entry_modules(MEDIA_GROUP), "the media types")
    return dict(_TYPES)
