"""Scoring visual onsets against the clip's real sound, and cross-validation split by clip.

Every detector gives event times per clip; ``f_measure`` scores them against the sound's onsets (by default
those of an independent detector, librosa's, when it is installed; else the training labels) within 50 and
100 ms (``mir_eval.onset.f_measure`` when installed, else the same one-to-one matching). The detectors beside
the model: ``classic_events`` (today's detector, kept as it was), ``frame_diff_curve`` (a plain frame-difference
detector, its threshold tuned on the training clips like the model's) and ``chance_f`` (random onsets of the
same count as the truth, averaged over seeds). ``cross_validate`` trains and tunes inside the training folds
only (``train_tuned``: ``fit`` per fold, ``tune_detection`` on inner folds), then scores the held-out fold;
``score_clips`` scores a model on clips it never saw (``xmedia eval visual-onsets --data DIR``).

Beside F, both report the density-fair measures of ``measure`` for the model, the classic detector and frame
difference: kappa at the detector's own event count (against all real onsets and the salient ones), the AUC of its
per-frame curve at the real onsets and its density ratio; ``cross_validate`` also keeps the held-out probability
curves' reliability diagram (``result["reliability"]``). ``fair_table`` prints them.
"""
from __future__ import annotations

import numpy as np

from ..perceptual.space import pick_events
from . import measure
from .data import ClipData, _local_median_1d
from .model import EVENT_FLOOR, fit_platt, logit, pick_onsets

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


def reference_strength(clip: ClipData):
    """The real onsets' relative strengths (None when the reference is the training labels: all count)."""
    return clip.truth_strength if clip.truth_s is not None else None


def fair(clip: ClipData, events_s, curve=None) -> dict[str, float]:
    """``measure.fair_scores`` of one detector on one clip (its curve over the clip's frames for the AUC)."""
    duration = clip.duration_s or (float(clip.times_s[-1]) + 1.0 / clip.fps if len(clip.times_s) else 0.0)
    return measure.fair_scores(reference(clip), reference_strength(clip), events_s, duration, curve, clip.times_s)


def detector_row(clip: ClipData, twin, diff_threshold: float, curve=None) -> dict:
    """F@50/F@100 and the density-fair scores of the model, the classic detector and frame difference on one
    clip, chance F (random at the truth's count) and the counts."""
    curve = twin.curve_from_motion(clip.motion, clip.fps) if curve is None else curve
    fd_curve = frame_diff_curve(clip)
    row = {}
    for name, events, c in (("model", twin.events(curve, clip.times_s, classic=clip.classic)[0], curve),
                            ("classic", classic_events(clip), clip.classic),
                            ("frame_diff", pick_onsets(fd_curve, clip.times_s, diff_threshold)[0], fd_curve)):
        row.update({f"{name} {k_}": v for k_, v in scores(clip, events).items()})
        row.update({f"{name} {k_}": v for k_, v in fair(clip, events, c).items()})
        row[f"{name} n"] = len(events)
    for point in ("all", "salient"):  # the encoder's events= operating points, and frame difference at their count
        events = twin.pick(curve, clip.times_s, point, classic=clip.classic, duration_s=clip.duration_s)[0]
        same = top_peaks(fd_curve, clip.times_s, len(events))
        for name, ev, c in ((f"model_{point}", events, curve), (f"fd_{point}", same, fd_curve)):
            row.update({f"{name} {k_}": v for k_, v in scores(clip, ev).items()})
            row.update({f"{name} {k_}": v for k_, v in fair(clip, ev, c).items()})
            row[f"{name} n"] = len(ev)
    row.update({f"chance {k_}": v for k_, v in chance_f(clip).items()})
    row["truth n"] = len(reference(clip))
    sal = measure.salient_onsets(reference(clip), reference_strength(clip))
    row["salient n"] = len(sal)
    row["duration s"] = float(clip.duration_s)
    return row


def top_peaks(curve, times, count: int):
    """The ``count`` strongest peaks of ``curve`` (a detector at a given event count), in time order."""
    events = pick_onsets(curve, times, 1e-9)[0]
    if count <= 0 or not events:
        return ()
    t = np.asarray([float(x) for x in times], np.float64)
    peak = np.array([curve[int(np.argmin(np.abs(t - float(e))))] for e in events])
    return tuple(events[i] for i in np.sort(np.argsort(-peak, kind="stable")[:count]))


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
        oof_curves = [twin.curve_from_motion(c.motion, c.fps, calibrated=False) for c in clips]
        oof_clips = list(clips)
    if hasattr(model, "set_calibration"):
        a, b = fit_calibration(oof_curves, oof_clips)
        oof_curves = [_platt(k, a, b) for k in oof_curves]
        model.set_calibration(a, b, best_count_scale(oof_curves, oof_clips))
    th = best_threshold(oof_curves, oof_clips)
    model.set_detection(th, best_offset(oof_curves, oof_clips, th))


def _platt(curve, a: float, b: float) -> np.ndarray:
    out = 1.0 / (1.0 + np.exp(-np.clip(a * logit(curve) + b, -60, 60)))
    out[np.asarray(curve) <= 0] = 0.0  # the first frame stays 0
    return out


def fit_calibration(curves, clips) -> tuple[float, float]:
    """Platt scaling of held-out (uncalibrated) curves against "this frame is the one nearest a real onset"
    (``measure.nearest_frame_hits``, the outcome of the reliability diagram); the first frames (0) left out."""
    z, y = [], []
    for k, c in zip(curves, clips):
        k = np.asarray(k, np.float64)
        ok = k > 0
        z.append(logit(k[ok]))
        y.append(measure.nearest_frame_hits(c.times_s, reference(c), c.fps)[ok])
    return fit_platt(np.concatenate(z) if z else [], np.concatenate(y) if y else [])


COUNT_SCALES = np.round(np.arange(0.4, 3.01, 0.1), 2)


def best_count_scale(curves, clips) -> float:
    """The ``count_scale`` of the "all" operating point whose event counts are nearest the real ones over these
    (held-out) clips: the smallest mean |log((events + 0.5) / (real onsets + 0.5))|."""
    peaks, sums, truth = [], [], []
    for k, c in zip(curves, clips):
        peaks.append(len(pick_onsets(k, c.times_s, EVENT_FLOOR)[0]))
        sums.append(float(np.sum(k)))
        truth.append(len(reference(c)))
    if not peaks:
        return 1.0
    peaks, sums, truth = np.array(peaks), np.array(sums), np.array(truth)

    def err(scale):
        n = np.minimum(np.round(scale * sums), peaks)
        return float(np.mean(np.abs(np.log((n + 0.5) / (truth + 0.5)))))

    return float(min(COUNT_SCALES, key=err))


def train_tuned(train, make_model, inner_folds: int = 3, seed: int = 0, **fit):
    """``(model, TrainResult)``: ``make_model()`` fitted on ``train`` (quietly), its threshold and offset tuned on
    inner held-out folds of ``train`` (``tune_detection``, at the end of the fit)."""
    model = make_model()
    return model, model.fit(train, seed=seed, folds=None, inner_folds=inner_folds, progress=False, **fit)


def cross_validate(clips, make_model, k: int = 5, seed: int = 0, group=None, progress=None, inner_folds: int = 3,
                   **fit) -> dict:
    """Per fold and overall mean per-clip F@50/F@100 of the model, the classic detector, the frame-difference
    baseline and chance; plus per-clip rows. Thresholds are tuned inside the training folds only."""
    rows, fold_rows, probs, raw, outcomes = [], [], [], [], []
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
            curve = twin.curve_from_motion(c.motion, c.fps)
            row = {"clip": c.name, "fold": f, "threshold": twin.threshold,
                   **detector_row(c, twin, diff_th, curve)}
            fold.append(row)
            probs.append(curve)
            raw.append(twin.curve_from_motion(c.motion, c.fps, calibrated=False))
            outcomes.append(measure.nearest_frame_hits(c.times_s, reference(c), c.fps))
        rows += fold
        fold_rows.append(summarise(fold, f"fold {f}"))
    y = np.concatenate(outcomes) if outcomes else []
    rel = measure.reliability(np.concatenate(probs) if probs else [], y)
    rel_raw = measure.reliability(np.concatenate(raw) if raw else [], y)
    return {"clips": rows, "folds": fold_rows, "overall": summarise(rows, "overall"), "reliability": rel,
            "reliability_uncalibrated": rel_raw}


METHODS = ("model", "classic", "frame_diff", "chance")
DETECTORS = ("model", "model_all", "model_salient", "classic", "frame_diff", "fd_all", "fd_salient")
FAIR = ("kappa", "kappa salient", "AUC", "density", "F chance")


def summarise(rows, label: str) -> dict:
    """Mean per-clip scores of ``rows``; NaN-free means for the fair measures (a clip without a salient onset has
    no salient kappa), and the share of clips whose density ratio is within 0.5-2x."""
    out = {"split": label, "n clips": len(rows)}
    for m in METHODS:
        for w in ("F@50", "F@100"):
            out[f"{m} {w}"] = float(np.mean([r[f"{m} {w}"] for r in rows])) if rows else 0.0
    for m in DETECTORS:
        for k_ in FAIR:
            vals = [r[f"{m} {k_}"] for r in rows if f"{m} {k_}" in r and np.isfinite(r[f"{m} {k_}"])]
            out[f"{m} {k_}"] = float(np.mean(vals)) if vals else float("nan")
        dens = [r[f"{m} density"] for r in rows if f"{m} density" in r and np.isfinite(r[f"{m} density"])]
        out[f"{m} density 0.5-2x"] = float(np.mean([0.5 <= d <= 2.0 for d in dens])) if dens else float("nan")
    return out


def fair_table(result: dict, rows_key: str = "folds", total_key: str = "overall") -> str:
    """The density-fair measures per split: kappa (all real onsets / salient ones), AUC and density ratio of the
    model (tuned threshold), its "all" and "salient" operating points, frame difference (tuned threshold, and at
    the same count as "all" / "salient": fd@all, fd@sal); chance is kappa 0, AUC 0.5 by construction."""
    cols = [("model", "kappa"), ("model_all", "kappa"), ("fd_all", "kappa"), ("model_salient", "kappa"),
            ("fd_salient", "kappa"), ("frame_diff", "kappa"), ("model", "kappa salient"),
            ("model_all", "kappa salient"), ("model_salient", "kappa salient"), ("fd_salient", "kappa salient"),
            ("frame_diff", "kappa salient"), ("model", "AUC"), ("frame_diff", "AUC"), ("model", "density"),
            ("model_all", "density"), ("model_salient", "density"), ("frame_diff", "density"),
            ("model_all", "density 0.5-2x")]
    names = {"kappa": "kap", "kappa salient": "k.sal", "AUC": "AUC", "density": "dens", "density 0.5-2x": "d.ok",
             "F chance": "chanceF"}
    short = {"frame_diff": "fd", "model_all": "all", "model": "thr", "model_salient": "sal", "fd_all": "fd@all",
             "fd_salient": "fd@sal"}
    head = f"{'split':<10}{'clips':>6}" + "".join(f"{short[m] + ' ' + names[k]:>12}" for m, k in cols)
    lines = [head]
    for r in list(result[rows_key]) + [result[total_key]]:
        lines.append(f"{r['split']:<10}{r['n clips']:>6}" + "".join(f"{r.get(f'{m} {k}', float('nan')):>12.3f}"
                                                                    for m, k in cols))
    lines.append("kap = kappa = (F@100 - F@100 of as many random events) / (1 - that), so chance at the same "
                 "count is 0; k.sal: against the salient real onsets (>= 40 % of the clip's 99th-percentile onset "
                 "strength); "
                 "AUC of the per-frame curve at real onsets (chance 0.5); dens = events / real onsets; d.ok = share "
                 "of clips within 0.5-2x. thr: the model at its tuned threshold; all / sal: the events='all' / "
                 "'salient' operating points; fd: frame difference at its tuned threshold, fd@all / fd@sal: its "
                 "strongest peaks at the same count as all / sal")
    rel, raw = result.get("reliability"), result.get("reliability_uncalibrated")
    if rel is not None and raw is not None:
        lines.append(f"held-out calibration (frame nearest a real onset): ECE {raw['ece']:.3f} -> {rel['ece']:.3f} "
                     f"calibrated, Brier {raw['brier']:.4f} -> {rel['brier']:.4f}")
    return "\n".join(lines)


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
    rows = [{"clip": c.name, **detector_row(c, twin, diff_threshold)} for c in clips]
    return {"clips": rows, "mean": summarise(rows, label)}


def clips_table(scored: dict) -> str:
    """``table`` of ``score_clips``: a line per clip, then the mean."""
    per_clip = [dict(r, split=r["clip"][:10], **{"n clips": 1}) for r in scored["clips"]]
    return table({"folds": per_clip, "overall": scored["mean"]})


def clips_fair_table(scored: dict) -> str:
    """``fair_table`` of ``score_clips``: a line per clip, then the mean."""
    per_clip = [dict(summarise([r], r["clip"][:10]), **{"n clips": 1}) for r in scored["clips"]]
    return fair_table({"folds": per_clip, "overall": scored["mean"]})
