"""The measures of composed music (adapters/music/measure.py): key-free melody features, the logistic style
classifier, Yang & Lerch's overlapping area; on synthetic styles, real chorales and composed pieces."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.adapters.music import measure as M
from xmedia.adapters.music.tokens import GRID, Piece
from xmedia.score import Key, Metre, Part, Score

TPB = 480


def _score(pitches, durs, tonic=0, mode="major", bass=True):
    rows, t = [], 0
    for p, d in zip(pitches, durs):
        rows.append((t, d * TPB // 4, p, 90, 0))
        t += d * TPB // 4
    parts = (Part("melody"),)
    if bass:
        rows += [(b * TPB * 4, TPB * 4, 36 + tonic, 80, 1) for b in range(max(1, t // (TPB * 4)))]
        parts += (Part("bass"),)
    return Score.from_notes(rows, parts=parts, keys=(Key(0, tonic, mode),), metres=(Metre(0, 4, 4),))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(55, 84), min_size=3, max_size=40), st.data(), st.integers(-12, 12),
       st.integers(0, 11), st.sampled_from(["major", "minor"]))
def test_features_are_key_free(pitches, data, shift, tonic, mode):
    durs = data.draw(st.lists(st.sampled_from([1, 2, 3, 4, 6, 8]), min_size=len(pitches), max_size=len(pitches)))
    s = _score(pitches, durs, tonic, mode)
    a, b = M.melody_features(s), M.melody_features(s.transpose(shift))
    for name in M.FEATURES:
        assert a[name].shape == (M.SIZES[name],)
        np.testing.assert_allclose(a[name], b[name], atol=1e-12)
        assert abs(a[name][:12].sum() - 1) < 1e-9 if name == "beat_position" else abs(a[name].sum() - 1) < 1e-9


def test_features_count_what_they_say():
    # C D E G (quavers), a rest, then C above: steps +2 +2 +3 +5
    p = Piece([(0, 6, 0), (6, 6, 2), (12, 6, 4), (18, 6, 7), (24, 12, None), (36, 12, 12)], 4 * GRID,
              Key(0, 0), [])
    f = M.melody_features(p)
    assert f["pitch_class"][0] == pytest.approx(0.4) and f["pitch_class"][7] == pytest.approx(0.2)
    iv = {i - M.INTERVAL_RANGE: v for i, v in enumerate(f["interval"]) if v}
    assert iv == pytest.approx({2: 0.5, 3: 0.25, 5: 0.25})
    du = dict(zip(M.DURATION_CLASSES, f["duration"]))
    assert du[6] == pytest.approx(0.8) and du[12] == pytest.approx(0.2)
    assert f["beat_position"][0] == pytest.approx(0.6) and f["beat_position"][6] == pytest.approx(0.4)
    assert f["beat_position"][GRID] == pytest.approx(0.2)  # one of five notes on the downbeat
    assert M.feature_vector(p).shape == (61,)


def _synthetic(style, rng, n_notes=32):
    """``a``: stepwise quavers in the major scale; ``b``: leaping pentatonic crotchets and minims."""
    notes, pos, rel = [], 0, 0
    for _ in range(n_notes):
        if style == "a":
            rel = int(np.clip(rel + rng.choice([-2, -1, 1, 2]), -5, 12))
            rel = min((0, 2, 4, 5, 7, 9, 11, 12), key=lambda x: abs(x - rel % 12)) + 12 * (rel // 12) if rel >= 0 \
                else rel
            dur = 6
        else:
            rel = int(rng.choice([0, 2, 4, 7, 9, 12, -3, -5]))
            dur = int(rng.choice([12, 24]))
        dur = min(dur, 4 * GRID - pos % (4 * GRID))
        notes.append((pos % (4 * GRID), dur, rel))
        pos += dur
    return Piece(notes, 4 * GRID, Key(0, 0), [])


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_classifier_separates_two_styles(seed):
    rng = np.random.default_rng(seed)
    train = [(_synthetic(s, rng), s) for s in "ab" for _ in range(20)]
    test = [(_synthetic(s, rng), s) for s in "ab" for _ in range(20)]
    clf = M.LogisticStyle().fit(M.feature_matrix([p for p, _ in train]), [s for _, s in train])
    pred = clf.predict(M.feature_matrix([p for p, _ in test]))
    assert np.mean([a == b for a, b in zip(pred, [s for _, s in test])]) >= 0.95
    proba = clf.predict_proba(M.feature_matrix([p for p, _ in test]))
    np.testing.assert_allclose(proba.sum(1), 1.0)
    with pytest.raises(ValueError):
        M.LogisticStyle().fit(M.feature_matrix([p for p, _ in train[:3]]), ["a"] * 3)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=5, max_size=60), st.floats(1e3, 1e4))
def test_overlap_area_self_and_disjoint(xs, far):
    x = np.array(xs)
    assert M.overlap_area(x, x) == pytest.approx(1.0, abs=1e-3)
    assert M.overlap_area(x, x + far) < 1e-3
    y = np.random.default_rng(0).normal(size=200)
    assert 0.0 <= M.overlap_area(x, y) <= 1.0


def test_yang_lerch_on_sets():
    rng = np.random.default_rng(1)
    a = [_synthetic("a", rng) for _ in range(15)]
    a2 = [_synthetic("a", rng) for _ in range(15)]
    b = [_synthetic("b", rng) for _ in range(15)]
    for feat in ("pitch_class", "interval", "duration"):
        same = M.yang_lerch(a, a, feat)
        assert same["intra_intra"] == pytest.approx(1.0, abs=1e-3)
        assert M.yang_lerch(a, a2, feat)["intra_inter"] > 0.6  # two samples of one style overlap
        if feat != "pitch_class":  # (both styles' notes are in C major: their pitch classes are alike)
            assert M.yang_lerch(a, b, feat)["intra_inter"] < 0.2  # two rhythms and two kinds of motion do not
    with pytest.raises(ValueError):
        M.overlap_area([], [1.0])


def test_composed_and_real_pieces():
    pytest.importorskip("music21")
    from xmedia.adapters.music.corpus import as_pieces
    from xmedia.adapters.music.model import MusicModel
    from xmedia.blend import load_process

    model = load_process("bach-chorales", MusicModel)
    # one seed in two keys: the same melody relative to the tonic, so the same features
    c, e = model.compose(4, seed=3, key="C"), model.compose(4, seed=3, key="E")
    np.testing.assert_allclose(M.feature_vector(c), M.feature_vector(e))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = as_pieces("corpus:bach", max_pieces=6)[0]
    gen = [model.compose(8, seed=s) for s in range(6)]
    R, G = M.feature_matrix(real), M.feature_matrix(gen)
    assert R.shape == G.shape == (6, 61) and np.isfinite(R).all() and np.isfinite(G).all()
    for feat in ("pitch_class", "interval", "duration"):
        oa = M.yang_lerch(real, gen, feat)
        assert 0.0 <= oa["intra_inter"] <= 1.0 and 0.0 <= oa["intra_intra"] <= 1.0
