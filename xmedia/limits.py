"""Upper (and a few lower) bounds on what a request or a file may ask for, checked before anything is allocated.

Every size a user can ask for -- a duration, a rate, a number of channels, pixels, frames, a LUT's points per
axis -- is checked here against one documented limit, so that ``--option duration_s=1e7`` is refused at once
with the value and the limit instead of allocating gigabytes. The limits are generous for real media; raise one
for a single run with an environment variable (``XMEDIA_LIMIT_DURATION_S=36000``) or from Python with
``xmedia.limits.set(duration_s=36000)`` (``xmedia.limits.raised(...)`` for a ``with`` block). The list and what
to do about each is in ``docs/errors.md``.

New code (another step, format or command) checks its own sizes with ``check(name, value, what)``; a route
option whose name is a limit (``duration_s``, ``sample_rate_hz``, ``lut_size``...) is checked by the router
before the first step runs (``check_options``).
"""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass

from .errors import ConfigError, LimitError, MediaError


@dataclass(frozen=True)
class Limit:
    name: str
    maximum: float
    unit: str
    description: str
    minimum: float | None = None  # a lower bound, where a smaller value makes no sense (a 1 Hz sample rate)


LIMITS = {limit.name: limit for limit in (
    Limit("duration_s", 4 * 3600, "s", "length of an input or of a requested output (audio, video, motion, robot "
          "trajectory)"),
    Limit("sample_rate_hz", 384_000, "Hz", "audio sample rate", minimum=1000),
    Limit("rate_hz", 10_000, "Hz", "motion / control / frame-rate-like sample rate", minimum=1e-3),
    Limit("control_rate_hz", 1000, "Hz", "robot control rate", minimum=1),
    Limit("fps", 1000, "frames/s", "video frame rate"),
    Limit("channels", 64, "channels", "audio channels", minimum=1),
    Limit("pixels", 150_000_000, "pixels", "pixels of one image or video frame (width x height)"),
    Limit("side_px", 65_535, "px", "width or height of an image or video frame", minimum=1),
    Limit("frames", 1_000_000, "frames", "frames of a video held in memory or generated"),
    Limit("lut_size", 129, "points per axis", "3D LUT size", minimum=2),
    Limit("memory_bytes", 4 * 2**30, "bytes", "one array allocated from a request (e.g. a generated soundtrack)"),
    Limit("text_chars", 10_000_000, "characters", "length of generated text (xmedia generate --length)"),
    Limit("music_bars", 1024, "bars", "length of a composed piece (xmedia generate music --bars)", minimum=1),
    Limit("score_notes", 2_000_000, "notes", "notes of one score read from a file or generated"),
    Limit("train_steps", 1_000_000, "steps", "steps or epochs of one training run", minimum=1),
    Limit("batch_size", 4096, "items", "items in one training batch", minimum=1),
    Limit("train_minutes", 7 * 24 * 60, "min", "wall-clock budget of one training run"),
    Limit("model_units", 8192, "units", "width of a trainable layer (hidden size, channels, embedding)", minimum=1),
    Limit("train_crop_px", 2048, "px", "side of a training crop or window", minimum=1),
)}

_overrides: dict[str, float] = {}


def _env_name(name: str) -> str:
    return f"XMEDIA_LIMIT_{name.upper()}"


def get(name: str) -> float:
    """The limit now in force: ``set`` > ``XMEDIA_LIMIT_<NAME>`` > the default."""
    if name not in LIMITS:
        raise KeyError(f"no limit named {name!r}; limits: {sorted(LIMITS)}")
    if name in _overrides:
        return _overrides[name]
    env = os.environ.get(_env_name(name))
    if env:
        try:
            return float(env)
        except ValueError:
            raise LimitError(f"{_env_name(name)}={env!r} is not a number") from None
    return LIMITS[name].maximum


def set(**values: float) -> None:  # noqa: A001 - ``xmedia.limits.set(duration_s=...)`` reads well
    """Raise (or lower) limits for this process: ``xmedia.limits.set(duration_s=36000, pixels=4e8)``."""
    for name, value in values.items():
        if name not in LIMITS:
            raise KeyError(f"no limit named {name!r}; limits: {sorted(LIMITS)}")
        value = float(value)
        if not value > 0:
            raise LimitError(f"limit {name} must be a positive number, got {value!r}")
        _overrides[name] = value


def reset() -> None:
    """Back to the defaults (and the environment)."""
    _overrides.clear()


@contextlib.contextmanager
def raised(**values: float):
    """``with xmedia.limits.raised(duration_s=36000): ...``: the limits for the block only."""
    saved = dict(_overrides)
    set(**values)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def _how_to_raise(name: str) -> str:
    return f"raise it with {_env_name(name)}=<value> or xmedia.limits.set({name}=...)"


def check(name: str, value, what: str | None = None) -> None:
    """Raise ``LimitError`` (a ``MediaError`` and a ``ConfigError``) naming ``value`` and the limit when ``value``
    is not a finite number within the limit ``name``."""
    limit = LIMITS[name]
    what = what or name
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise LimitError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise LimitError(f"{what} must be a finite number, got {value!r}")
    maximum = get(name)
    if number > maximum:
        raise LimitError(f"{what} = {number:g} {limit.unit} is above the limit {name} = {maximum:g} {limit.unit}; "
                         f"{_how_to_raise(name)}")
    if limit.minimum is not None and number < limit.minimum:
        raise LimitError(f"{what} = {number:g} {limit.unit} is below the minimum {name} = {limit.minimum:g} "
                         f"{limit.unit}")


def check_bytes(num_bytes: float, what: str) -> None:
    check("memory_bytes", num_bytes, f"{what} would need {num_bytes / 2**20:,.0f} MiB:")


def check_image(width: int, height: int, what: str = "the image") -> None:
    """Width, height and pixel count of a picture (before it is decoded or allocated)."""
    check("side_px", width, f"{what} width")
    check("side_px", height, f"{what} height")
    check("pixels", int(width) * int(height), f"{what} ({width}x{height})")


MIN_ANALYSIS_SIDE_PX = 12  # optical flow (OpenCV DIS) needs a frame at least this long on one side


def check_analysable(video, what: str = "motion analysis") -> None:
    """A video's frames are big enough to analyse (a 1x1-pixel clip is valid media, but has no motion to see)."""
    if max(video.width, video.height) < MIN_ANALYSIS_SIDE_PX:
        raise MediaError(f"{video.source or 'the video'} is {video.width}x{video.height} pixels: {what} needs frames "
                         f"at least {MIN_ANALYSIS_SIDE_PX} pixels on their longer side")


def check_options(options: dict, steps=()) -> None:
    """Check every route option whose name is a limit (``duration_s``, ``sample_rate_hz``, ``lut_size``...) and,
    given the route's ``steps``, the type of every option against the parameter of the step that takes it
    (``strength="abc"`` where a number is expected: ``xmedia.option_types``). ``None`` means "the default"."""
    seed = options.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, float)) or not math.isfinite(seed)
                             or seed != int(seed) or seed < 0):
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    for name, value in options.items():
        if name in LIMITS and value is not None and not isinstance(value, bool):
            check(name, value, f"option {name}")
    if steps:
        from .option_types import check_option_types

        check_option_types(options, steps)
