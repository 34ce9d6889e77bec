"""Timbre models: imprint, blend, live blocks, training, the route selection, and bad input (issue 12).

Uses the shipped zoo timbres (violin, flute); training here is a few steps only.
"""
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.errors import ConfigError, MediaError, WeightsError
from xmedia.media import Audio

torch = pytest.importorskip("torch")

from conftest import corpus_path

from xmedia.adapters.timbre import Performance, analyse  # noqa: E402
from xmedia.adapters.timbre.blend import load_timbre, parse_blend  # noqa: E402
from xmedia.adapters.timbre.live import LiveImprint  # noqa: E402
from xmedia.adapters.timbre.model import Timbre  # noqa: E402
from xmedia.adapters.timbre.performance import HOP, SAMPLE_RATE_HZ, yin  # noqa: E402
from xmedia.process import Process  # noqa: E402


def corpus(*parts) -> Path:
    return corpus_path("timbre", *parts)


@pytest.fixture(scope="module")
def violin():
    return Timbre.from_pretrained("violin")


@pytest.fixture(scope="module")
def flute():
    return Timbre.from_pretrained("flute")


@pytest.fixture(scope="module")
def singing():
    """3 s of the a-cappella excerpt and its annotated f0 (an independent truth for pitch)."""
    audio = xmedia.load(corpus("singing", "vocadito_1.wav"))
    rows = np.loadtxt(corpus("singing", "vocadito_1_f0.csv"), delimiter=",", ndmin=2)
    start, length = 4.0, 3.0
    audio = audio.slice_s(start, start + length)
    keep = (rows[:, 0] >= start) & (rows[:, 0] < start + length)
    return audio, rows[keep, 0] - start, rows[keep, 1]


def frames_of(f0_hz, loud_db, n):
    return np.stack([np.full(n, f0_hz, np.float32), np.full(n, loud_db, np.float32)], axis=1)


# -- the route -----------------------------------------------------------------------------------------------
def test_options_select_the_timbre_and_sfx_routes(media):
    voice = Audio(np.zeros(4800, np.float32), 48000)
    assert str(xmedia.plan(voice, "audio", options={"timbre": "violin"})) == \
        "audio -> [pitch-loudness] controls:timbre -> [timbre] audio"
    assert "composer" in str(xmedia.plan(voice, "audio"))  # no timbre: the composer's route, as before
    clip = xmedia.load(media("video", "fire_a.mp4"))
    assert str(xmedia.plan(clip, "audio", options={"style": "sfx"})) == "video -> [flow-motion] motion -> [sfx] audio"
    assert "[composer]" in str(xmedia.plan(clip, "audio", options={"style": "music"}))
    played = xmedia.plan(clip, "audio", options={"style": "sfx", "timbre": "violin"})
    assert played.nodes == ["video", "motion", "controls:timbre", "audio"]


# -- imprint ---------------------------------------------------------------------------------------------------
def test_imprint_keeps_the_melody_in_the_violins_range(singing, violin):
    audio, t_s, f0_truth = singing
    out = xmedia.translate(audio, "audio", timbre=violin, pitch="yin")
    assert out.sample_rate_hz == audio.sample_rate_hz and abs(out.num_samples - audio.num_samples) <= 1
    assert np.isfinite(out.samples).all() and np.abs(out.samples).max() > 0.01
    x16 = out.resample(SAMPLE_RATE_HZ).mono()
    f0_out, periodicity = yin(x16)
    times = np.arange(len(f0_out)) * HOP / SAMPLE_RATE_HZ
    truth = np.interp(times, t_s, f0_truth)
    voiced = (np.interp(times, t_s, (f0_truth > 0).astype(float)) > 0.99) & (periodicity > 0.6)
    assert voiced.mean() > 0.3, "the imprint should be pitched where the singer sings"
    cents = 1200 * np.log2(f0_out[voiced] / truth[voiced])
    octave = np.round(np.median(cents) / 1200)  # moved by whole octaves into the violin's range
    error = np.abs(cents - 1200 * octave)
    assert np.median(error) < 50, f"median pitch error {np.median(error):.0f} cents"
    low, high = violin.range_stats()["f0_range_hz"]
    assert low * 0.9 < np.median(f0_out[voiced]) < high * 1.1


def test_cli_imprint_writes_the_timbre(tmp_path, singing):
    from xmedia.cli import main

    voice = tmp_path / "voice.wav"
    singing[0].slice_s(0, 1).save(voice)
    out = tmp_path / "out.wav"
    assert main(["translate", str(voice), "--to", "audio", "--timbre", "flute", "--option", "pitch=yin",
                 "-o", str(out)]) == 0
    audio = xmedia.load(out)
    assert abs(float(audio.duration_s) - 1.0) < 0.01 and np.abs(audio.samples).max() > 0.01
    assert main(["translate", str(voice), "--to", "audio", "--timbre", str(tmp_path), "-o", str(out)]) == 2


def test_silence_and_noise_give_quiet_finite_audio(violin):
    silence = Audio(np.zeros(24000, np.float32), 48000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        perf = analyse(silence, pitch="yin")
        out = violin.run(perf)
        assert np.isfinite(out.samples).all() and np.abs(out.samples).max() < 1e-4
        noise = Audio(np.random.default_rng(0).uniform(-0.5, 0.5, 24000).astype(np.float32), 48000)
        loud = violin.run(analyse(noise, pitch="yin"))
    assert np.isfinite(loud.samples).all()


def test_pitch_outside_the_trained_range_is_folded_into_it(violin):
    n = 200
    perf = Performance(np.full(n, 5000.0), np.full(n, -20.0), np.ones(n), sample_rate_hz=16000)
    with pytest.warns(UserWarning, match="outside the timbre's trained range"):
        out = violin.run(perf, octave=0)
    f0, per = yin(out.mono())
    low, high = violin.range_stats()["f0_range_hz"]
    core = f0[40:-40][per[40:-40] > 0.6]
    assert len(core) and low * 0.95 <= np.median(core) <= high * 1.05
    with pytest.raises(MediaError):
        violin.process(np.array([[np.nan, -20.0]]))


# -- blend ---------------------------------------------------------------------------------------------------
def test_blend_is_exact_at_its_ends(violin, flute):
    frames = np.stack([np.linspace(300, 600, 60), np.full(60, -25.0)], 1)
    for t, ref in ((0.0, violin), (1.0, flute)):
        mixed = Process.blend(violin, flute, t)
        assert all(torch.equal(a, b) for a, b in zip(mixed.state_dict().values(), ref.state_dict().values()))
        assert np.array_equal(mixed.synthesize(frames), ref.synthesize(frames))
    assert parse_blend("violin:0.7,flute:0.3") == [("violin", 0.7), ("flute", 0.3)]
    assert np.array_equal(load_timbre("violin:1,flute:0").synthesize(frames), violin.synthesize(frames))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=st.floats(0.0, 0.98))
def test_blend_is_smooth_in_t(violin, flute, t):
    frames = np.stack([np.linspace(300, 500, 40), np.full(40, -25.0)], 1)
    a = Process.blend(violin, flute, t).synthesize(frames)
    b = Process.blend(violin, flute, t + 0.01).synthesize(frames)
    far = np.abs(violin.synthesize(frames) - flute.synthesize(frames)).max()
    assert np.abs(a - b).max() < 0.25 * far  # a 1 % step in t moves the sound by a small part of the whole way


# -- live ----------------------------------------------------------------------------------------------------
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 30_000), min_size=1, max_size=40))
def test_live_blocks_equal_one_call(singing, cuts):
    audio = singing[0].resample(48000).slice_s(0, 0.7)
    x = audio.mono()
    live = LiveImprint("violin", 48000)
    whole = live.process(x, reset=True)
    bounds = sorted({c % len(x) for c in cuts} | {0, len(x)})
    # blocks of at most 20 ms (960 samples at 48 kHz)
    pieces = [x[a:b][i:i + 960] for a, b in zip(bounds[:-1], bounds[1:]) for i in range(0, b - a, 960)]
    out = np.concatenate([live.process(p, reset=(i == 0)) for i, p in enumerate(pieces)])
    assert len(out) == len(x) and np.abs(out - whole).max() < 1e-5
    assert np.abs(whole).max() > 1e-3  # the singer is heard through the violin


def test_model_blocks_equal_offline(violin):
    frames = np.stack([np.linspace(200, 800, 101), np.linspace(-40, -10, 101)], 1)
    offline = violin.synthesize(frames)
    violin.reset()
    live = np.concatenate([violin.process(frames[i:i + 4]) for i in range(0, len(frames), 4)])
    violin.reset()
    assert live.shape == offline.shape == (101 * HOP,)
    assert np.abs(live - offline).max() < 1e-5


def test_numpy_renderer_matches_the_torch_graph(violin):
    """Inference runs in numpy (fast.py), training in torch: the two must be one model."""
    frames = np.stack([np.linspace(250, 700, 40), np.linspace(-45, -10, 40)], 1)
    with torch.no_grad():
        graph = violin.render(torch.tensor(frames, dtype=torch.float32)[None])[0][0].numpy()
    fast = violin.synthesize(frames)
    # the fast path masks a harmonic crossing 0.95 x Nyquist for its whole 5 ms frame, the graph per sample
    assert np.abs(graph - fast).max() < 0.02 * np.abs(graph).max()
    low = frames.copy()
    low[:, 0] = np.linspace(150, 300, 40)  # no harmonic near Nyquist: the two agree closely
    with torch.no_grad():
        graph = violin.render(torch.tensor(low, dtype=torch.float32)[None])[0][0].numpy()
    assert np.abs(graph - violin.synthesize(low)).max() < 0.01 * np.abs(graph).max()  # float32 vs float64


# -- training and bad input ------------------------------------------------------------------------------------
def test_a_few_training_steps_save_and_load(tmp_path):
    files = sorted(corpus("flute").glob("*.flac"))[:3]
    data = tmp_path / "flute"
    data.mkdir()
    for f in files:
        shutil.copy(f, data / f.name)
    from xmedia.cli import main

    assert main(["train", "timbre", "--data", str(data), "-o", str(tmp_path / "tiny"), "--max-steps", "3",
                 "--pitch", "yin"]) == 0
    model = Timbre.from_pretrained(tmp_path / "tiny")
    assert (tmp_path / "tiny" / "loss.png").stat().st_size > 1000
    assert np.isfinite(model.synthesize(frames_of(440.0, -20.0, 20))).all()
    assert "held out" in json.loads((tmp_path / "tiny" / "config.json").read_text())["card"]["data"]


def test_bad_training_data_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio here")
    with pytest.raises(MediaError, match="holds no audio"):
        Timbre().fit(empty, max_steps=1)
    noisy = tmp_path / "noise"
    noisy.mkdir()
    rng = np.random.default_rng(0)
    Audio(rng.uniform(-0.3, 0.3, 48000).astype(np.float32), 16000).save(noisy / "noise.wav")
    Audio(np.zeros(48000, np.float32), 16000).save(noisy / "silence.wav")
    with pytest.raises(ConfigError, match="pitched"):
        Timbre().fit(noisy, max_steps=1, pitch="yin")


def test_a_folder_that_is_no_timbre_is_refused(tmp_path, violin):
    from xmedia.zoo import locate

    with pytest.raises(WeightsError, match="not a timbre"):
        load_timbre(locate("av-perceptual"))
    with pytest.raises(WeightsError):
        load_timbre(tmp_path)
    corrupt = tmp_path / "corrupt"
    violin.save_pretrained(corrupt)
    weights = corrupt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64] + b"\0" * 64)
    with pytest.raises(WeightsError, match="corrupt"):
        load_timbre(corrupt)


def test_composer_plays_a_trained_timbre():
    from xmedia.adapters.composer import ComposerControls, compose

    track = np.full((40, 8), 0.6, np.float32)
    controls = ComposerControls(track, rate_hz=10, duration_s=4, events_s=(1,), tempo_bpm=120)
    plain = compose(controls, seed=1, sample_rate_hz=44100)
    violin = compose(controls, seed=1, sample_rate_hz=44100, instrument="violin")
    assert plain.samples.shape == violin.samples.shape and np.isfinite(violin.samples).all()
    assert not np.allclose(plain.samples, violin.samples)
