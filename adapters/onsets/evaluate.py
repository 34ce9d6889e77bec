"""Scoring visual onsets against the clip's real sound, and cross-validation split by clip.

Every detector gives event times per clip; ``f_measure`` scores them against the sound's onsets (by default
those of an independent detector, librosa's, when it is installed; else the training labels) within 50 and
100 ms (``mir_eval.onset.f_measure`` when installed, else the same one-to-one matching). The detectors beside
the model: ``classic_events`` (today's detector, kept as it was), ``frame_diff_curve`` (a plain frame-difference
detector, its threshold tuned on the training clips like the model's) and ``chance_f`` (random onsets of the
same count as the truth, averaged over seeds). ``cross_validate`` trains and tunes inside the training folds
only (``train_tuned``: ``fit`` per fold, ``tune_detection`` on inner folds), then scores the held-out fold;
``score_clips`` scores a model on clips it never saw (``xmedia eval visual-onsets --data DIR``).
"""
from __future__ import annotations

import numpy as np

from ..perceptual.space import pick_events
from .data import ClipData, _local_median_1d
from .model import pick_onsets

WINDOWS_S = (0.05, 0.1)
THRESHOLDS = np.round(np.concatenate([np.arange(0.02, 0.1, 0.02), np.arange(0.1, 0.951, 0.05)]), 3)


def f_measure(truth_s, events_s, window_s: float) -> float:
    truth = np.sort(np.asarray(truth_s, np.float64))
    est = np.sort(np.asarray([float(e) for e in events_s], np.float64))
    if len(truth) == 0 or len(est) == 0:
        return 0.0
    try:
        import mir_eval

        return float(mir_eval.onset.f_measure(truth, est, window=window_s)[0])
    except ImportError:  # the same greedy one-to-one matching in time order (optimal on a line)
        i = j = hits = 0
        while i < len(truth) and j < len(est):
            if abs(truth[i] - est[j]) <= window_s:
                hits, i, j = hits + 1, i + 1, j + 1
            elif est[j] < truth[i]:
                j += 1
            else:
                i += 1
        return 2 * hits / (len(truth) + len(est))


def reference(clip: ClipData) -> np.ndarray:
    return clip.truth_s if clip.truth_s is not None else clip.label_s


def scores(clip: ClipData, events_s) -> dict[str, float]:
    return {f"F@{round(w * 1000)}": f_measure(reference(clip), events_s, w) for w in WINDOWS_S}


def classic_events(clip: ClipData):
    """Today's detector: the classic onset axis, ``pick_events`` at threshold 0.3, 0.15 s apart."""
    return pick_events(clip.classic, [float(t) for t in clip.times_s], min_gap_s=0.15)[0]


def frame_diff_curve(clip: ClipData) -> np.ndarray:
    """Plain frame difference above its local median, scaled to its clip's 99th percentile (0..1)."""
    d = np.asarray(clip.frame_diff, np.float64)
    c = np.maximum(0.0, d - _local_median_1d(d, int(round(clip.fps))))
    return np.clip(c / (np.percentile(c, 99) + 1e-9), 0, 1) if len(c) else c


def chance_f(clip: ClipData, seeds: int = 20) -> dict[str, float]:
    truth = reference(clip)
    out = {}
    for w in WINDOWS_S:
        vals = [f_measure(truth, np.random.default_rng(s).uniform(0, clip.duration_s, len(truth)), w)
                for s in range(seeds)]
        out[f"F@{round(w * 1000)}"] = float(np.mean(vals))
    return out


def best_threshold(curves, clips, offset_s: float = 0.0, window_s: float = 0.1) -> float:
    """The threshold with the best mean F@``window_s`` over these (training) clips."""
    def mean_f(th):
        return np.mean([f_measure(reference(c), pick_onsets(k, c.times_s, th, offset_s=offset_s)[0], window_s)
                        for k, c in zip(curves, clips)])

    return float(max(THRESHOLDS, key=mean_f))


def best_offset(curves, clips, threshold: float) -> float:
    """Median signed gap from each picked event to its nearest true onset (within 100 ms): a constant lag."""
    gaps = []
    for k, c in zip(curves, clips):
        ref = reference(c)
        if len(ref) == 0:
            continue
        for e in pick_onsets(k, c.times_s, threshold)[0]:
            d = ref - float(e)
            g = d[np.argmin(np.abs(d))]
            if abs(g) <= 0.1:
                gaps.append(g)
    return float(np.clip(np.median(gaps), -0.05, 0.05)) if gaps else 0.0


def group_of(name: str) -> str:
    """Clips of one source stay in one fold: GRID sentences (one speaker set) share a group."""
    return "grid_speech" if name.endswith(".mpg") else name


def folds_by_clip(clips, k: int, seed: int = 0, group=None) -> list[np.ndarray]:
    """``k`` folds of clip indices; clips of one ``group(name)`` (one speaker, one source) stay together."""
    names = [c.name for c in clips]
    groups = sorted({(group or (lambda n: n))(n) for n in names})
    order = np.random.default_rng(seed).permutation(len(groups))
    fold_of = {groups[g]: i % k for i, g in enumerate(order)}
    return [np.array([j for j, n in enumerate(names) if fold_of[(group or (lambda n: n))(n)] == f]) for f in range(k)]


def tune_detection(model, clips, make_model, inner_folds: int = 3, seed: int = 0, group=None, **fit) -> None:
    """Set ``model``'s threshold and offset from the curves of inner held-out folds of ``clips`` (each scored by
    ``make_model()`` fitted on the others with ``fit`` options); with fewer than 2 inner folds, from the
    training clips themselves (optimistic; for quick runs)."""
    oof_curves, oof_clips = [], []
    for idx in (folds_by_clip(clips, min(inner_folds, len(clips)), seed + 1, group) if inner_folds > 1 else []):
        if len(idx) == 0 or len(idx) == len(clips):
            continue
        inner = make_model()
        inner.fit([c for j, c in enumerate(clips) if j not in set(idx)], seed=seed, folds=None, inner_folds=None,
                  progress=False, **fit)
        twin = inner.onset_model()
        for j in idx:
            oof_curves.append(twin.curve_from_motion(clips[j].motion, clips[j].fps))
            oof_clips.append(clips[j])
    if not oof_clips:
        twin = model.onset_model()
        oof_curves, oof_clips = [twin.curve_from_motion(c.motion, c.fps) for c in clips], list(clips)
    th = best_threshold(oof_curves, oof_clips)
    model.set_detection(th, best_offset(oof_curves, oof_clips, th))


def train_tuned(train, make_model, inner_folds: int = 3, seed: int = 0, **fit):
    """``(model, TrainResult)``: ``make_model()`` fitted on ``train`` (quietly), its threshold and offset tuned on
    inner held-out folds of ``train`` (``tune_detection``, at the end of the fit)."""
    model = make_model()
    return model, model.fit(train, seed=seed, folds=None, inner_folds=inner_folds, progress=False, **fit)


def cross_validate(clips, make_model, k: int = 5, seed: int = 0, group=None, progress=None, inner_folds: int = 3,
                   **fit) -> dict:
    """Per fold and overall mean per-clip F@50/F@100 of the model, the classic detector, the frame-difference
    baseline and chance; plus per-clip rows. Thresholds are tuned inside the training folds only."""
    rows, fold_rows = [], []
    folds = folds_by_clip(clips, k, seed, group)
    it = enumerate(folds) if progress is None else progress(list(enumerate(folds)))
    for f, test_idx in it:
        train = [c for j, c in enumerate(clips) if j not in set(test_idx)]
        test = [clips[j] for j in test_idx]
        if not train or not test:
            continue
        model, _ = train_tuned(train, make_model, inner_folds, seed=seed, **fit)
        twin = model.onset_model()
        diff_th = best_threshold([frame_diff_curve(c) for c in train], train)
        fold = []
        for c in test:
            row = {"clip": c.name, "fold": f, "threshold": twin.threshold}
            curve = twin.curve_from_motion(c.motion, c.fps)
            for name, events in (("model", twin.events(curve, c.times_s, classic=c.classic)[0]),
                                 ("classic", classic_events(c)),
                                 ("frame_diff", pick_onsets(frame_diff_curve(c), c.times_s, diff_th)[0])):
                row.update({f"{name} {k_}": v for k_, v in scores(c, events).items()})
                row[f"{name} n"] = len(events)
            row.update({f"chance {k_}": v for k_, v in chance_f(c).items()})
            row["truth n"] = len(reference(c))
            fold.append(row)
        rows += fold
        fold_rows.append(summarise(fold, f"fold {f}"))
    return {"clips": rows, "folds": fold_rows, "overall": summarise(rows, "overall")}


METHODS = ("model", "classic", "frame_diff", "chance")


def summarise(rows, label: str) -> dict:
    out = {"split": label, "n clips": len(rows)}
    for m in METHODS:
        for w in ("F@50", "F@100"):
            out[f"{m} {w}"] = float(np.mean([r[f"{m} {w}"] for r in rows])) if rows else 0.0
    return out


def table(result: dict) -> str:
    head = f"{'split':<10}{'clips':>6}" + "".join(f"{m + ' ' + w:>17}" for m in METHODS for w in ("F@50", "F@100"))
    lines = [head]
    for r in result["folds"] + [result["overall"]]:
        lines.append(f"{r['split']:<10}{r['n clips']:>6}" + "".join(f"{r[f'{m} {w}']:>17.3f}" for m in METHODS
                                                                    for w in ("F@50", "F@100")))
    return "\n".join(lines)


def score_clips(model, clips, diff_threshold: float, label: str = "held out") -> dict:
    """Each clip's F@50/F@100 of ``model`` (a ``VisualOnsets`` or its twin), the classic detector, frame
    difference at ``diff_threshold`` and chance, and their mean (``{"clips": rows, "mean": row}``)."""
    twin = model.onset_model() if hasattr(model, "onset_model") else model
    rows = []
    for c in clips:
        row = {"clip": c.name}
        events = twin.events(twin.curve_from_motion(c.motion, c.fps), c.times_s, classic=c.classic)[0]
        row.update({f"model {k}": v for k, v in scores(c, events).items()})
        row.update({f"classic {k}": v for k, v in scores(c, classic_events(c)).items()})
        fd = pick_onsets(frame_diff_curve(c), c.times_s, diff_threshold)[0]
        row.update({f"frame_diff {k}": v for k, v in scores(c, fd).items()})
        row.update({f"chance {k}": v for k, v in chance_f(c).items()})
        rows.append(row)
    return {"clips": rows, "mean": summarise(rows, label)}


def clips_table(scored: dict) -> str:
    """``table`` of ``score_clips``: a line per clip, then the mean."""
    per_clip = [dict(r, split=r["clip"][:10], **{"n clips": 1}) for r in scored["clips"]]
    return table({"folds": per_clip, "overall": scored["mean"]})
