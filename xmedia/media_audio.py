"""``Audio``: samples in memory, or a long file streamed block by block (``iter_blocks``)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator

import numpy as np

from . import limits
from .errors import MediaError
from .media_base import _check_finite, _frozen_array, _Media


class AudioReader:
    """What a file-backed ``Audio`` reads its samples with: ``num_samples``, ``channels`` and
    ``__call__(start=0, block=...)`` yielding float32 ``(n, channels)`` blocks in order (see ``xmedia.io``)."""

    num_samples: int
    channels: int

    def __call__(self, start: int = 0, block: int = 1 << 16) -> Iterator[np.ndarray]:
        raise NotImplementedError


def _integer_rate(value, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise MediaError(f"{name} must be a positive integer, got {value!r}") from None
    if not math.isfinite(number) or number != int(number) or number <= 0:
        raise MediaError(f"{name} must be a positive integer, got {value!r}")
    limits.check("sample_rate_hz", number, name)
    return int(number)


def _audio_samples(samples) -> np.ndarray:
    """float32 ``(num_samples, channels)`` in [-1, 1] from float, signed or unsigned PCM samples."""
    s = np.asarray(samples)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2 or s.shape[1] < 1:
        raise MediaError(f"Audio samples must be (num_samples, channels), got shape {np.shape(samples)}")
    limits.check("channels", s.shape[1], "Audio channels")
    kind = s.dtype.kind
    if kind == "c":
        raise MediaError("Audio samples are complex numbers: pass the real signal (np.real(x)) or its magnitude")
    if kind == "i":  # signed PCM: full scale is the type's maximum
        s = s.astype(np.float32) / float(np.iinfo(s.dtype).max)
    elif kind == "u":  # unsigned PCM (8-bit WAV): silence is mid-scale
        mid = float(np.iinfo(s.dtype).max // 2 + 1)
        s = (s.astype(np.float32) - mid) / mid
    elif kind != "f":
        raise MediaError(f"Audio samples must be float or integer PCM, got dtype {s.dtype}")
    s = np.ascontiguousarray(s, dtype=np.float32)
    _check_finite(s, "Audio samples")
    return s


@dataclass(frozen=True, eq=False)
class Audio(_Media):
    """Samples as float32 ``(num_samples, channels)`` in [-1, 1] at ``sample_rate_hz``.

    A long file is file-backed (``samples=None`` and a ``reader``): ``iter_blocks`` streams it in bounded
    memory (what the analysis does); reading ``.samples`` decodes it all on first use.
    """

    samples: np.ndarray | None
    sample_rate_hz: int
    reader: AudioReader | None = field(default=None, repr=False)
    source: str | None = None
    KIND = "audio"

    def __post_init__(self):
        rate = _integer_rate(self.sample_rate_hz, "sample_rate_hz")
        object.__setattr__(self, "sample_rate_hz", rate)
        if self.samples is None:
            if self.reader is None:
                raise MediaError("Audio needs samples (an array) or a reader (a file-backed audio)")
            limits.check("channels", self.reader.channels, "Audio channels")
            object.__setattr__(self, "_shape", (int(self.reader.num_samples), int(self.reader.channels)))
            object.__delattr__(self, "samples")  # decoded by __getattr__ when first asked for
        else:
            s = _audio_samples(self.samples)
            object.__setattr__(self, "samples", _frozen_array(s))
            object.__setattr__(self, "_shape", s.shape)
        limits.check("duration_s", self._shape[0] / rate, f"{self.source or 'the audio'} duration")

    def __getattr__(self, name):
        if name != "samples" or "reader" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        limits.check_bytes(4 * self._shape[0] * self._shape[1], f"decoding all of {self.source or 'the audio'}")
        s = np.concatenate(list(self.iter_blocks(1 << 20)) or [np.zeros((0, self._shape[1]), np.float32)])
        s = _frozen_array(s)
        object.__setattr__(self, "samples", s)
        return s

    @property
    def is_file_backed(self) -> bool:
        return "samples" not in self.__dict__

    def iter_blocks(self, block: int = 1 << 16, start: int = 0) -> Iterator[np.ndarray]:
        """Consecutive float32 ``(n, channels)`` blocks from sample ``start`` on; memory stays bounded."""
        if self.is_file_backed:
            for chunk in self.reader(start=start, block=block):
                _check_finite(chunk, f"{self.source or 'the audio'}: samples")
                yield chunk
            return
        for a in range(start, self.num_samples, block):
            yield self.samples[a : a + block]

    @property
    def channels(self) -> int:
        return self._shape[1]

    @property
    def num_samples(self) -> int:
        return self._shape[0]

    @property
    def duration_s(self) -> Fraction:
        return Fraction(self.num_samples, self.sample_rate_hz)

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)

    def slice_s(self, start_s, end_s) -> "Audio":
        a = int(Fraction(start_s) * self.sample_rate_hz)
        b = int(Fraction(end_s) * self.sample_rate_hz)
        a, b = max(a, 0), max(b, 0)
        if not self.is_file_backed:
            return Audio(self.samples[a:b], self.sample_rate_hz)
        parts, have = [np.zeros((0, self.channels), np.float32)], a  # read only the span, not the whole file
        for block in self.iter_blocks(1 << 18, start=a) if b > a else ():
            parts.append(block[: b - have])
            have += len(parts[-1])
            if have >= b:
                break
        return Audio(np.concatenate(parts), self.sample_rate_hz)

    def resample(self, sample_rate_hz: int) -> "Audio":
        if sample_rate_hz == self.sample_rate_hz:
            return self
        from scipy.signal import resample_poly

        g = np.gcd(int(sample_rate_hz), self.sample_rate_hz)
        out = resample_poly(self.samples, sample_rate_hz // g, self.sample_rate_hz // g, axis=0)
        return Audio(np.clip(out, -1, 1).astype(np.float32), sample_rate_hz)

    def with_channels(self, channels: int) -> "Audio":
        if channels == self.channels:
            return self
        mono = self.samples.mean(axis=1, keepdims=True)
        return Audio(np.repeat(mono, channels, axis=1), self.sample_rate_hz)

    def __repr__(self):
        return f"Audio({float(self.duration_s):.3f} s, {self.sample_rate_hz} Hz, {self.channels} ch)"
