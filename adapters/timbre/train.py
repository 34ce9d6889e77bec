"""Training a ``Timbre`` on a folder of recordings of one instrument or voice (a few minutes is enough).

The family's pieces for the one trainer (``xmedia.trainer``): ``TimbreTask``. Whole files are held out
(``holdout`` of them, at least one; the split follows ``seed``) for early stopping and for the numbers in the
model card; training draws random ``segment_s`` segments of the other files (``batch_size`` at a time), and
the model's range buffers (f0 range, median, loudness quantiles) are set from the training notes first. Loss:
DDSP's multi-scale spectral loss. The trainer stops at ``max_minutes`` (wall clock) or ``max_steps``, or when
the held-out loss has not improved for ``patience`` evaluations, keeps the best weights and draws the loss PNG.
Defaults: ``recipe.json`` beside this module.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from xmedia.errors import ConfigError, MediaError
from xmedia.manifest import is_manifest, manifest_files
from xmedia.trainer import Task

from .performance import HOP, analyse, to_model_rate

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aif", ".aiff", ".opus")
MIN_VOICED_S = 2.0


@dataclass
class Recording:
    name: str
    samples: np.ndarray  # 16 kHz mono
    frames: np.ndarray  # (T, 2) f0_hz, loudness_db
    voiced: np.ndarray  # (T,) bool


@dataclass
class Dataset:
    train: list[Recording]
    held_out: list[Recording]
    pitch: str = "auto"
    skipped: list[str] = field(default_factory=list)


def audio_files(folder) -> list[Path]:
    """A folder's recordings (recursively), a JSON-lines manifest's inputs (``xmedia.manifest``) or one file."""
    root = Path(folder)
    if not root.exists():
        raise MediaError(f"{root} does not exist: give a folder of recordings of one instrument or voice")
    if is_manifest(root):
        return manifest_files(root, AUDIO_SUFFIXES)
    if root.is_file():
        return [root] if root.suffix.lower() in AUDIO_SUFFIXES else []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def prepare(data, holdout: float = 0.15, seed: int = 0, pitch: str = "auto", progress: bool = False) -> Dataset:
    """Load and analyse every recording of ``data`` (a folder, a ``.jsonl`` manifest, a file or a list of files);
    split by file."""
    if isinstance(data, Dataset):
        return data
    files = [Path(p) for p in data] if isinstance(data, (list, tuple)) else audio_files(data)
    if not files:
        raise MediaError(f"{data} holds no audio ({', '.join(AUDIO_SUFFIXES)}): give a folder of recordings")
    from xmedia.io import load

    recs, skipped = [], []
    it = files
    if progress:
        from tqdm import tqdm

        it = tqdm(files, desc="pitch and loudness", unit="file")
    import warnings

    for path in it:
        try:
            audio = load(path)
        except Exception as exc:  # one unreadable file should not stop the others
            skipped.append(f"{path.name}: {exc}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            perf = analyse(audio, pitch=pitch)
        x = to_model_rate(audio)
        t = perf.num_frames
        x = np.pad(x, (0, max(0, t * HOP - len(x))))[: t * HOP]
        recs.append(Recording(path.name, x, np.stack([perf.f0_hz, perf.loudness_db], 1).astype(np.float32),
                              perf.voiced()))
    if not recs:
        raise MediaError(f"none of the {len(files)} audio files in {data} could be read: {skipped[:3]}")
    voiced_s = sum(r.voiced.sum() for r in recs) * HOP / 16000
    if voiced_s < MIN_VOICED_S:
        raise ConfigError(f"{data} has {voiced_s:.1f} s of pitched sound (silence, noise or unvoiced recordings): a "
                          f"timbre model learns from pitched notes; give at least {MIN_VOICED_S:.0f} s of them")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(recs))
    n_out = min(max(1, int(round(holdout * len(recs)))), len(recs) - 1)  # at least one file each side
    held = [recs[i] for i in sorted(order[:n_out])]
    train = [recs[i] for i in sorted(order[n_out:])]
    return Dataset(train, held or train, pitch, skipped)


def segments(recs: list[Recording], frames: int, count: int, rng) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` random segments of ``frames`` frames with some pitched sound: (controls, target audio)."""
    weights = np.array([max(len(r.frames), 1) for r in recs], np.float64)
    ctrl, audio = [], []
    tries = 0
    while len(ctrl) < count:
        r = recs[rng.choice(len(recs), p=weights / weights.sum())]
        start = int(rng.integers(0, max(1, len(r.frames) - frames + 1)))
        c = r.frames[start:start + frames]
        tries += 1
        if not r.voiced[start:start + frames].any() and tries < 50 * count:
            continue
        a = r.samples[start * HOP:(start + frames) * HOP]
        pad = frames - len(c)
        if pad > 0:
            c = np.concatenate([c, np.repeat(np.array([[c[-1, 0], -100.0]], np.float32), pad, 0)])
            a = np.pad(a, (0, frames * HOP - len(a)))
        ctrl.append(c)
        audio.append(a)
    return torch.as_tensor(np.stack(ctrl)), torch.as_tensor(np.stack(audio))


def set_range(model, recs: list[Recording]) -> None:
    """The f0 range, median and loudness distribution of the training notes (voiced frames)."""
    f0 = np.concatenate([r.frames[r.voiced, 0] for r in recs])
    loud = np.concatenate([r.frames[r.voiced, 1] for r in recs])
    with torch.no_grad():
        model.f0_range_hz.copy_(torch.tensor(np.percentile(f0, [1, 99]), dtype=torch.float32))
        model.f0_median_hz.fill_(float(np.median(f0)))
        model.loudness_quantiles_db.copy_(torch.tensor(np.quantile(loud, np.linspace(0, 1, 21)), dtype=torch.float32))


PITCH_TRACKERS = ("auto", "crepe", "yin")
VALIDATION_SEGMENTS = 16


def check_options(options: dict) -> dict:
    """The timbre family's training options, refused before any work when out of range (``ConfigError``)."""
    from xmedia.limits import check

    holdout = options["holdout"]
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0.0 < holdout < 1.0:
        raise ConfigError(f"holdout is the fraction of whole files held out: a number in (0, 1), got {holdout!r}")
    if options["pitch"] not in PITCH_TRACKERS:
        raise ConfigError(f"pitch must be one of {PITCH_TRACKERS}, got {options['pitch']!r}")
    seg = options["segment_s"]
    if isinstance(seg, bool) or not isinstance(seg, (int, float)) or not 0.05 <= seg <= 10.0:
        raise ConfigError(f"segment_s (seconds of one training segment) must be in [0.05, 10], got {seg!r}")
    check("train_crop_px", int(round(seg * 16000 / HOP)), "segment_s in frames")
    return {**options, "holdout": float(holdout), "segment_s": float(seg)}


class TimbreTask(Task):
    """Random segments of the training files; held-out loss on fixed segments of the held-out files."""

    loss_name = "multi-scale spectral loss"

    def __init__(self, model, data, holdout: float, pitch: str, segment_s: float):
        self.model, self.source, self.holdout, self.pitch = model, data, holdout, pitch
        self.frames = max(8, int(round(segment_s * 16000 / HOP)))

    def setup(self, runner) -> None:
        o = self.options
        shown = o.get("progress") or (o.get("progress") is None and sys.stderr.isatty())
        self.data = prepare(self.source, holdout=self.holdout, seed=o.get("seed", 0), pitch=self.pitch,
                            progress=bool(shown) and runner.is_main)
        set_range(self.model, self.data.train)
        self.val = segments(self.data.held_out, self.frames, VALIDATION_SEGMENTS,
                            np.random.default_rng(o.get("seed", 0) + 1))

    def batch(self, step, rng):
        c, a = segments(self.data.train, self.frames, self.options["batch_size"], rng)
        return c, a, int(rng.integers(0, 1 << 15))

    def loss(self, net, batch):
        from .synth import multiscale_spectral_loss

        controls, audio, offset = batch
        return multiscale_spectral_loss(net(controls, noise_offset=offset), audio)

    def validate(self, model):
        return evaluate(model, *self.val)

    def finish(self, result) -> None:
        d = self.data
        result.extra.update(train_files=[r.name for r in d.train], held_out_files=[r.name for r in d.held_out],
                            skipped=d.skipped, pitch=d.pitch)
        self.model.card = {**self.model.card,
                           "metrics": {"held-out multi-scale spectral loss": round(result.best_val, 4)},
                           "data": f"{len(d.train)} training files, {len(d.held_out)} held out: "
                                   f"{', '.join(r.name for r in d.held_out)}",
                           "objective": "multi-scale spectral loss, early stopping on the held-out files"}


def evaluate(model, controls: torch.Tensor, audio: torch.Tensor) -> float:
    from .synth import multiscale_spectral_loss

    model.eval()
    with torch.no_grad():
        return float(multiscale_spectral_loss(model.render(controls)[0], audio))
