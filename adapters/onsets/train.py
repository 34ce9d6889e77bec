"""Training a visual-onset model on a folder of videos with sound: gather, check, cross-validate, fit, report.

``gather(files)`` decodes each clip once; clips without sound or with silent sound are skipped (and counted),
clips whose sound is offset from their picture are flagged and left out of training (``offset_check``).
``train(clips)`` cross-validates by clip (thresholds tuned inside the training folds), then fits the final
model on every clip with its threshold tuned on inner folds. ``report_png`` draws per-clip F and the loss.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError, MediaError, XMediaError

from .data import ClipData, cached_clip, clip_data, load_clip, out_of_sync, sync_offset_s, usable, video_files
from .evaluate import cross_validate, table, train_tuned


@dataclass
class Gathered:
    clips: list[ClipData] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file name -> why (no sound, silent sound, unreadable)
    offsets: dict[str, float] = field(default_factory=dict)  # file name -> picture/sound lag (s), every clip
    flagged: dict[str, float] = field(default_factory=dict)  # the clips whose lag exceeds MAX_OFFSET_S (left out)

    def summary(self) -> str:
        lines = [f"{len(self.clips)} clip(s) used, {len(self.skipped)} skipped, {len(self.flagged)} flagged as "
                 "out of sync (left out of training)"]
        lines += [f"  skipped {name}: {why}" for name, why in sorted(self.skipped.items())]
        lines += [f"  out of sync {name}: the sound is {lag * 1000:+.0f} ms from the picture"
                  for name, lag in sorted(self.flagged.items())]
        return "\n".join(lines)


def offset_check(clip: ClipData, model) -> tuple[float, bool]:
    """``(lag in s, flagged)``: where ``model``'s visual-onset strength best matches the sound's onset strength
    (positive: the sound comes late), and whether that is a clear offset (``data.out_of_sync``)."""
    lag, peak, at_zero = sync_offset_s(model.curve_from_motion(clip.motion, clip.fps), clip.sound_envelope, clip.fps)
    return lag, out_of_sync(lag, peak, at_zero)


def gather(files, cache_dir=None, truth: bool | None = None, progress=None, sync_model="shipped",
           videos=None) -> Gathered:
    """Decode ``files`` (or in-memory ``videos``: ``{name: Video}``) into ``ClipData``, skipping clips without
    (audible) sound, then flag and leave out the clips whose sound is offset from the picture.

    ``sync_model``: the visual-onset strength the sync check correlates with the sound: ``"shipped"`` (the zoo
    model; a quick fit on these clips when it is missing), ``"fit"`` (a quick fit on these clips: a 7-frame
    model cannot learn a lag of several frames), an ``OnsetModel``, or ``None`` (no check)."""
    if truth is None:
        truth = _has_librosa()
    out = Gathered()
    items = [(Path(f).name, f) for f in files] + list((videos or {}).items())
    if progress is not None:
        items = progress(items)
    for name, src in items:
        try:
            video = load_clip(src) if isinstance(src, (str, Path)) else src
            why = usable(video)
            if why is not None:
                out.skipped[name] = why
                continue
            clip = cached_clip(src, cache_dir, truth=truth) if isinstance(src, (str, Path)) else \
                clip_data(video, name, truth=truth)
        except XMediaError as exc:
            out.skipped[name] = f"unreadable ({exc})"
            continue
        out.clips.append(clip)
    model = _sync_model(sync_model, out.clips)
    if model is not None:
        kept = []
        for clip in out.clips:
            lag, flagged = offset_check(clip, model)
            out.offsets[clip.name] = lag
            if flagged:
                out.flagged[clip.name] = lag
            else:
                kept.append(clip)
        out.clips = kept
    return out


def _sync_model(choice, clips):
    from .model import resolve

    if choice is None or not clips:
        return None
    if choice == "shipped":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = resolve("visual-onsets")
        if found is not None:
            return found
        choice = "fit"
    if choice == "fit":
        from .process import VisualOnsets

        quick = VisualOnsets()
        quick.fit(clips, epochs=150)
        return quick.onset_model()
    return resolve(choice)


def _has_librosa() -> bool:
    try:
        import librosa  # noqa: F401
    except ImportError:
        return False
    return True


def collect(data_dir, **options) -> Gathered:
    """``gather`` a folder; a folder with no usable clip is a clear error."""
    folder = Path(data_dir)
    if not folder.exists():
        raise ConfigError(f"--data {folder}: no such file or folder")
    files = video_files(folder)
    if not files:
        raise MediaError(f"{folder} holds no video ({', '.join(('.mp4', '.mov', '.mkv', '.avi', '.webm', '.mpg'))}); "
                         "give a folder of videos with their own sound")
    got = gather(files, **options)
    if not got.clips:
        raise MediaError(f"{folder}: none of its {len(files)} video(s) can teach visual onsets\n{got.summary()}\n"
                         "give videos whose own sound (not added music) was recorded with the picture")
    return got


def group_of(name: str) -> str:
    """Clips of one source stay in one fold: GRID sentences (one speaker set) share a group."""
    return "grid_speech" if name.endswith(".mpg") else name


def train(clips, folds: int = 5, seed: int = 0, epochs: int = 300, progress=None, distributed: bool | None = None,
          **model_options):
    """``(model, cross-validation result, loss curve)``: CV by clip, then the final fit on every clip.
    ``distributed``: every fit runs data-parallel under ``torchrun`` (see ``xmedia.scale.runner``)."""
    from xmedia.scale import is_main_process

    from .process import VisualOnsets

    progress = progress if is_main_process() else None
    if len(clips) < 2:
        raise ConfigError(f"training needs at least 2 usable clips (cross-validation is by clip), got {len(clips)}")

    def make():
        return VisualOnsets(**model_options)

    k = max(2, min(folds, len(clips)))
    cv = cross_validate(clips, make, k=k, seed=seed, group=group_of, progress=progress, epochs=epochs,
                        distributed=distributed)
    model, fit = train_tuned(clips, make, seed=seed, group=group_of, epochs=epochs, distributed=distributed)
    return model, cv, fit["loss"]


def report_png(path, cv: dict, loss, threshold: float, gathered: Gathered | None = None) -> Path:
    """Per-clip held-out F@100 (model, frame difference, chance) and the final fit's loss with its threshold."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    rows = cv["clips"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, max(3.5, 0.22 * len(rows) + 1.5)),
                                 gridspec_kw={"width_ratios": [3, 1]})
    y = np.arange(len(rows))
    for dy, key, colour in ((-0.25, "model", "C0"), (0, "frame_diff", "C1"), (0.25, "chance", "0.6")):
        ax.barh(y + dy, [r[f"{key} F@100"] for r in rows], height=0.25, color=colour, label=key.replace("_", " "))
    ax.set_yticks(y, [f"{r['clip'][:32]} (fold {r['fold']})" for r in rows], fontsize=7)
    ax.invert_yaxis()
    o = cv["overall"]
    ax.set_xlabel("held-out F within 100 ms of the clip's sound onsets")
    ax.set_title(f"cross-validated by clip: model {o['model F@100']:.2f}, frame diff {o['frame_diff F@100']:.2f}, "
                 f"chance {o['chance F@100']:.2f}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    bx.plot(loss)
    bx.set_xlabel("epoch")
    bx.set_ylabel("training loss (BCE)")
    text = f"threshold {threshold:.2f}"
    if gathered is not None:
        text += f"\nskipped {len(gathered.skipped)}, out of sync {len(gathered.flagged)}"
        text += "".join(f"\n{n[:22]} {lag * 1000:+.0f} ms" for n, lag in gathered.flagged.items())
    bx.text(0.98, 0.98, text, transform=bx.transAxes, ha="right", va="top", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def cv_text(cv: dict) -> str:
    return table(cv)
