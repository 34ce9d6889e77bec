"""Shared plumbing of the foundation-model adapters: model caching, frame sampling, embedding assembly, and
``backend_steps`` (one route step per input kind, all running one step function whose keyword parameters are
the options).

Encoders in joint spaces (CLIP, CLAP, MiniLM) return unit-norm vectors, so a dot product is a cosine.
Time-based media get a ``track`` sampled on a fixed grid (``rate_hz``) and a pooled ``vector`` (the
re-normalised mean of the track), matching the perceptual space's contract.
"""
from __future__ import annotations

from collections import OrderedDict
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import MediaError, XMediaError
from xmedia.media import Audio, Image, Text, Video, as_fraction
from xmedia.routing import Step

from . import weights

_MODELS: "OrderedDict[tuple, Any]" = OrderedDict()
MAX_CACHED_MODELS = 3


def cached_model(key: tuple, build: Callable[[], Any]) -> Any:
    """Build a model once per (backend, folder, device, dtype): repeated ``translate`` calls reuse it."""
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    model = build()
    _MODELS[key] = model
    while len(_MODELS) > MAX_CACHED_MODELS:
        _MODELS.popitem(last=False)
    return model


def load_backend(name: str, path, device, dtype, build: Callable, locate: Callable | None = None, key: tuple = ()):
    """Locate backend ``name``'s weights, resolve device/dtype and ``build(folder, device, torch_dtype)`` once,
    offline; a library failure becomes a ``WeightsError`` naming the folder."""
    folder = (locate or weights.locate)(name, path)
    device = weights.resolve_device(device)
    torch_dtype = weights.resolve_dtype(dtype, device)

    def guarded():
        try:
            with weights.offline():
                return build(folder, device, torch_dtype)
        except XMediaError:
            raise
        except Exception as exc:
            raise weights.load_error(name, folder, exc) from exc

    return cached_model((name, str(folder), device, str(torch_dtype), *key), guarded)


def backend_steps(backend: str, steps, dst: str, target: Callable, kind: str, label: str,
                  accepts: Callable | None = None, available: Callable | None = None) -> list[Step]:
    """One route step per ``(name, src, cost)``, all running ``target`` and available when ``backend``'s
    weights are; ``accepts(src)`` may give an input check per source kind."""
    return [Step(name, src, dst, target, cost=cost, kind=kind, description=f"{label}: " + weights.describe(backend),
                 accepts=accepts(src) if accepts else None,
                 available=available or (lambda: weights.is_available(backend)))
            for name, src, cost in steps]


def clear_model_cache() -> None:
    _MODELS.clear()


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def sample_frames(video: Video, rate_hz, max_side: int | None = 448) -> tuple[list[np.ndarray], Fraction]:
    """Frames on a fixed grid ``k / rate_hz`` (each grid point takes the last frame shown at that time).

    Returns the frames and the exact rate; streams the file, so memory holds only the chosen frames.
    """
    rate = as_fraction(rate_hz, "rate_hz")
    n = max(1, int(video.duration_s * rate))
    grid = [Fraction(k) / rate for k in range(n)]
    picked: list[np.ndarray | None] = [None] * n
    k, last = 0, None
    for frame in video.iter_frames(max_side=max_side):
        while k < n and grid[k] < frame.time_s:
            picked[k] = last if last is not None else frame.rgb
            k += 1
        last = frame.rgb
        if k >= n:
            break
    for j in range(k, n):
        picked[j] = last
    if any(p is None for p in picked):
        raise MediaError(f"{video.source or 'video'} yielded no frames to encode")
    return picked, rate


def timed_embedding(space: str, rows: np.ndarray, rate_hz: Fraction, duration_s, source: str) -> Embedding:
    rows = unit(rows)
    return Embedding(space=space, vector=unit(rows.mean(axis=0)), track=rows, rate_hz=rate_hz,
                     duration_s=duration_s, source=source)


def static_embedding(space: str, vector: np.ndarray, source: str) -> Embedding:
    return Embedding(space=space, vector=unit(vector), source=source)


class VisionTextEncoder:
    """Base of the CLIP encoders: subclasses give ``encode_images(list of HxWx3 uint8)`` and
    ``encode_texts(list of str)``, both returning unit rows ``(N, D)``."""

    space = "clip"
    batch_size = 16

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _batched_images(self, images: list[np.ndarray]) -> np.ndarray:
        from tqdm.auto import tqdm

        starts = range(0, len(images), self.batch_size)
        out = [self.encode_images(images[i : i + self.batch_size])
               for i in tqdm(starts, desc=f"{self.space} frames", disable=len(starts) < 4, leave=False)]
        return np.concatenate(out)

    def encode(self, x, rate_hz=2, max_side: int | None = 448) -> Embedding:
        """Image -> vector; Text -> vector; Video -> one row per ``1 / rate_hz`` seconds + pooled vector."""
        if isinstance(x, Image):
            return static_embedding(self.space, self.encode_images([x.rgb_uint8()])[0], "image")
        if isinstance(x, Text):
            return static_embedding(self.space, self.encode_texts([x.text])[0], "text")
        if isinstance(x, Video):
            frames, rate = sample_frames(x, rate_hz, max_side=max_side)
            return timed_embedding(self.space, self._batched_images(frames), rate, x.duration_s, "video")
        raise MediaError(f"{type(self).__name__} encodes Image, Video or Text, not {type(x).__name__}")

    def __call__(self, x, **options) -> Embedding:
        return self.encode(x, **options)


def audio_windows(audio: Audio, window_s: float, hop_s: float, sample_rate_hz: int) -> tuple[list[np.ndarray], Fraction]:
    """Mono windows of ``window_s`` every ``hop_s`` at ``sample_rate_hz`` (the last one may be shorter)."""
    mono = audio.resample(sample_rate_hz).mono()
    if mono.size == 0:
        raise MediaError("cannot encode empty audio")
    win, hop = int(round(window_s * sample_rate_hz)), int(round(hop_s * sample_rate_hz))
    starts = range(0, max(1, mono.size - win + hop), hop) if mono.size > win else [0]
    return [mono[s : s + win] for s in starts], as_fraction(Fraction(1) / as_fraction(hop_s, "hop_s"), "rate")
