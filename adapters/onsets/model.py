"""The visual-onset model at inference: numpy only (no torch), from a saved ``VisualOnsets`` process.

``OnsetModel.load("visual-onsets")`` (a zoo name or a folder written by ``xmedia train visual-onsets``) reads the
weights with ``xmedia.pretrained.load_arrays``; ``model.curve(features)`` is the per-frame probability that the
frame makes a sound (a 1-D convolution over a few frames of ``features.sequence_features``, a ReLU, a linear
read-out and a sigmoid: exactly ``VisualOnsets.forward``), ``model.events(curve, times)`` picks the events.
``resolve(onset_model)`` turns the encoder's ``onset_model`` option into a model or ``None`` (the classic
detector), warning when the default weights are missing.

Calibration (issue 22): the network's sigmoid is not a probability (it learned labels of 1 on the onset frame and
0.5 on its neighbours, so it over-predicts about 2x). ``calib_a``/``calib_b`` are Platt scaling of its logit,
``p = sigmoid(calib_a * logit + calib_b)``, fitted on inner held-out folds against "this frame is the one nearest
a real onset" (``fit_platt``); ``count_scale`` corrects the expected count ``sum(p)`` of the "all" operating
point. All three are saved buffers whose defaults (1, 0, 1: identity) are used when a saved model lacks them, so
weights written before them load unchanged.

Operating points (``pick(curve, times, events=...)``, the encoder's ``events`` option; ``check_events``):

- ``"all"``: every sound-making event at the clip's own expected density, the ``round(count_scale * sum(p))``
  strongest peaks of the calibrated probability (``pick_expected``): a calm clip gets its few events, a busy one
  its many; no fixed rate.
- ``"salient"``: the strong ones among "all": salience >= ``SALIENT_LEVEL`` and at most ``SALIENT_PER_S`` a
  second (the strongest kept), so salient is always a subset of all.
- a probability in (0, 1): every peak of the calibrated probability at or above it (``pick_onsets``).

Each event's strength is its **salience**: its peak probability over the clip's strongest event peak (0..1, 1 =
the clip's most certain event); hard cuts and flashes (``with_cuts``) keep their classic onset value (>= 0.9).
Its **probability** is the calibrated curve at its frame: the onset axis of the encoder's track.
"""
from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, WeightsError
from xmedia.pretrained import WEIGHTS_NAME, load_arrays, locate

from .features import FEATURE_NAMES, sequence_features

DEFAULT = "visual-onsets"
CLASSIC = "classic"
CUT_ONSET = 0.9  # the classic onset axis at a hard cut or a flash (frame difference far above its recent median)
MIN_GAP_S = 0.15  # events closer than this need the picture to show two (a dip between the two peaks)


def pick_onsets(curve: np.ndarray, times, threshold: float, min_gap_s: float = MIN_GAP_S, valley: float = 0.5,
                offset_s: float = 0.0):
    """Events of a per-frame onset probability: local maxima above ``threshold``, strongest first.

    A peak closer than ``min_gap_s`` to a stronger one is kept only when the curve falls between the two to
    below ``valley`` times the weaker peak (two hits the picture shows, e.g. a fast drum roll), never closer
    than two frames. Strength: where the peak sits between the threshold (0.2) and certainty (1.0).
    Returns ``(times as Fractions, strengths)`` in time order, each time moved by ``offset_s``."""
    curve = np.nan_to_num(np.asarray(curve, np.float64))
    n = len(curve)
    if n == 0:
        return (), ()
    left = np.concatenate([[-np.inf], curve[:-1]])
    right = np.concatenate([curve[1:], [-np.inf]])
    peaks = np.flatnonzero((curve >= threshold) & (curve > left) & (curve >= right))
    t = np.asarray([float(x) for x in times], np.float64)
    kept: list[int] = []
    for i in sorted(peaks, key=lambda i: -curve[i]):
        ok = True
        for j in kept:
            if abs(t[i] - t[j]) >= min_gap_s:
                continue
            a, b = sorted((i, j))
            if b - a < 2 or curve[a:b + 1].min() > valley * min(curve[i], curve[j]):
                ok = False
                break
        if ok:
            kept.append(i)
    kept.sort()
    span = max(1e-9, 1.0 - threshold)
    strengths = tuple(float(np.clip(0.2 + 0.8 * (curve[i] - threshold) / span, 0.0, 1.0)) for i in kept)
    events = tuple(Fraction(times[i]) + Fraction(offset_s).limit_denominator(100000) for i in kept)
    return tuple(max(Fraction(0), e) for e in events), strengths


EVENT_FLOOR = 0.02  # "all": candidate peaks must reach this probability
SALIENT_LEVEL = 0.5  # "salient": salience (peak probability over the clip's strongest) at least this
SALIENT_PER_S = 1.0  # "salient": at most this many events a second (the strongest kept)
EVENT_MODES = ("all", "salient")
CALIBRATION = {"calib_a": 1.0, "calib_b": 0.0, "count_scale": 1.0}  # identity: models saved before issue 22


def check_events(events):
    """The encoder's ``events`` option: ``"all"``, ``"salient"`` or a probability in (0, 1); else ``ConfigError``."""
    if isinstance(events, str):
        if events in EVENT_MODES:
            return events
        raise ConfigError(f"events must be 'all', 'salient' or a probability in (0, 1), got {events!r}")
    if isinstance(events, bool) or not isinstance(events, (int, float, np.floating, np.integer)) \
            or not np.isfinite(events) or not 0.0 < float(events) < 1.0:
        raise ConfigError(f"events must be 'all', 'salient' or a probability in (0, 1), got {events!r}")
    return float(events)


def salient_subset(picked, duration_s: float, level: float = SALIENT_LEVEL, per_s: float = SALIENT_PER_S):
    """The salient events of ``(events, saliences)``: salience >= ``level``, at most ``per_s`` a second (at least
    one when any qualifies), strongest first; returned in time order."""
    events, sal = picked
    ok = [i for i, s in enumerate(sal) if s >= level]
    cap = max(1, int(np.floor(per_s * max(0.0, float(duration_s)) + 1e-9)))
    keep = sorted(sorted(ok, key=lambda i: -sal[i])[:cap])
    return tuple(events[i] for i in keep), tuple(sal[i] for i in keep)


def fit_platt(logits, outcomes, iters: int = 50, l2: float = 1e-6) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` minimising the log loss of ``sigmoid(a * logit + b)`` against 0/1 outcomes
    (Newton's method, a tiny ridge for safety). Identity ``(1, 0)`` without both classes."""
    z = np.asarray(logits, np.float64).ravel()
    y = np.asarray(outcomes, np.float64).ravel()
    ok = np.isfinite(z)
    z, y = z[ok], y[ok]
    if len(z) == 0 or y.min() == y.max():
        return 1.0, 0.0
    X = np.stack([z, np.ones_like(z)], 1)

    def loss(w):
        m = X @ w
        return float(np.sum(np.logaddexp(0, m) - y * m) + 0.5 * l2 * w @ w)

    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    w = np.array([0.0, np.log(rate / (1 - rate))])  # the base rate: a safe start for Newton
    f = loss(w)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -60, 60)))
        g = X.T @ (p - y) + l2 * w
        h = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(2)
        step, t = np.linalg.solve(h, g), 1.0
        while t > 1e-6 and loss(w - t * step) > f:  # damped: never uphill
            t *= 0.5
        w, f_new = w - t * step, loss(w - t * step)
        if abs(f - f_new) < 1e-10 * max(1.0, abs(f)):
            break
        f = f_new
    return float(w[0]), float(w[1])


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def pick_expected(curve: np.ndarray, times, scale: float = 1.0, floor: float = EVENT_FLOOR,
                  min_gap_s: float = MIN_GAP_S, valley: float = 0.5, offset_s: float = 0.0):
    """Events at the clip's own expected density: the ``round(scale * sum(curve))`` strongest peaks of the
    per-frame probability (``pick_onsets`` above ``floor``). A calibrated probability sums to the expected number
    of sound-making frames, so a calm clip gets its few events and a busy one its many (``scale`` corrects the
    sum's bias, tuned on held-out training clips). Strength: the peak's probability over the clip's strongest."""
    curve = np.nan_to_num(np.asarray(curve, np.float64))
    events = pick_onsets(curve, times, floor, min_gap_s, valley, offset_s)[0]
    k = round(float(scale) * float(curve.sum()))
    if k <= 0 or not events:
        return (), ()
    t = np.asarray([float(x) for x in times], np.float64)
    peak = np.array([curve[int(np.argmin(np.abs(t - (float(e) - offset_s))))] for e in events])
    keep = np.sort(np.argsort(-peak, kind="stable")[:k])
    top = float(peak[keep].max())
    return tuple(events[i] for i in keep), tuple(float(peak[i] / top) for i in keep)


def _conv1d_same(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x (T, C_in), weight (C_out, C_in, K) odd K, edge-padded: (T, C_out) (torch's Conv1d with replicate padding)."""
    k = weight.shape[2]
    r = k // 2
    xp = np.pad(x, ((r, r), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(xp, k, axis=0)  # (T, C_in, K)
    return np.einsum("tck,ock->to", windows, weight, optimize=True) + bias


class OnsetModel:
    """A saved ``VisualOnsets`` process, evaluated in numpy."""

    def __init__(self, config: dict, arrays: dict[str, np.ndarray], source: str = ""):
        self.config, self.source = dict(config), source
        need = ("mean", "std", "hidden.weight", "hidden.bias", "out.weight", "out.bias", "threshold", "offset_s")
        missing = [k for k in need if k not in arrays]
        if missing:
            raise WeightsError(f"{source or 'the onset model'} lacks {missing}: it is not a visual-onset model")
        self.a = {k: np.asarray(v, np.float64) for k, v in arrays.items()}
        if self.a["mean"].shape != (len(FEATURE_NAMES),):
            raise WeightsError(f"{source}: the model expects {self.a['mean'].shape[0]} features, this version "
                               f"computes {len(FEATURE_NAMES)}; retrain it (`xmedia train visual-onsets`)")
        self.threshold = float(self.a["threshold"])
        self.offset_s = float(self.a["offset_s"])
        for k, v in CALIBRATION.items():  # absent from models saved before issue 22: identity
            setattr(self, k, float(self.a[k]) if k in self.a else v)
        self.min_gap_s = float(self.config.get("min_gap_s", MIN_GAP_S))
        self.valley = float(self.config.get("valley", 0.5))

    @classmethod
    def load(cls, name_or_path=DEFAULT) -> "OnsetModel":
        cfg, arrays = load_arrays(name_or_path)
        if cfg.get("class") != "VisualOnsets":
            raise WeightsError(f"{name_or_path} holds a {cfg.get('class')}, not a VisualOnsets model")
        return cls(cfg.get("config", {}), arrays, str(name_or_path))

    def logits(self, features: np.ndarray) -> np.ndarray:
        x = (np.asarray(features, np.float64) - self.a["mean"]) / self.a["std"]
        h = np.maximum(_conv1d_same(x, self.a["hidden.weight"], self.a["hidden.bias"]), 0.0)
        return _conv1d_same(h, self.a["out.weight"], self.a["out.bias"])[:, 0]

    def curve(self, features: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """Per-frame probability (T,) that the frame makes a sound (Platt-calibrated unless ``calibrated=False``)."""
        if len(features) == 0:
            return np.zeros(0)
        z = self.logits(features)
        if calibrated:
            z = self.calib_a * z + self.calib_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))

    def curve_from_motion(self, motion: np.ndarray, fps: float, calibrated: bool = True) -> np.ndarray:
        """``curve`` of a clip's ``RegionMotion`` rows; 0 on the first frame (nothing before it to compare with)."""
        curve = self.curve(sequence_features(motion, fps), calibrated)
        curve[:1] = 0.0
        return curve

    def events(self, curve: np.ndarray, times, threshold: float | None = None, classic=None):
        """``(events, strengths)`` of ``curve`` at ``threshold`` (default: the tuned one); with ``classic`` (the
        classic onset axis), hard cuts too."""
        events = pick_onsets(curve, times, self.threshold if threshold is None else threshold, self.min_gap_s,
                             self.valley, self.offset_s)
        return events if classic is None else with_cuts(events, classic, times)

    def pick(self, curve: np.ndarray, times, events="all", classic=None, duration_s: float | None = None):
        """``(events, saliences)`` of a calibrated ``curve`` at an operating point (module doc): ``"all"``,
        ``"salient"`` or a probability; with ``classic`` (the classic onset axis), hard cuts too."""
        mode = check_events(events)
        curve = np.nan_to_num(np.asarray(curve, np.float64))
        if mode in EVENT_MODES:
            picked = pick_expected(curve, times, self.count_scale, EVENT_FLOOR, self.min_gap_s, self.valley,
                                   self.offset_s)
        else:
            picked = pick_onsets(curve, times, mode, self.min_gap_s, self.valley, self.offset_s)[0]
            picked = (picked, saliences(curve, times, picked, self.offset_s))
        if classic is not None:
            picked = with_cuts(picked, classic, times)
        if mode == "salient":
            if duration_s is None:
                t = [float(x) for x in times]
                duration_s = t[-1] + (t[-1] - t[0]) / max(1, len(t) - 1) if t else 0.0
            picked = salient_subset(picked, duration_s)
        return picked


def saliences(curve: np.ndarray, times, events, offset_s: float = 0.0) -> tuple[float, ...]:
    """Each event's peak value of ``curve`` over the strongest event's (0..1)."""
    if not events:
        return ()
    t = np.asarray([float(x) for x in times], np.float64)
    peak = np.array([curve[int(np.argmin(np.abs(t - (float(e) - offset_s))))] for e in events])
    top = float(peak.max()) or 1.0
    return tuple(float(v / top) for v in peak)


def with_cuts(picked, classic: np.ndarray, times, level: float = CUT_ONSET):
    """Add the hard cuts (and flashes) to picked events: frames where the classic onset axis (the frame
    difference far above its recent median) peaks at ``level`` or more are events at their exact frame time,
    replacing picked events within two frames of them. An edit is an accent the music should mark even where
    the shot's own sound has none."""
    classic = np.nan_to_num(np.asarray(classic, np.float64))
    if len(classic) < 2 or classic.max() < level:
        return picked
    t = np.asarray([float(x) for x in times], np.float64)
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1 / 30
    prev, nxt = np.concatenate([[-np.inf], classic[:-1]]), np.concatenate([classic[1:], [-np.inf]])
    cuts = np.flatnonzero((classic >= level) & (classic > prev) & (classic >= nxt))
    pairs = [(e, s) for e, s in zip(*picked) if np.abs(t[cuts] - float(e)).min() > 2.5 * step]
    pairs += [(Fraction(times[i]), float(classic[i])) for i in cuts]
    pairs.sort(key=lambda p: p[0])
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


_CACHE: dict[str, OnsetModel] = {}


def resolve(onset_model) -> OnsetModel | None:
    """The encoder's ``onset_model`` option: ``"classic"`` -> None (today's detector), a zoo name or a folder ->
    the learned model, an ``OnsetModel`` (or a ``VisualOnsets`` process) as it is. The default weights missing
    -> a warning and the classic detector; a named model that cannot be loaded is a ``WeightsError``."""
    if onset_model is None or (isinstance(onset_model, str) and onset_model == CLASSIC):
        return None
    if isinstance(onset_model, OnsetModel):
        return onset_model
    if hasattr(onset_model, "onset_model"):  # a VisualOnsets process: its numpy twin
        return onset_model.onset_model()
    if not isinstance(onset_model, (str, bytes)) and not hasattr(onset_model, "__fspath__"):
        raise ConfigError(f"onset_model must be 'classic', a zoo name or a saved model folder, got {onset_model!r}")
    name = str(onset_model)
    try:
        folder = locate(onset_model)
        key = f"{folder.resolve()}|{(folder / WEIGHTS_NAME).stat().st_mtime_ns}"  # retrained in place: reload
        if key not in _CACHE:
            _CACHE[key] = OnsetModel.load(folder)
    except (WeightsError, OSError) as exc:
        if name != DEFAULT:
            raise WeightsError(str(exc)) from None
        warnings.warn(f"the visual-onset model {DEFAULT!r} could not be loaded ({exc}); using the classic "
                      "detector (onset_model='classic'). Rebuild it with `python -m xmedia.zoo.build onsets`",
                      UserWarning, stacklevel=3)
        return None
    return _CACHE[key]
