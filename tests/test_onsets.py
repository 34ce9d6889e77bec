"""Visual onsets learned from real sound: the shipped model on held-out clips, save/load, numpy = torch, the
trainer CLI (skips, errors, out-of-sync clips), the encoder's integration and the event picking."""
from __future__ import annotations

import shutil
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
from conftest import corpus_path as corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.adapters.composer import ComposerControls, compose
from xmedia.adapters.onsets import model as onset_model
from xmedia.adapters.onsets.data import ClipData, clip_data, sync_offset_s
from xmedia.adapters.onsets.evaluate import chance_f, classic_events, frame_diff_curve, scores
from xmedia.adapters.onsets.features import FEATURE_NAMES, RAW_WIDTH, RegionMotion, sequence_features
from xmedia.adapters.onsets.model import OnsetModel, pick_onsets, resolve
from xmedia.adapters.onsets.process import VisualOnsets
from xmedia.adapters.onsets.train import offset_check
from xmedia.adapters.perceptual import IDX, VideoEncoder, encode_video
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError, WeightsError


@pytest.fixture(scope="module")
def shipped():
    m = resolve("visual-onsets")
    if m is None:
        pytest.skip("the shipped visual-onsets weights are missing (python -m xmedia.zoo.build onsets)")
    return m


@pytest.fixture(scope="module")
def held_out(shipped):
    from xmedia.zoo.build_onsets import HELD_OUT

    pytest.importorskip("librosa")
    return [clip_data(xmedia.load(corpus("av", name)), name, truth=True) for name in HELD_OUT]


# ------------------------------------------------------------------------------------------ quality
def test_shipped_model_on_clips_it_never_saw(shipped, held_out):
    """The clips in HELD_OUT were left out of the shipped model's training; the truth is librosa's onsets of
    each clip's own sound; the frame-difference threshold is the one tuned on the model's training clips.

    The model beats today's detector and chance there. It does NOT beat the frame-difference baseline on these
    three clips (0.53 against 0.55 at 100 ms when it was built; it does in cross-validation on the 46 others,
    see the model card): the test holds it within 10 % of it, so a regression below that fails."""
    card = xmedia.pretrained.read_config(xmedia.pretrained.locate("visual-onsets"))["card"]
    model_f, classic_f, diff_f, chance = [], [], [], []
    for c in held_out:
        events = shipped.events(shipped.curve_from_motion(c.motion, c.fps), c.times_s, classic=c.classic)[0]
        model_f.append(scores(c, events)["F@100"])
        classic_f.append(scores(c, classic_events(c))["F@100"])
        diff_f.append(scores(c, pick_onsets(frame_diff_curve(c), c.times_s, card["frame_diff_threshold"])[0])["F@100"])
        chance.append(chance_f(c)["F@100"])
    assert np.mean(model_f) > np.mean(classic_f) + 0.1, (model_f, classic_f)
    assert np.mean(model_f) > np.mean(chance) + 0.1, (model_f, chance)
    assert np.mean(model_f) >= 0.9 * np.mean(diff_f), (model_f, diff_f)


# ------------------------------------------------------------------------------------------ the process
def _trained_tiny() -> VisualOnsets:
    torch.manual_seed(0)
    m = VisualOnsets(radius=2, hidden=4)
    with torch.no_grad():
        m.mean.uniform_(-0.5, 0.5)
        m.std.uniform_(0.5, 2.0)
    m.set_detection(0.4, 0.01)
    return m


def test_save_load_round_trip_and_numpy_equals_torch(tmp_path):
    m = _trained_tiny()
    x = torch.randn(50, len(FEATURE_NAMES))
    m.save_pretrained(tmp_path / "m", card={"description": "test"})
    back = xmedia.load(tmp_path / "m")
    assert isinstance(back, VisualOnsets) and back.config == m.config
    with torch.no_grad():
        expect = torch.sigmoid(m(x)).numpy()
        np.testing.assert_allclose(torch.sigmoid(back(x)).numpy(), expect, atol=1e-6)
    twin = OnsetModel.load(tmp_path / "m")  # numpy, through xmedia.pretrained.load_arrays
    np.testing.assert_allclose(twin.curve(x.numpy()), expect, atol=1e-5)
    assert twin.threshold == pytest.approx(0.4) and twin.offset_s == pytest.approx(0.01)


def test_missing_default_weights_fall_back_to_classic_with_a_warning(monkeypatch, tmp_path):
    def missing(name):
        raise WeightsError("not here")

    monkeypatch.setattr(onset_model, "load_arrays", missing)
    monkeypatch.setattr(onset_model, "_CACHE", {})
    with pytest.warns(UserWarning, match="classic"):
        assert resolve("visual-onsets") is None
    with pytest.raises(WeightsError):
        resolve(str(tmp_path / "nowhere"))
    assert resolve("classic") is None


# ------------------------------------------------------------------------------------------ the encoder
def test_encoder_uses_the_model_and_streaming_matches(media, shipped):
    v = xmedia.load(media("video", "phone_portrait.mp4"))
    emb = encode_video(v)
    enc = VideoEncoder(fps=float(v.fps), collect_motion=True)
    rows = [enc.process(f.rgb) for f in v.iter_frames(max_side=160)]
    curve = shipped.curve_from_motion(enc.motion.matrix(), enc.fps)
    classic = np.stack(rows)[:, IDX["onset"]]
    expect = np.maximum(curve, np.where(classic >= onset_model.CUT_ONSET, classic, 0))  # hard cuts stay events
    np.testing.assert_allclose(emb.track[: len(curve), IDX["onset"]], expect, atol=1e-5)
    times = [f.time_s for f in v.iter_frames(max_side=16)]
    events, strengths = shipped.pick(curve, times, "all", classic=classic, duration_s=float(v.duration_s))
    assert emb.events_s == events and emb.event_strengths == strengths and len(events) >= 3
    salient = encode_video(v, events="salient")  # a subset of "all", at most one a second
    assert set(salient.events_s) <= set(emb.events_s) and 1 <= len(salient.events_s) <= float(v.duration_s)
    assert all(s >= onset_model.SALIENT_LEVEL for s in salient.event_strengths)
    np.testing.assert_allclose(salient.track, emb.track, atol=1e-5)  # the operating point changes only the events
    classic = encode_video(v, onset_model="classic")
    assert classic.events_s != emb.events_s
    np.testing.assert_allclose(np.stack(rows)[:, IDX["energy"]], emb.track[: len(rows), IDX["energy"]], atol=1e-6)


# ------------------------------------------------------------------------------------------ event picking
def test_close_events_are_kept_when_the_picture_shows_two():
    times = [Fraction(i, 30) for i in range(30)]
    two = np.zeros(30)
    two[[10, 13]] = [0.9, 0.8]  # 0.1 s apart, with a dip between: two hits
    assert len(pick_onsets(two, times, 0.5)[0]) == 2
    one = np.zeros(30)
    one[10:14] = [0.9, 0.85, 0.86, 0.3]  # a wobble on one broad peak: one hit
    events, strengths = pick_onsets(one, times, 0.5)
    assert events == (Fraction(10, 30),) and 0.2 <= strengths[0] <= 1.0


def test_foley_marks_close_events_and_strength_sets_loudness():
    sr, fps = 48000, 30
    track = np.full((90, 8), 0.5, np.float32)
    events = (Fraction(10, 30), Fraction(13, 30), Fraction(50, 30))
    ctl = ComposerControls(track, fps, Fraction(3), events, (1.0, 0.9, 0.25))
    audio = compose(ctl, style="foley", seed=0, sample_rate_hz=sr)
    found = detect_onsets(audio)
    for e in events:
        assert np.abs(found - float(e)).min() <= 1 / fps
    x = audio.mono()

    def peak(e):
        s = round(float(e) * sr)
        return np.abs(x[s : s + int(0.05 * sr)]).max()

    assert peak(events[0]) > 1.5 * peak(events[2])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=st.integers(2, 40), w=st.integers(2, 40), frames=st.integers(1, 6), seed=st.integers(0, 2**16),
       fps=st.floats(5, 120))
def test_features_of_random_small_frames_are_finite(h, w, frames, seed, fps):
    rng = np.random.default_rng(seed)
    motion = RegionMotion(fps)
    prev = None
    for _ in range(frames):
        gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
        flow = None if prev is None else rng.normal(0, 5, (h, w, 2)).astype(np.float32)
        row = motion.add(prev, gray, flow)
        assert row.shape == (RAW_WIDTH,) and np.isfinite(row).all()
        prev = gray
    f = sequence_features(motion.matrix(), fps)
    assert f.shape == (frames, len(FEATURE_NAMES)) and np.isfinite(f).all()
    curve = _trained_tiny().onset_model().curve(f)
    assert np.isfinite(curve).all() and ((curve >= 0) & (curve <= 1)).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=80), st.floats(0.05, 0.95))
def test_picked_events_are_ordered_peaks_above_threshold(values, threshold):
    curve = np.asarray(values)
    times = [Fraction(i, 25) for i in range(len(values))]
    events, strengths = pick_onsets(curve, times, threshold)
    assert list(events) == sorted(events) and len(events) == len(strengths)
    assert all(0.0 <= s <= 1.0 for s in strengths)
    idx = [times.index(e) for e in events]
    assert all(curve[i] >= threshold for i in idx) and all(b - a >= 2 for a, b in zip(idx, idx[1:]))


# ------------------------------------------------------------------------------------------ sync check
def _shifted(video, shift_s: float):
    a = video.audio
    k = round(shift_s * a.sample_rate_hz)
    samples = np.concatenate([np.zeros((k, a.channels), np.float32), a.samples[:-k]])
    return video.with_audio(xmedia.Audio(samples, a.sample_rate_hz))


def test_a_clip_whose_sound_is_300_ms_late_is_flagged(shipped):
    """A drum clip (in the shipped model's training: the check needs a model that sees its hits, and no
    7-frame model can learn a 9-frame lag) with its own sound, then the same sound 300 ms late."""
    video = xmedia.load(corpus("av", "specvqgan_vas_drum_02542.mp4"))
    lag, flagged = offset_check(clip_data(_shifted(video, 0.3), "late"), shipped)
    assert flagged and abs(lag - 0.3) < 0.05
    lag, flagged = offset_check(clip_data(video, "in sync"), shipped)
    assert not flagged and abs(lag) <= 0.08


def test_cross_correlation_finds_a_known_lag():
    rng = np.random.default_rng(0)
    visual = (rng.random(300) > 0.95).astype(float)
    sound = np.roll(visual, 6)
    lag, peak, at_zero = sync_offset_s(visual, sound, 30.0)
    assert lag == pytest.approx(0.2, abs=0.005) and peak > 0.9 > at_zero + 0.5


# ------------------------------------------------------------------------------------------ trainer CLI
def test_trainer_cli_on_a_tiny_folder(tmp_path, capsys, media):
    from xmedia.avio import write_video_with_audio

    data = tmp_path / "clips"
    data.mkdir()
    grid = sorted(corpus("av", "grid_speech").glob("*.mpg"))[:2]
    for f in grid:
        shutil.copy(f, data / f.name)
    dog = xmedia.load(corpus("av", "specvqgan_vas_dog_02677.mp4"))
    shutil.copy(dog.source, data / "dog.mp4")
    quiet = xmedia.load(grid[0], kind="video")
    write_video_with_audio(quiet, xmedia.Audio(np.zeros_like(quiet.audio.samples), quiet.audio.sample_rate_hz),
                           data / "silent.mkv")
    write_video_with_audio(dog, _shifted(dog, 0.3).audio, data / "dog_late.mp4")
    out, cache = tmp_path / "model", str(tmp_path / "cache")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # more folds than clips: refused once the clips are read, before any training, nothing written
        assert main(["train", "visual-onsets", "--data", str(data), "-o", str(out), "--folds", "99",
                     "--cache", cache]) == 2
        assert "folds 99 is more than the 2 clip group(s)" in capsys.readouterr().err and not out.exists()
        assert main(["train", "visual-onsets", "--data", str(data), "-o", str(out), "--folds", "2",
                     "--max-steps", "30", "--cache", cache]) == 0
    text = capsys.readouterr().out
    assert "3 clip(s) used, 1 skipped, 1 flagged" in text and "silent.mkv: silent sound" in text
    assert "out of sync dog_late.mp4: the sound is +" in text and "model F@100" in text
    assert (out / "report.png").stat().st_size > 1000 and (out / "loss.png").exists()
    assert OnsetModel.load(out).threshold > 0
    card = xmedia.pretrained.read_config(out)["card"]
    assert card["training"]["max_steps"] == 30 and any(k.startswith("cross-validated model F@100") for k in card["metrics"])
    # xmedia eval of a visual-onsets model: its per-clip F on a folder of clips, beside the baselines
    assert main(["eval", str(out), "--data", str(data), "--cache", cache]) == 0
    text = capsys.readouterr().out
    assert "per-clip F against" in text and "model F@100" in text and "held out" in text
    trace = xmedia.translate(dog, to="audio", onset_model=str(out), seed=0, trace=True)
    assert trace["space:perceptual"].events_s == encode_video(dog, onset_model=str(out)).events_s
    assert trace["space:perceptual"].events_s != encode_video(dog).events_s  # not the shipped model's


def test_a_folder_with_nothing_usable_is_a_clear_error(tmp_path, media, capsys):
    from xmedia.adapters.onsets.train import collect

    folder = tmp_path / "clips"
    folder.mkdir()
    with pytest.raises(MediaError, match="holds no video"):
        collect(folder)
    shutil.copy(media("video", "pedestrians.avi"), folder / "mute.avi")  # a picture without sound
    with pytest.raises(MediaError, match="mute.avi: no sound"):
        collect(folder)
    assert main(["train", "visual-onsets", "--data", str(folder), "-o", str(tmp_path / "o")]) == 2
    assert "none of its 1 video(s) can teach visual onsets" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _synthetic_clips(n=3, frames=60, fps=25.0):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        times = np.arange(frames) / fps
        onsets = np.sort(rng.choice(times[2:-2], 6, replace=False))
        out.append(ClipData(f"clip{i}.mp4", fps, times, rng.random((frames, RAW_WIDTH)), rng.random(frames),
                            rng.random(frames), onsets, np.ones(6), rng.random(frames), None, frames / fps))
    return out


def test_fit_returns_a_train_result_and_fine_tune_trains_a_copy(tmp_path):
    from xmedia.trainer import TrainResult

    clips = _synthetic_clips()
    base = VisualOnsets(radius=2, hidden=4)
    result = base.fit(clips, max_steps=5, folds=2, inner_folds=0, progress=False)
    assert isinstance(result, TrainResult) and result.process is base and result.steps == 5
    assert set(result.extra["cv"]["overall"]) >= {"model F@100", "chance F@100"}
    assert "model F@100" in result.metrics and 0.02 <= float(base.threshold) <= 0.95
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = base.fine_tune(clips[:2], max_steps=3, folds=None, inner_folds=None, progress=False)
    assert tuned.train_result.options["learning_rate"] == 0.003  # the recipe's fine_tune section
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())  # the original is untouched
    back = VisualOnsets.from_pretrained(tuned.save_pretrained(tmp_path / "tuned"))
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in tuned.state_dict().items())


@pytest.mark.parametrize("options, name", [
    (dict(max_steps=0), "max_steps"), (dict(max_steps=-5), "max_steps"), (dict(folds=0), "folds"),
    (dict(folds=1), "folds"), (dict(folds=99), "folds"), (dict(learning_rate=float("nan")), "learning_rate"),
    (dict(pos_weight=-1), "pos_weight"), (dict(spread=2), "spread"), (dict(target="loud"), "target"),
    (dict(epochs=30), "epochs"),
])
def test_bad_training_options_are_refused(options, name):
    with pytest.raises(ConfigError, match=name):
        VisualOnsets(radius=2, hidden=4).fit(_synthetic_clips(), **{"max_steps": 2, "progress": False, **options})


@pytest.mark.parametrize("flags, name", [
    (["--max-steps", "0"], "max_steps"), (["--max-steps", "-5"], "max_steps"), (["--folds", "0"], "folds"),
    (["--folds", "1"], "folds"), (["--learning-rate", "nan"], "learning_rate"), (["--seed", "-1"], "seed"),
])
def test_the_trainer_cli_refuses_bad_options_before_any_work(tmp_path, capsys, flags, name):
    data = tmp_path / "clips"
    data.mkdir()
    assert main(["train", "visual-onsets", "--data", str(data), "-o", str(tmp_path / "o"), *flags]) == 2
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err and not (tmp_path / "o").exists()


def test_eval_of_an_onset_model_needs_data(capsys):
    assert main(["eval", "visual-onsets"]) == 2
    assert "pass --data DIR" in capsys.readouterr().err


def test_the_encoder_runs_the_model_without_torch(media):
    import subprocess
    import sys

    code = ("import sys, xmedia; from xmedia.adapters.perceptual import encode_video; "
            f"e = encode_video(xmedia.load({str(media('video', 'fire_a.mp4'))!r})); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(len(e.events_s))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


# ------------------------------------------------------------------------------------------ operating points
def test_events_option_values_and_bad_values_are_refused(media):
    check = onset_model.check_events
    assert check("all") == "all" and check("salient") == "salient" and check(0.25) == 0.25 and check(np.float32(.5))
    for bad in ("ALL", "loud", "", None, True, 0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), [0.5]):
        with pytest.raises(ConfigError, match="events must be"):
            check(bad)
    v = xmedia.load(media("video", "fire_a.mp4"))
    with pytest.raises(ConfigError, match="events must be"):
        encode_video(v, events="some")  # refused before any decoding


def test_calibration_defaults_to_identity_and_old_weights_load_unchanged(tmp_path):
    m = _trained_tiny()
    assert float(m.calib_a) == 1.0 and float(m.calib_b) == 0.0 and float(m.count_scale) == 1.0
    x = torch.randn(40, len(FEATURE_NAMES))
    state = {k: v for k, v in m.state_dict().items() if k not in onset_model.CALIBRATION}  # saved before them
    back = VisualOnsets(radius=2, hidden=4)
    back.load_state_dict(state, strict=True)
    assert float(back.calib_a) == 1.0 and float(back.count_scale) == 1.0
    arrays = {k: v.numpy() for k, v in state.items()}
    twin = OnsetModel(m.config, arrays)
    assert (twin.calib_a, twin.calib_b, twin.count_scale) == (1.0, 0.0, 1.0)
    with torch.no_grad():
        np.testing.assert_allclose(twin.curve(x.numpy()), torch.sigmoid(m(x)).numpy(), atol=1e-5)
    m.set_calibration(0.5, -1.0, 1.3)  # a calibrated model saves and loads its calibration
    m.save_pretrained(tmp_path / "m", card={"description": "test"})
    cal = OnsetModel.load(tmp_path / "m")
    assert (cal.calib_a, cal.calib_b, cal.count_scale) == pytest.approx((0.5, -1.0, 1.3))
    with torch.no_grad():
        expect = torch.sigmoid(0.5 * m(x) - 1.0).numpy()
    np.testing.assert_allclose(cal.curve(x.numpy()), expect, atol=1e-5)
    np.testing.assert_allclose(cal.curve(x.numpy(), calibrated=False), torch.sigmoid(m(x)).detach().numpy(),
                               atol=1e-5)


def test_platt_scaling_recovers_a_known_calibration():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-(0.4 * z - 2.0)))).astype(float)
    a, b = onset_model.fit_platt(z, y)
    assert a == pytest.approx(0.4, abs=0.06) and b == pytest.approx(-2.0, abs=0.1)
    assert onset_model.fit_platt(z, np.zeros(len(z))) == (1.0, 0.0)  # one class only: identity


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(2.0, 30.0))
def test_salient_events_are_a_subset_of_all_at_most_one_a_second(seed, duration):
    rng = np.random.default_rng(seed)
    fps = 25
    n = int(duration * fps)
    times = [Fraction(i, fps) for i in range(n)]
    curve = rng.random(n) ** 4 * rng.uniform(0.05, 1.0)
    twin = OnsetModel(_trained_tiny().config, {k: v.numpy() for k, v in _trained_tiny().state_dict().items()})
    every = twin.pick(curve, times, "all", duration_s=duration)
    salient = twin.pick(curve, times, "salient", duration_s=duration)
    thr = twin.pick(curve, times, 0.5, duration_s=duration)
    assert len(salient[0]) <= len(every[0]) and set(salient[0]) <= set(every[0])
    assert len(salient[0]) <= max(1, int(duration))
    assert len(every[0]) <= round(float(curve.sum())) and all(0 <= s <= 1 for s in every[1] + thr[1])
    assert all(curve[round(float(e) * fps - twin.offset_s * fps)] >= 0.5 - 1e-9 for e in thr[0])
