"""Clips to learn visual onsets from: decode each once, skip those without (audible) sound, flag and leave out
those whose sound is offset from the picture (``offset_check``).

``gather(files)`` does it for a list of files (or in-memory videos), ``collect(data)`` for a folder, a ``.jsonl``
manifest or a list of them (none usable is a clear error). The sync check needs a visual-onset model: the shipped
one, or ``fit_model(clips)`` (a quick fit on the clips themselves, given by the caller: ``train.gather`` and the
trainer's ``OnsetTask`` pass one).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from xmedia.errors import ConfigError, MediaError, XMediaError

from .data import ClipData, cached_clip, clip_data, load_clip, out_of_sync, sync_offset_s, usable, video_files


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
           videos=None, fit_model=None) -> Gathered:
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
    model = _sync_model(sync_model, out.clips, fit_model)
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


def _sync_model(choice, clips, fit_model=None):
    from .model import resolve

    if choice is None or not clips:
        return None
    if choice == "shipped":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = resolve("visual-onsets")
        if found is not None or fit_model is None:
            return found
        choice = "fit"
    if choice == "fit":
        if fit_model is None:
            raise ConfigError("sync_model='fit' needs fit_model (use xmedia.adapters.onsets.train.gather)")
        return fit_model(clips)
    return resolve(choice)


def _has_librosa() -> bool:
    try:
        import librosa  # noqa: F401
    except ImportError:
        return False
    return True


def collect(data, **options) -> Gathered:
    """``gather`` a folder or ``.jsonl`` manifest of videos (or a list of them); none usable is a clear error."""
    sources = [Path(d) for d in (data if isinstance(data, (list, tuple)) else [data])]
    files = []
    for folder in sources:
        if not folder.exists():
            raise ConfigError(f"--data {folder}: no such file or folder")
        files += video_files(folder)
    where = ", ".join(map(str, sources))
    if not files:
        raise MediaError(f"{where} holds no video ({', '.join(('.mp4', '.mov', '.mkv', '.avi', '.webm', '.mpg'))}); "
                         "give a folder of videos with their own sound")
    got = gather(files, **options)
    if not got.clips:
        raise MediaError(f"{where}: none of its {len(files)} video(s) can teach visual onsets\n{got.summary()}\n"
                         "give videos whose own sound (not added music) was recorded with the picture")
    return got
