"""Long audio files, read block by block: a file-backed ``Audio`` for anything longer than a few minutes.

``open_long_audio(path)`` returns a file-backed ``Audio`` (``samples=None`` plus a reader; ``iter_blocks``
streams it) when the decoded samples would exceed ``STREAM_AUDIO_BYTES``, or ``None`` for a short file, which
is simply read into memory. libsndfile formats (wav, flac, ogg) know their length from the header; for the
formats PyAV decodes (mp3, m4a, opus...) one counting pass finds the exact number of samples.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import limits
from .avio import open_container
from .errors import MediaError
from .media import Audio, AudioReader

# Longer audio files than this (decoded float32 bytes) are streamed from the file instead of held in memory.
STREAM_AUDIO_BYTES = 64 * 2**20


class SoundFileReader(AudioReader):
    """Blocks of a file libsndfile reads (wav, flac, ogg), from disk, in order."""

    def __init__(self, path: Path, num_samples: int, channels: int):
        self.path, self.num_samples, self.channels = path, num_samples, channels

    def __call__(self, start: int = 0, block: int = 1 << 16):
        import soundfile as sf

        if start >= self.num_samples:
            return
        with sf.SoundFile(str(self.path)) as f:
            if start:
                f.seek(start)
            while True:
                data = f.read(block, dtype="float32", always_2d=True)
                if not len(data):
                    return
                yield data


class PyAVAudioReader(AudioReader):
    """Blocks of the first audio stream of a file PyAV decodes (mp3, m4a, opus...), resampled to float32."""

    def __init__(self, path: Path, rate_hz: int, channels: int):
        self.path, self.rate_hz, self.channels = path, rate_hz, channels
        self.num_samples = sum(len(b) for b in self(block=1 << 20))  # one counting pass: the exact length

    def __call__(self, start: int = 0, block: int = 1 << 16):
        import av

        layout = "mono" if self.channels == 1 else "stereo"
        with open_container(lambda: str(self.path), str(self.path)) as c:
            st = c.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate_hz)
            skip = start
            for packet in c.demux(st):
                try:
                    frames = st.decode(packet)
                except av.error.FFmpegError:
                    continue  # a damaged packet: skipped, as decode_audio does
                for frame in frames:
                    for out in resampler.resample(frame):
                        chunk = np.nan_to_num(out.to_ndarray().T, nan=0.0, posinf=0.0, neginf=0.0)
                        if skip >= len(chunk):
                            skip -= len(chunk)
                            continue
                        yield np.clip(chunk[skip:], -1, 1).astype(np.float32, copy=False)
                        skip = 0


def open_long_audio(path: Path, name: str) -> Audio | None:
    """A file-backed ``Audio`` for a long file (checked against the limits first), or None for a short one."""
    import soundfile as sf

    try:
        meta = sf.info(str(path))
        rate, frames, channels = meta.samplerate, meta.frames, meta.channels
        known = frames > 0 and channels > 0
    except Exception:  # not a libsndfile file: ask the container (duration from its header)
        rate, frames, channels, known = _container_size(path, name)
    if not rate or channels <= 0 or frames <= 0:
        return None
    limits.check("channels", channels, f"{name}: channels")
    limits.check("duration_s", frames / rate, f"{name}: duration")
    if frames * channels * 4 <= STREAM_AUDIO_BYTES:
        return None
    if known:
        return Audio(None, rate, reader=SoundFileReader(Path(path), frames, channels), source=name)
    return Audio(None, rate, reader=PyAVAudioReader(Path(path), rate, min(channels, 2)), source=name)


def _container_size(path: Path, name: str) -> tuple[int, int, int, bool]:
    """(rate, estimated samples, channels, False) of the first audio stream, from the container's header."""
    try:
        with open_container(lambda: str(path), name) as c:
            if not c.streams.audio or c.streams.video:
                return 0, 0, 0, False
            st = c.streams.audio[0]
            rate = st.rate or st.codec_context.sample_rate or 0
            channels = st.codec_context.channels or 0
            seconds = float(st.duration * st.time_base) if st.duration else (c.duration or 0) / 1e6
    except (MediaError, ValueError, AttributeError):
        return 0, 0, 0, False
    return int(rate), int(seconds * rate), int(channels), False
