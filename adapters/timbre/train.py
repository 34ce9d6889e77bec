"""Training a ``Timbre`` on a folder of recordings of one instrument or voice (a few minutes is enough).

Whole files are held out (``holdout`` of them, at least one) for early stopping and for the numbers in the
model card; training draws random one-second segments of the other files. Loss: DDSP's multi-scale spectral
loss. Stops at ``max_minutes`` or ``max_steps``, or when the held-out loss has not improved for ``patience``
evaluations, and keeps the best weights. ``report=`` writes the loss curves as a PNG.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from xmedia.errors import ConfigError, MediaError
from xmedia.manifest import is_manifest, manifest_files

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
    n_out = max(1, int(round(holdout * len(recs)))) if len(recs) > 1 else 0
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


def fit(model, data, max_minutes: float = 20.0, max_steps: int = 4000, batch_size: int = 8, segment_s: float = 0.5,
        learning_rate: float = 1e-3, holdout: float = 0.15, eval_every: int = 100, patience: int = 6,
        seed: int = 0, pitch: str = "auto", progress: bool = False, report=None, clock: str = "wall",
        distributed: bool | None = None) -> dict:
    """Train ``model`` in place; returns the history, the held-out loss and the split.

    ``max_minutes`` counts wall-clock time (``clock="wall"``) or this process's CPU time (``"cpu"``: on a shared
    machine the budget then buys the same training as on an idle one). ``distributed``: data-parallel under
    ``torchrun`` (see ``xmedia.scale.runner``); each process draws its own segments."""
    from xmedia.scale import runner

    from .synth import multiscale_spectral_loss

    if clock not in ("wall", "cpu"):
        raise ConfigError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    now = time.perf_counter if clock == "wall" else time.process_time
    eval_every = max(1, min(eval_every, max_steps // 5))
    r = runner(distributed)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + r.process_index)
    started, wall_started = now(), time.perf_counter()
    data = prepare(data, holdout=holdout, seed=seed, pitch=pitch, progress=progress and r.is_main)
    set_range(model, data.train)
    frames = max(8, int(round(segment_s * 16000 / HOP)))
    val_c, val_a = segments(data.held_out, frames, 16, np.random.default_rng(seed + 1))
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.98)
    net, opt = r.prepare(model, opt)
    history = {"step": [], "train": [], "held_out": []}
    best, best_state, waited, running = float("inf"), None, 0, []
    bar = None
    if progress and r.is_main:
        from tqdm import tqdm

        bar = tqdm(total=max_steps, desc="training timbre", unit="step")
    step = 0
    for step in range(1, max_steps + 1):
        model.train()
        c, a = segments(data.train, frames, batch_size, rng)
        out = net(c, noise_offset=int(rng.integers(0, 1 << 15)))
        loss = multiscale_spectral_loss(out, a)
        if not torch.isfinite(loss):
            raise ConfigError("the timbre loss became NaN/inf: lower learning_rate")
        opt.zero_grad()
        r.backward(loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 3.0)
        opt.step()
        running.append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(running[-20:]):.3f}", best=f"{best:.3f}")
        if step % eval_every == 0:
            sched.step()
            val = evaluate(model, val_c, val_a)
            history["step"].append(step)
            history["train"].append(float(np.mean(running[-eval_every:])))
            history["held_out"].append(val)
            if val < best - 1e-4:
                best, waited = val, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
            if r.any(waited >= patience or (now() - started) / 60 >= max_minutes):
                break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    minutes = (now() - started) / 60
    result = {"steps": step, "minutes": round(minutes, 2), "clock": clock,
              "wall_minutes": round((time.perf_counter() - wall_started) / 60, 2), "held_out_loss": round(best, 4),
              "train_files": [r.name for r in data.train], "held_out_files": [r.name for r in data.held_out],
              "history": history, "skipped": data.skipped, "pitch": data.pitch}
    if report is not None and history["step"] and r.is_main:
        write_loss_report(report, history, title=f"timbre training ({minutes:.1f} min, best held-out {best:.3f})")
    return result


def evaluate(model, controls: torch.Tensor, audio: torch.Tensor) -> float:
    from .synth import multiscale_spectral_loss

    model.eval()
    with torch.no_grad():
        return float(multiscale_spectral_loss(model.render(controls)[0], audio))


def write_loss_report(path, history: dict, title: str = "") -> Path | None:
    """The training and held-out loss curves as a PNG (nothing when no evaluation ran)."""
    from xmedia.report import pyplot, save_figure

    if not history.get("step"):
        return None

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["train"], label="training segments")
    ax.plot(history["step"], history["held_out"], label="held-out files")
    ax.set_xlabel("step")
    ax.set_ylabel("multi-scale spectral loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)
