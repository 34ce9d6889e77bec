"""The density-fair measures of visual events (``adapters.onsets.measure``): kappa at the same event count, the
salient real onsets, the AUC of an event-strength envelope, the density ratio and the reliability diagram."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.adapters.onsets import measure


def _truth(seed: int, n: int, duration: float) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).uniform(0, duration, n))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 20, allow_nan=False), max_size=40), st.lists(st.floats(0, 20, allow_nan=False),
                                                                           max_size=40), st.sampled_from([0.05, 0.1]))
def test_matching_equals_mir_eval(truth, events, window):
    mir_eval = pytest.importorskip("mir_eval")
    truth, events = np.round(np.sort(truth), 3), np.round(np.sort(events), 3)
    want = mir_eval.onset.f_measure(truth, events, window=window)[0] if len(truth) and len(events) else 0.0
    assert measure.f_at(truth, events, window) == pytest.approx(want, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(3, 80), st.floats(5, 60), st.integers(0, 10_000))
def test_a_perfect_detector_has_kappa_1(n, duration, seed):
    truth = _truth(seed, n, duration)
    k, f, fc = measure.kappa(truth, truth, duration)
    assert f == 1.0 and fc < 1.0 and k == pytest.approx(1.0)


@settings(max_examples=12, deadline=None)
@given(st.integers(10, 60), st.integers(5, 120), st.floats(10, 40), st.integers(0, 10_000))
def test_random_events_have_kappa_about_0_at_any_density(n_truth, n_events, duration, seed):
    """Random events score F well above 0 when they are dense, but kappa (against chance at their own count)
    stays near 0 whatever their number."""
    truth = _truth(seed, n_truth, duration)
    rng = np.random.default_rng(seed + 1)
    ks = [measure.kappa(truth, rng.uniform(0, duration, n_events), duration, seed=seed + 2)[0] for _ in range(40)]
    assert abs(np.mean(ks)) < 0.06, np.mean(ks)


@settings(max_examples=12, deadline=None)
@given(st.integers(10, 50), st.integers(1, 100), st.floats(10, 40), st.integers(0, 10_000))
def test_adding_random_events_never_raises_kappa(n_truth, extra, duration, seed):
    """Half the real onsets found exactly (kappa well above 0); adding random events may raise F (more recall)
    but not kappa."""
    truth = _truth(seed, n_truth, duration)
    half = truth[::2]
    k0 = measure.kappa(truth, half, duration)[0]
    rng = np.random.default_rng(seed + 1)
    ks = [measure.kappa(truth, np.sort(np.concatenate([half, rng.uniform(0, duration, extra)])), duration)[0]
          for _ in range(10)]
    assert np.mean(ks) <= k0 + 0.02, (k0, np.mean(ks))


def test_kappa_of_no_events_or_no_truth_is_0():
    assert measure.kappa([1.0, 2.0], [], 5.0)[0] == 0.0
    assert measure.kappa([], [1.0], 5.0)[0] == 0.0
    assert measure.chance_f([1.0], 3, 5.0) == measure.chance_f([1.0], 3, 5.0)  # reproducible


def test_salient_onsets_and_density_ratio():
    t = np.array([0.5, 1.0, 1.5, 2.0])
    assert measure.salient_onsets(t, np.array([0.39, 0.4, 1.2, 0.1])).tolist() == [1.0, 1.5]
    assert measure.salient_onsets(t, None).tolist() == t.tolist()
    assert measure.density_ratio(8, 4) == 2.0 and np.isnan(measure.density_ratio(3, 0))


@settings(max_examples=20, deadline=None)
@given(st.integers(3, 40), st.integers(0, 10_000), st.sampled_from([25.0, 30.0, 29.97]))
def test_auc_of_an_envelope_at_the_real_onsets(n, seed, fps):
    duration = 20.0
    times = np.arange(int(duration * fps)) / fps
    truth = _truth(seed, n, duration - 0.5)
    spikes = measure.nearest_frame_hits(times, truth, fps)
    assert measure.onset_auc(spikes, times, truth) == pytest.approx(1.0)
    near = np.min(np.abs(times[:, None] - truth[None]), axis=1)
    assert measure.onset_auc((near > 0.2).astype(float), times, truth) < 0.5  # low around the onsets
    assert measure.onset_auc(np.ones(len(times)), times, truth) == pytest.approx(0.5)
    noise = np.random.default_rng(seed).random(len(times))
    if n >= 20:  # noise: about 0.5 (few positives make it vary widely)
        assert 0.25 < measure.onset_auc(noise, times, truth) < 0.75
    assert np.isnan(measure.onset_auc(noise, times, []))


def test_reliability_of_calibrated_and_overconfident_probabilities():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = rng.random(20_000) < p
    good = measure.reliability(p, y)
    bad = measure.reliability(np.clip(p * 3, 0, 1), y)
    assert good["ece"] < 0.02
    assert bad["ece"] > 0.1
    assert good["count"].sum() == 20_000
    assert np.allclose(good["observed"], good["mean_p"], atol=0.05)


def test_fair_scores_of_one_clip():
    truth = np.arange(1, 10, 1.0)
    s = measure.fair_scores(truth, np.r_[np.ones(3), np.zeros(6)], truth, 10.0)
    assert s["kappa"] == pytest.approx(1.0) and s["density"] == 1.0 and np.isnan(s["AUC"])
    assert 0 < s["kappa salient"] < 1  # 3 salient onsets found among 9 events: above chance, not perfect


def test_cross_validation_reports_the_fair_measures_and_the_report_draws_them(tmp_path):
    """The trainer's cross-validation carries kappa / salient kappa / AUC / density for the model, its
    expected-count operating point and frame difference, plus the reliability diagram; the PNG report draws them
    and the CLI's text prints them."""
    pytest.importorskip("torch")
    from xmedia.adapters.onsets.data import ClipData
    from xmedia.adapters.onsets.features import RAW_WIDTH
    from xmedia.adapters.onsets.process import VisualOnsets
    from xmedia.adapters.onsets.train import cv_text, report_png

    rng = np.random.default_rng(0)
    clips = []
    for i in range(3):
        times = np.arange(60) / 25.0
        onsets = np.sort(rng.choice(times[2:-2], 6, replace=False))
        clips.append(ClipData(f"clip{i}.mp4", 25.0, times, rng.random((60, RAW_WIDTH)), rng.random(60),
                              rng.random(60), onsets, np.ones(6), rng.random(60), onsets + 0.01, 2.4,
                              truth_strength=np.linspace(0.1, 1.0, 6)))
    result = VisualOnsets(radius=2, hidden=4).fit(clips, max_steps=3, folds=2, inner_folds=0, progress=False)
    cv = result.extra["cv"]
    for m in ("model", "model_all", "frame_diff"):
        for k in ("kappa", "kappa salient", "AUC", "density", "density 0.5-2x"):
            assert f"{m} {k}" in cv["overall"], (m, k)
    assert all(r["salient n"] == 4 for r in cv["clips"])  # strengths >= 0.4
    assert "model kappa" in result.metrics
    rel = cv["reliability"]
    assert rel["count"].sum() == 180 and 0 <= rel["ece"] <= 1
    text = cv_text(cv)
    assert "kappa" in text and "AUC" in text and "overall" in text
    png = report_png(tmp_path / "r.png", cv, result.train_losses, 0.3)
    assert png.stat().st_size > 10_000
