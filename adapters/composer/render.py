"""Rendering: the score (every note, choke, bed and duck of a piece) and its windowed render with the room.

The renderer works window by window (``WINDOW_S``), so memory is bounded by a window, not by the piece; any
cut into windows gives the samples of a one-block render.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .voices import butter_filter

WINDOW_S = 10.0  # the renderer's block: memory is bounded by it, not by the piece's length
CHOKE_GAP_S = 0.003  # a choked sound is silent this long before the next hit starts
_EDGE = 64  # samples rendered either side of a window: the sr/4 resampler reads 40 samples around each sample


def duck_for_events(buses: dict[str, np.ndarray], names, event_samples, sr: int, depth: float = 0.95,
                    offset: int = 0) -> None:
    """Dip the bed just before each event and let it swell back (a film-scoring 'hit point'): the event's
    attack then stands out as an onset even when the music is busy. ``offset``: the piece's sample at
    ``bus[0]`` when the buses hold one window of it."""
    pre, post = int(0.025 * sr), int(0.3 * sr)
    curve = np.concatenate([np.linspace(1, 1 - depth, pre, dtype=np.float32),
                            np.linspace(1 - depth, 1, post, dtype=np.float32)])
    end = offset + len(next(iter(buses.values())))
    for s in event_samples:
        a, b = max(0, s - pre, offset), min(end, s + post)
        if b <= a:
            continue
        c = curve[a - (s - pre) : b - (s - pre)][:, None]
        for name in names:
            if name in buses:
                buses[name][a - offset : b - offset] *= c


def choke(bus: np.ndarray, start: int, sr: int, fade_s: float = 0.02, offset: int = 0) -> None:
    """Fade out what still rings on ``bus`` so it is silent from ``CHOKE_GAP_S`` before ``start`` (a drummer's
    choke): the next hit is then heard as an onset however loud the previous one was, even when events come
    closer than 0.15 s (a soft hit right after a loud one). ``offset`` as in ``duck_for_events``."""
    quiet = start - int(CHOKE_GAP_S * sr)
    k = min(max(0, quiet), int(fade_s * sr))
    a, b = max(quiet - k, offset), min(quiet, offset + len(bus))
    if b > a:
        bus[a - offset : b - offset] *= np.linspace(1, 0, k, dtype=np.float32)[a - (quiet - k) : b - (quiet - k), None]
    bus[max(0, quiet - offset):] = 0


def _place(bus: np.ndarray, start: int, sig: np.ndarray, gain: float = 1.0, pan: float = 0.0) -> None:
    """Add a mono (n,) or stereo (n, 2) sound into a stereo bus from sample ``start`` (cut at the ends)."""
    a, b = max(start, 0), min(start + len(sig), len(bus))
    if b <= a:
        return
    sig = sig[a - start : b - start]
    if sig.ndim == 1:
        angle = (pan + 1) * math.pi / 4  # constant-power pan
        gains = np.array([math.cos(angle), math.sin(angle)], np.float32) * gain * math.sqrt(2)
        bus[a:b] += sig[:, None] * gains
    else:
        bus[a:b] += sig * gain


@dataclass
class _Note:
    start: int
    length: int
    sound: object  # mono (n,) or stereo (n, 2) array, or a function of no arguments that synthesises it
    gain: float = 1.0
    pan: float = 0.0


@dataclass
class _Choke:
    start: int


class Score:
    """The whole piece, decided before anything is rendered: per bus its notes and chokes in the order they are
    played, its bed (a continuous sound rendered per sample range) and the event ducks. ``render(a, b)`` gives
    the buses' samples a..b, the same whichever windows the piece is cut into."""

    def __init__(self, n: int, sr: int, bus_names):
        self.n, self.sr = n, sr
        self.parts: dict[str, list] = {name: [] for name in bus_names}
        self.beds: dict[str, object] = {}
        self.ducks: list[tuple[tuple, list]] = []
        self._spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._synthesised: dict[tuple[str, int], np.ndarray] = {}

    def place(self, bus: str, start: int, sound, gain: float = 1.0, pan: float = 0.0, length: int | None = None):
        length = len(sound) if length is None else int(length)
        if start < self.n and start + length > 0:
            self.parts[bus].append(_Note(int(start), length, sound, float(gain), float(pan)))

    def choke(self, bus: str, start: int) -> None:
        self.parts[bus].append(_Choke(int(start)))

    def bed(self, bus: str, render) -> None:
        self.beds[bus] = render

    def duck(self, names, event_samples) -> None:
        self.ducks.append((tuple(names), list(event_samples)))

    def render(self, a: int, b: int) -> dict[str, np.ndarray]:
        self._synthesised = {k: v for k, v in self._synthesised.items() if self._spans[k[0]][1][k[1]] > a}
        buses = {}
        for name, part in self.parts.items():
            bus = np.zeros((b - a, 2), np.float32)
            starts, ends = self._span(name)
            for i in np.flatnonzero((starts < b) & (ends > a)):
                op = part[i]
                if isinstance(op, _Choke):
                    choke(bus, op.start, self.sr, offset=a)
                else:
                    _place(bus, op.start - a, self._sound(name, i, op), op.gain, op.pan)
            if name in self.beds:
                bus += self.beds[name](a, b)
            buses[name] = bus
        for names, events in self.ducks:
            duck_for_events(buses, names, events, self.sr, offset=a)
        return buses

    def _span(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Where each of the bus's operations acts: a note while it sounds, a choke from its fade to the end."""
        if name not in self._spans:
            fade = int(0.02 * self.sr) + int(CHOKE_GAP_S * self.sr)
            part = self.parts[name]
            starts = np.array([op.start - (fade if isinstance(op, _Choke) else 0) for op in part], np.int64)
            ends = np.array([np.iinfo(np.int64).max if isinstance(op, _Choke) else op.start + op.length
                             for op in part], np.int64)
            self._spans[name] = (starts, ends)
        return self._spans[name]

    def _sound(self, bus: str, i: int, note: _Note) -> np.ndarray:
        if not callable(note.sound):
            return note.sound
        if (bus, i) not in self._synthesised:  # kept while it rings: the next window reuses it
            self._synthesised[(bus, i)] = note.sound()
        return self._synthesised[(bus, i)]


@functools.lru_cache(maxsize=4)
def _reverb_ir(sr: int, seconds: float = 1.1) -> np.ndarray:
    rng = np.random.default_rng(12345)  # the same room for every piece (so it is built once per rate)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal((n, 2)).astype(np.float32) * np.exp(-t / (seconds / 6.9))[:, None].astype(np.float32)
    ir[: int(0.012 * sr)] = 0  # pre-delay keeps the dry attack clean
    ir = butter_filter(ir, "lowpass", 5000, sr) * 0.04
    ir.flags.writeable = False  # shared by every piece through the cache
    return ir


class _Room:
    """The reverb, streamed window by window. The room is band-limited to 5 kHz: the send goes down to sr/4 (16x
    less work), each block is convolved with the IR and its tail carried into the next (overlap-add), and the
    wet comes back up. The IR's 12 ms pre-delay makes the low-rate wet final that far past the block's end,
    more than the upsampler reads, so a window's wet is complete once its own block is in (no lag, no seam)."""

    REACH = 16  # low-rate samples the upsampler reads either side of a window (10, with a margin)

    def __init__(self, sr: int):
        self.ir = _reverb_ir(sr // 4)
        assert np.flatnonzero(np.abs(self.ir).sum(axis=1))[0] > self.REACH, "the pre-delay must cover the upsampler"
        self.wet = np.zeros((0, 2), np.float32)  # the low-rate wet, from low-rate sample self.wet_start on
        self.wet_start = 0

    def process(self, send: np.ndarray, send_start: int, a: int, b: int) -> np.ndarray:
        """The wet for samples a..b, given the send from ``send_start`` (a multiple of 4) to at least b + _EDGE."""
        from scipy.signal import oaconvolve, resample_poly

        p0, p1 = a // 4, -(-b // 4)
        if not send.any() and not self.wet.any():  # silence in, nothing ringing: skip the filters (foley's gaps)
            self.wet = self.wet[:0]
            self._drop_before(p1 - self.REACH)
            return np.zeros((b - a, 2), np.float32)
        low = resample_poly(send, 1, 4, axis=0).astype(np.float32)[p0 - send_start // 4 : p1 - send_start // 4]
        self._grow(p1 + len(self.ir) - 1)
        if low.any():
            into = self.wet[p0 - self.wet_start : p1 + len(self.ir) - 1 - self.wet_start]
            for ch in range(2):
                into[:, ch] += oaconvolve(low[:, ch], self.ir[:, ch]).astype(np.float32)
        q0, q1 = max(0, p0 - self.REACH), p1 + self.REACH
        up = resample_poly(self.wet[q0 - self.wet_start : q1 - self.wet_start], 4, 1, axis=0)
        self._drop_before(p1 - self.REACH)
        return up[a - 4 * q0 : b - 4 * q0].astype(np.float32)

    def _grow(self, end: int) -> None:
        have = self.wet_start + len(self.wet)
        if end > have:
            self.wet = np.concatenate([self.wet, np.zeros((end - have, 2), np.float32)])

    def _drop_before(self, start: int) -> None:
        if start > self.wet_start:
            self.wet, self.wet_start = self.wet[start - self.wet_start :].copy(), start


def render_score(score: Score, reverb: dict[str, float], duck_at=(), window_s: float | None = None) -> np.ndarray:
    """Render the score window by window: sum the buses, add the room, then normalise and soft-clip.

    Memory is the output plus one window of buses (the room's state is ~1 s at sr/4). The level needs the whole
    piece, so each window is written un-normalised into the output and the output is normalised in place at the
    end: one pass, and the same samples as rendering the piece in one block."""
    sr, n = score.sr, score.n
    step = max(4, int((window_s or WINDOW_S) * sr) // 4 * 4)  # windows start on multiples of 4 (the sr/4 room)
    sends = {k: np.float32(w) for k, w in reverb.items() if k in score.parts}
    room = _Room(sr) if sends else None
    out = np.empty((n, 2), np.float32)
    peak = 0.0
    for a in range(0, n, step):
        b = min(n, a + step)
        lo, hi = max(0, a - _EDGE), min(n, b + _EDGE)
        buses = score.render(lo, hi)
        send = None
        for k, w in sends.items():
            send = buses[k] * w if send is None else send + buses[k] * w
        names = list(buses)
        dry = buses[names[0]]
        for k in names[1:]:
            dry += buses[k]
        dry = dry[a - lo : b - lo]
        if room is not None:
            wet = {"wet": room.process(send, lo, a, b)}
            duck_for_events(wet, ("wet",), duck_at, sr, offset=a)  # the tail dips too, or it would blur the accent
            dry += wet["wet"]
        out[a:b] = dry
        peak = max(peak, float(np.abs(dry).max()))
    return _normalise(out, peak)


def _normalise(mix: np.ndarray, peak: float) -> np.ndarray:
    """Normalise on a robust level (99.9th percentile) and soft-clip the rest, so one impact cannot duck the mix."""
    if peak < 1e-9:
        return mix
    level = float(np.percentile(np.abs(mix[:: max(1, len(mix) // 200_000)]), 99.9)) or peak
    mix *= np.float32(1 / max(level, peak / 3))
    np.tanh(mix, out=mix)
    mix *= np.float32(0.89)
    return mix
