"""Timed text: lines of text, each shown from ``start_s`` to ``end_s`` (a poem written by a clip, subtitles).

``TimedText`` is a ``Text`` (its ``text`` is the lines joined by line breaks, so everything that reads text
reads it) with the ``lines`` timed on the clip's clock. It saves as ``.srt`` and ``.vtt`` (subtitles any
player or ffmpeg plays), ``.json`` (tagged ``"kind": "timed-text"``, times as exact fractions) and ``.txt``
(the lines alone, through the plain-text format). No torch here: formats load fast.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.errors import MediaError
from xmedia.formats import Format, is_json_kind, tagged
from xmedia.media import Text, as_fraction


@dataclass(frozen=True)
class TimedLine:
    """One line shown from ``start_s`` to ``end_s``; ``event`` says what it marks at ``start_s``
    (``"onset"``: a visual or sound event, ``"motion"``: the first frame of a burst of motion, ``"continued"``:
    the next line of a long burst, ``"pace"``: a line on the beat of a medium without motion), ``strength``
    how strong that was."""

    start_s: Fraction
    end_s: Fraction
    text: str
    event: str = "onset"
    strength: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "start_s", as_fraction(self.start_s, "line start_s", positive=False))
        object.__setattr__(self, "end_s", as_fraction(self.end_s, "line end_s", positive=False))
        if self.start_s < 0 or self.end_s <= self.start_s:
            raise MediaError(f"a timed line needs 0 <= start_s < end_s, got {float(self.start_s)} .. "
                             f"{float(self.end_s)}")
        if not isinstance(self.text, str) or "\n" in self.text.strip("\n"):
            raise MediaError("a timed line's text must be one line (a str without line breaks)")


@dataclass(frozen=True, eq=False)
class TimedText(Text):
    """Text whose lines are timed. Build it with ``TimedText.from_lines(lines, duration_s)``."""

    lines: tuple = ()
    duration_s: Fraction | None = None
    source: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        lines = tuple(self.lines)
        if not all(isinstance(li, TimedLine) for li in lines):
            raise MediaError("TimedText lines must be TimedLine objects")
        if any(b.start_s < a.start_s for a, b in zip(lines, lines[1:])):
            raise MediaError("TimedText lines must be in order of start time")
        object.__setattr__(self, "lines", lines)
        if self.duration_s is not None:
            object.__setattr__(self, "duration_s", as_fraction(self.duration_s, "TimedText duration_s"))

    @classmethod
    def from_lines(cls, lines, duration_s=None, language: str | None = None, source: str | None = None,
                   meta: dict | None = None) -> "TimedText":
        lines = tuple(lines)
        return cls("\n".join(li.text for li in lines), language, lines, duration_s, source, dict(meta or {}))

    def chars_per_second(self, rate_hz: float = 1.0, duration_s=None) -> np.ndarray:
        """Characters shown per second, in bins of ``1 / rate_hz`` s: each line's characters spread evenly
        over the time it is shown (what a reader's eye has to take in per second)."""
        dur = float(duration_s if duration_s is not None else self.duration_s or
                    (max((li.end_s for li in self.lines), default=0)))
        n = max(1, int(np.ceil(dur * rate_hz - 1e-9)))
        out = np.zeros(n)
        edges = np.arange(n + 1) / rate_hz
        for li in self.lines:
            a, b = float(li.start_s), float(li.end_s)
            overlap = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
            out += len(li.text) * overlap / (b - a)
        return out * rate_hz

    def __repr__(self):
        dur = f", {float(self.duration_s):.2f} s" if self.duration_s is not None else ""
        return f"TimedText({len(self.lines)} lines{dur})"


# --------------------------------------------------------------------------------------------- formats
def _clock(t: Fraction, sep: str) -> str:
    ms = int(round(t * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_times(timed: TimedText):
    """Millisecond cue times: never overlapping, never empty (a player drops a cue that ends as it starts)."""
    cues = []
    for i, li in enumerate(timed.lines):
        a = int(round(li.start_s * 1000))
        b = int(round(li.end_s * 1000))
        if i + 1 < len(timed.lines):
            b = min(b, int(round(timed.lines[i + 1].start_s * 1000)))
        cues.append((Fraction(a, 1000), Fraction(max(b, a + 1), 1000), li.text.strip() or "…"))
    return cues


def _write_srt(timed: TimedText, tmp: Path, **_):
    blocks = [f"{i}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{text}\n" for i, (a, b, text)
              in enumerate(_cue_times(timed), 1)]
    tmp.write_text("\n".join(blocks), encoding="utf-8")


def _write_vtt(timed: TimedText, tmp: Path, **_):
    blocks = [f"{_clock(a, '.')} --> {_clock(b, '.')}\n{text}\n" for a, b, text in _cue_times(timed)]
    tmp.write_text("WEBVTT\n\n" + "\n".join(blocks), encoding="utf-8")


_CUE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})")


def _read_cues(path: Path, **_) -> TimedText:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MediaError(f"{path}: not UTF-8 (byte offset {exc.start}); save the subtitles as UTF-8") from None
    lines = []
    for block in re.split(r"\n\s*\n", raw.replace("\r\n", "\n").strip()):
        rows = block.split("\n")
        for k, row in enumerate(rows):
            m = _CUE.search(row)
            if m:
                g = [int(x or 0) for x in m.groups()]
                a = Fraction(g[0] * 3_600_000 + g[1] * 60_000 + g[2] * 1000 + g[3], 1000)
                b = Fraction(g[4] * 3_600_000 + g[5] * 60_000 + g[6] * 1000 + g[7], 1000)
                lines.append(TimedLine(a, b, " ".join(rows[k + 1:]).strip()))
                break
    if not lines:
        raise MediaError(f"{path}: no subtitle cues (HH:MM:SS,mmm --> HH:MM:SS,mmm) found")
    return TimedText.from_lines(lines, max(li.end_s for li in lines), source=str(path))


def _write_json(timed: TimedText, tmp: Path, **_):
    body = {"duration_s": None if timed.duration_s is None else str(timed.duration_s), "language": timed.language,
            "source": timed.source, "meta": timed.meta,
            "lines": [{"start_s": str(li.start_s), "end_s": str(li.end_s), "text": li.text, "event": li.event,
                       "strength": li.strength} for li in timed.lines]}
    tmp.write_text(json.dumps(tagged("timed-text", body), indent=1, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path, **_) -> TimedText:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        lines = [TimedLine(Fraction(li["start_s"]), Fraction(li["end_s"]), li["text"], li.get("event", "onset"),
                           float(li.get("strength", 1.0))) for li in d["lines"]]
        dur = None if d.get("duration_s") is None else Fraction(d["duration_s"])
        return TimedText.from_lines(lines, dur, d.get("language"), d.get("source"), d.get("meta"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MediaError(f"{path}: not a saved timed text ({type(exc).__name__}: {exc})") from None


FORMATS = (
    Format("subtitles-srt", (".srt",), _read_cues, _write_srt, types=(TimedText,),
           description="SubRip subtitles"),
    Format("subtitles-vtt", (".vtt",), _read_cues, _write_vtt, types=(TimedText,), description="WebVTT subtitles"),
    Format("timed-text", (".json",), _read_json, _write_json, types=(TimedText,), sniff=is_json_kind("timed-text")),
)
