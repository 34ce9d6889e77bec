"""A toy medium, ``Pattern`` (a rhythm: one cell per beat), brought by its own package without editing xmedia.

- its type: ``Pattern`` subclasses ``xmedia.media_base.Medium`` with ``KIND = "pattern"`` (the ``xmedia.media_types``
  entry point makes ``xmedia.media.media_types()`` list it);
- its IO: the ``.pattern`` text format (``xmedia.formats``);
- its route step: ``text -> pattern`` (``xmedia.providers``), with the option ``bpm``;
- its stream target: ``"blinker"``, a light whose brightness follows the picture, one ``Command`` per period
  with a target-defined payload;
- its CLI area: ``xmedia_toy_medium.area`` (``xmedia.areas``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xmedia.errors import MediaError
from xmedia.formats import Format
from xmedia.media import Text
from xmedia.media_base import Medium
from xmedia.routing import StreamTarget, step
from xmedia.streaming import Command


@dataclass(frozen=True, eq=False)
class Pattern(Medium):
    """A rhythm: ``"x"`` a hit, ``"."`` a rest, one cell per beat at ``bpm`` beats per minute."""

    cells: str
    bpm: float = 120.0
    KIND = "pattern"

    def __post_init__(self):
        if not self.cells or set(self.cells) - {"x", "."}:
            raise MediaError(f"a Pattern is made of 'x' and '.', got {self.cells!r}")
        if not self.bpm > 0:
            raise MediaError(f"a Pattern's bpm must be positive, got {self.bpm}")

    @property
    def duration_s(self) -> float:
        return len(self.cells) * 60.0 / self.bpm


@step("text", "pattern", name="toy-text-pattern", cost=0.01, kind="decoder")
def text_to_pattern(text: Text, bpm: float = 120.0) -> Pattern:
    """Text -> a rhythm: a hit on each vowel, a rest on each other letter."""
    letters = [c for c in text.text.lower() if c.isalpha()] or ["."]
    return Pattern("".join("x" if c in "aeiou" else "." for c in letters), bpm=bpm)


def _read(path, **_) -> Pattern:
    head, cells = (path.read_text().splitlines() + ["", ""])[:2]
    if not head.startswith("PATTERN "):
        raise MediaError(f"{path} is not a .pattern file (it starts with 'PATTERN <bpm>')")
    return Pattern(cells.strip(), bpm=float(head.split()[1]))


def _write(pattern: Pattern, tmp, **_) -> None:
    tmp.write_text(f"PATTERN {pattern.bpm:g}\n{pattern.cells}\n")


FORMATS = (Format("pattern", (".pattern",), _read, _write, types=(Pattern,), description="a toy rhythm"),)


class Blinker:
    """A light that follows the picture's brightness (``gain`` times the mean level, clipped to 1)."""

    def __init__(self, frame_rate_hz: float, gain: float = 1.0, control_rate_hz: float = 50.0,
                 stall_timeout_s: float = 0.2):
        self.gain, self.control_rate_hz, self.stall_timeout_s = gain, float(control_rate_hz), stall_timeout_s
        self.level, self.time_s, self.stopping, self._last_frame_s = 0.0, 0.0, False, None

    def on_frame(self, rgb: np.ndarray, time_s: float) -> None:
        self.level = min(1.0, self.gain * float(np.mean(rgb)) / 255.0)
        self._last_frame_s = self.time_s

    def tick(self) -> Command:
        self.time_s += 1.0 / self.control_rate_hz
        if self.stopping:
            self.level = 0.0  # a light switches off at once: no ramp needed
        return Command(self.time_s, {"brightness": round(self.level, 6), "on": self.level > 0.5},
                       stopping=self.stopping)

    def stop(self) -> None:
        self.stopping = True

    @property
    def at_rest(self) -> bool:
        stalled = self._last_frame_s is not None and self.time_s - self._last_frame_s > self.stall_timeout_s
        return self.stopping or stalled


blinker = StreamTarget("blinker", "xmedia_toy_medium:Blinker")
