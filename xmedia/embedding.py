"""Embeddings: a point in a named space, and for time-based media a track of points at an exact rate."""
from __future__ import annotations

import dataclasses
import json
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import formats
from .errors import ConfigError, MediaError
from .formats import Format, is_json_kind
from .media import _check_finite, _frozen_array, as_fraction
from .media_base import register_medium


@register_medium
@dataclass(frozen=True, eq=False)
class Embedding:
    """``vector`` (D,) pooled over the whole input; ``track`` (T, D) at ``rate_hz`` for time-based media.

    ``space`` names the space (``"perceptual"``, ``"clip"``...), ``axes`` names the D dimensions where they
    have names, ``events_s`` holds exact times of detected events (cuts, impacts, onsets) and ``source`` the
    kind of medium it came from. Row ``i`` of the track covers time ``start_s + i / rate_hz``.
    """

    space: str
    vector: np.ndarray
    track: np.ndarray | None = None
    rate_hz: Fraction | None = None
    duration_s: Fraction | None = None
    axes: tuple[str, ...] | None = None
    events_s: tuple[Fraction, ...] = ()
    event_strengths: tuple[float, ...] = ()
    source: str | None = None
    start_s: Fraction = Fraction(0)
    KIND = "embedding"

    def __post_init__(self):
        v = np.asarray(self.vector, dtype=np.float32)
        if v.ndim != 1 or v.size == 0:
            raise MediaError(f"Embedding vector must be 1-D and non-empty, got shape {np.shape(self.vector)}")
        _check_finite(v, "Embedding vector")
        object.__setattr__(self, "vector", _frozen_array(v))
        if self.track is not None:
            t = np.asarray(self.track, dtype=np.float32)
            if t.ndim != 2 or t.shape[1] != v.size or t.shape[0] == 0:
                raise MediaError(f"Embedding track must be (T, {v.size}), got shape {t.shape}")
            _check_finite(t, "Embedding track")
            if self.rate_hz is None:
                raise MediaError("an Embedding with a track needs rate_hz")
            object.__setattr__(self, "track", _frozen_array(t))
            object.__setattr__(self, "rate_hz", as_fraction(self.rate_hz, "Embedding rate_hz"))
            if self.duration_s is None:
                object.__setattr__(self, "duration_s", t.shape[0] / self.rate_hz)
        if self.duration_s is not None:
            object.__setattr__(self, "duration_s", as_fraction(self.duration_s, "Embedding duration_s"))
        if self.axes is not None and len(self.axes) != v.size:
            raise MediaError(f"Embedding has {v.size} dims but {len(self.axes)} axis names")
        object.__setattr__(self, "events_s", tuple(Fraction(e) for e in self.events_s))
        strengths = tuple(float(s) for s in self.event_strengths) or (1.0,) * len(self.events_s)
        if len(strengths) != len(self.events_s):
            raise MediaError("event_strengths must have one value per event")
        object.__setattr__(self, "event_strengths", strengths)

    @property
    def dim(self) -> int:
        return int(self.vector.size)

    @property
    def num_steps(self) -> int:
        return 0 if self.track is None else int(self.track.shape[0])

    def times_s(self) -> np.ndarray:
        if self.track is None:
            return np.zeros(0)
        return float(self.start_s) + np.arange(self.num_steps) / float(self.rate_hz)

    def axis(self, name: str) -> np.ndarray:
        """One named axis: the track's column (or the pooled value for media without time)."""
        if not self.axes or name not in self.axes:
            raise MediaError(f"space {self.space!r} has no axis {name!r}; axes: {self.axes}")
        i = self.axes.index(name)
        return self.track[:, i] if self.track is not None else self.vector[i : i + 1]

    def __getitem__(self, name: str) -> float:
        """Pooled value of a named axis: ``emb["brightness"]``."""
        if not self.axes or name not in self.axes:
            raise KeyError(name)
        return float(self.vector[self.axes.index(name)])

    def as_dict(self) -> dict[str, float]:
        names = self.axes or tuple(f"d{i}" for i in range(self.dim))
        return {n: float(x) for n, x in zip(names, self.vector)}

    def replace(self, **changes) -> "Embedding":
        return dataclasses.replace(self, **changes)

    def held(self, duration_s, rate_hz=25) -> "Embedding":
        """A still medium's embedding as a constant track lasting ``duration_s`` (to score a photo or a phrase)."""
        duration = as_fraction(duration_s, "duration_s")
        rate = as_fraction(rate_hz, "rate_hz")
        n = max(2, int(duration * rate))
        return dataclasses.replace(self, track=np.repeat(self.vector[None], n, axis=0), rate_hz=rate,
                                   duration_s=duration)

    def timed(self, duration_s=None, default_duration_s=10) -> "Embedding":
        """An embedding with a track: a clip's as it is, a still medium's held for ``duration_s``.

        For decoders that need time (a soundtrack, a motion): a photo or a phrase becomes a held mood.
        """
        if self.track is not None:
            if duration_s is not None:
                raise ConfigError("duration_s is for still media (image, text); a clip's output lasts as long as the clip")
            return self
        return self.held(default_duration_s if duration_s is None else duration_s)

    def resample(self, rate_hz) -> "Embedding":
        """The track on another fixed-rate grid (linear interpolation), same duration."""
        if self.track is None:
            raise MediaError("this Embedding has no track to resample")
        rate = as_fraction(rate_hz, "rate_hz")
        n = max(1, int(self.duration_s * rate))
        t_new = np.arange(n) / float(rate)
        t_old = np.arange(self.num_steps) / float(self.rate_hz)
        track = np.stack([np.interp(t_new, t_old, self.track[:, d]) for d in range(self.dim)], axis=1)
        return dataclasses.replace(self, track=track, rate_hz=rate)

    def save(self, path):
        """Write as ``.npz`` (arrays + metadata) or ``.json``, atomically."""
        return formats.save(self, path)

    @classmethod
    def load(cls, path) -> "Embedding":
        return _read(Path(path))

    def __repr__(self):
        t = f", track {self.num_steps}x{self.dim} at {self.rate_hz} Hz" if self.track is not None else ""
        return f"Embedding(space={self.space!r}, dim={self.dim}{t}, events={len(self.events_s)})"


def _meta(emb: Embedding) -> dict:
    return formats.tagged("embedding", {
        "space": emb.space, "axes": list(emb.axes) if emb.axes else None, "source": emb.source,
        "rate_hz": str(emb.rate_hz) if emb.rate_hz else None,
        "duration_s": str(emb.duration_s) if emb.duration_s is not None else None, "start_s": str(emb.start_s),
        "events_s": [str(e) for e in emb.events_s], "event_strengths": list(emb.event_strengths)})


def _write(emb: Embedding, tmp: Path) -> None:
    meta = _meta(emb)
    if tmp.suffix.lower() == ".json":
        meta.update(vector=emb.vector.tolist(), track=None if emb.track is None else emb.track.tolist())
        tmp.write_text(json.dumps(meta))
        return
    arrays = {"vector": emb.vector} if emb.track is None else {"vector": emb.vector, "track": emb.track}
    with open(tmp, "wb") as fh:
        np.savez(fh, meta=json.dumps(meta), **arrays)


def _read(path: Path) -> Embedding:
    try:
        if path.suffix.lower() == ".json":
            d = json.loads(path.read_text())
            vector, track = d.pop("vector"), d.pop("track")
        else:
            with np.load(path, allow_pickle=False) as z:
                d = json.loads(str(z["meta"]))
                vector, track = z["vector"], z["track"] if "track" in z else None
        frac = lambda v: None if v is None else Fraction(v)  # noqa: E731
        return Embedding(d["space"], np.asarray(vector), track=None if track is None else np.asarray(track),
                         rate_hz=frac(d["rate_hz"]), duration_s=frac(d["duration_s"]),
                         axes=tuple(d["axes"]) if d["axes"] else None, events_s=tuple(map(Fraction, d["events_s"])),
                         event_strengths=tuple(d["event_strengths"]), source=d["source"],
                         start_s=Fraction(d["start_s"]))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise MediaError(f"{path}: not a saved Embedding ({type(exc).__name__}: {exc})") from None


def _is_embedding_npz(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as z:
            return "meta" in z.files and "vector" in z.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


FORMATS = (
    Format("embedding", (".json",), _read, _write, types=(Embedding,), sniff=is_json_kind("embedding")),
    Format("embedding", (".npz",), _read, _write, types=(Embedding,), sniff=_is_embedding_npz),
)
