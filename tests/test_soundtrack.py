"""Video -> soundtrack: the embedded composer, the PerceptualToComposer bridge, remix mode and the CLI."""
from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.adapters.composer import (
    CONTROL_NAMES,
    ComposerControls,
    Piece,
    beat_times,
    compose,
    mix,
    parse_key,
    render,
)
from xmedia.adapters.perceptual import AXES
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.bridges.soundtrack import PerceptualToComposer
from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError, XMediaError

SR = 48000
BRIDGE = PerceptualToComposer()  # the initial, research-grounded weights (what the route's step runs)


def controls(duration_s, rate_hz=30, events=(), strengths=(), level=0.5, **kw) -> ComposerControls:
    steps = max(1, int(Fraction(duration_s) * Fraction(rate_hz)))
    track = np.full((steps, len(CONTROL_NAMES)), level, np.float32)
    return ComposerControls(track, rate_hz, Fraction(duration_s), tuple(Fraction(e) for e in events), strengths, **kw)


def embedding(track, rate_hz=30, events=()) -> xmedia.Embedding:
    track = np.asarray(track, np.float32)
    return xmedia.Embedding("perceptual", track.mean(axis=0), track=track, rate_hz=rate_hz, axes=AXES,
                            events_s=events, source="video")


def same(a: xmedia.Audio, b: xmedia.Audio) -> bool:
    """Equal up to float32 rounding (SIMD sums may differ in the last bit with memory alignment)."""
    return a.samples.shape == b.samples.shape and np.abs(a.samples - b.samples).max() < 1e-6


def attack_ratio(audio: xmedia.Audio, sample: int, window_s: float = 0.003) -> float:
    """Energy just after ``sample`` over energy just before it."""
    w = int(window_s * audio.sample_rate_hz)
    x = audio.mono()
    before = float(np.mean(x[max(0, sample - w):sample] ** 2)) if sample > 0 else 0.0
    after = float(np.mean(x[sample:sample + w] ** 2))
    return after / (before + 1e-12)


@pytest.fixture(scope="module")
def phone():
    from tests.conftest import media_path

    return xmedia.load(media_path("video", "phone_portrait.mp4"))


@pytest.fixture(scope="module")
def phone_parts(phone):
    """(audio, embedding, controls): the soundtrack and what the route computed on the way."""
    trace = xmedia.translate(phone, to="audio", seed=0, trace=True)
    return trace.output, trace["space:perceptual"], trace["controls:composer"]


# ------------------------------------------------------------------------------------------ real clips
def test_real_clip_end_to_end_through_translate(phone, phone_parts):
    audio = xmedia.translate(phone, to="audio", seed=0)
    assert isinstance(audio, xmedia.Audio)
    assert audio.sample_rate_hz == SR and audio.channels == 2
    assert audio.num_samples == round(phone.duration_s * SR)
    assert same(audio, phone_parts[0])  # the same seed gives the same samples, call after call
    assert 0.05 < np.abs(audio.samples).max() <= 1.0
    # music plays throughout, not only at events: every second has sound
    sec = audio.mono()[: SR * 11].reshape(11, SR)
    assert (np.sqrt((sec**2).mean(axis=1)) > 0.01).all()


def test_every_visual_event_is_marked_within_one_frame(phone, phone_parts):
    audio, emb, ctl = phone_parts
    assert len(emb.events_s) >= 3  # the trailer has cuts
    onsets = detect_onsets(audio)
    frame_s = 1 / float(phone.fps)
    for e in emb.events_s:
        assert np.abs(onsets - float(e)).min() <= frame_s, f"no soundtrack onset within one frame of {float(e):.3f} s"
        assert attack_ratio(audio, round(e * SR)) > 3.0


def test_same_seed_same_soundtrack_other_seed_differs(phone_parts):
    _, _, ctl = phone_parts
    a, b, c = compose(ctl, seed=7), compose(ctl, seed=7), compose(ctl, seed=8)
    assert same(a, b)
    assert np.abs(a.samples - c.samples).max() > 0.01


def test_foley_sounds_only_at_events(phone_parts):
    _, emb, ctl = phone_parts
    audio = compose(ctl, style="foley", seed=0)
    first = round(emb.events_s[0] * SR)
    assert np.abs(audio.samples[:first]).max() < 1e-6  # silence (below -120 dBFS) before the first event
    for e in emb.events_s:
        assert attack_ratio(audio, round(e * SR)) > 100
    onsets = detect_onsets(audio)
    ev = np.array([float(e) for e in emb.events_s])
    # one onset per event, each within one frame of it: nothing else sounds
    assert len(onsets) == len(ev) and np.abs(onsets - ev).max() <= 1 / float(ctl.rate_hz)


def test_music_follows_the_picture_pace_and_energy():
    calm = np.full((300, 8), 0.5, np.float32)
    calm[:, AXES.index("energy")] = calm[:, AXES.index("pace")] = 0.05
    busy = calm.copy()
    busy[:, AXES.index("energy")] = busy[:, AXES.index("pace")] = 0.6
    c_calm, c_busy = BRIDGE.controls(embedding(calm)), BRIDGE.controls(embedding(busy))
    assert c_busy.tempo_bpm > c_calm.tempo_bpm + 20
    a_calm, a_busy = compose(c_calm, seed=1), compose(c_busy, seed=1)
    # more energy -> more drums -> more onsets per second
    assert len(detect_onsets(a_busy)) > 1.5 * len(detect_onsets(a_calm))


def test_variable_frame_rate_clip_gets_its_exact_duration(media):
    video = xmedia.load(media("video", "tree.avi"))
    audio = xmedia.translate(video, to="audio", style="foley", seed=1, sample_rate_hz=44100)
    assert audio.sample_rate_hz == 44100 and audio.num_samples == round(video.duration_s * 44100)


# ------------------------------------------------------------------------------------------ properties
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fps=st.sampled_from([Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(60), Fraction(10),
                         Fraction(7, 3)]),
    frames=st.integers(2, 90),
    style=st.sampled_from(["music", "foley"]),
    sr=st.sampled_from([44100, 48000]),
    seed=st.integers(0, 2**31),
)
def test_exact_duration_and_determinism_for_any_rate(fps, frames, style, sr, seed):
    duration = frames / fps
    rng = np.random.default_rng(seed)
    track = rng.random((frames, 8)).astype(np.float32)
    events = sorted({int(i) for i in rng.integers(0, frames, 3)})
    ctl = BRIDGE.controls(embedding(track, fps, [Fraction(i) / fps for i in events]))
    a = compose(ctl, style=style, seed=seed, sample_rate_hz=sr)
    assert a.num_samples == round(duration * sr) and a.channels == 2
    assert np.isfinite(a.samples).all() and np.abs(a.samples).max() <= 1.0
    assert same(a, compose(ctl, style=style, seed=seed, sample_rate_hz=sr))


@settings(max_examples=15, deadline=None)
@given(
    fps=st.sampled_from([Fraction(24000, 1001), Fraction(25), Fraction(30), Fraction(50)]),
    event_frames=st.lists(st.integers(1, 40).map(lambda k: 5 * k), min_size=1, max_size=6, unique=True),
    strengths=st.lists(st.floats(0.2, 1.0), min_size=6, max_size=6),
)
def test_event_sound_starts_on_the_event_sample(fps, event_frames, strengths):
    """The attack is at round(t * sr): silence (or far less energy) just before, sound just after.

    Events are at least 5 frames apart, as the video encoder reports them (0.15 s minimum gap)."""
    event_frames = sorted(event_frames)
    events = [Fraction(f) / fps for f in event_frames]
    ctl = controls(Fraction(210) / fps, fps, events, strengths[: len(events)])
    audio = compose(ctl, style="foley", seed=0)
    onsets = detect_onsets(audio)
    for e in events:
        s = round(e * SR)
        assert audio.samples[s:s + 48].any()
        assert np.abs(onsets - float(e)).min() <= 1 / float(fps)
    assert np.abs(audio.samples[: round(events[0] * SR)]).max() < 1e-6


@pytest.mark.parametrize("style, remix", [("music", False), ("foley", False), ("music", True)])
def test_windowed_render_has_no_seams(style, remix, monkeypatch, request):
    """Rendering in small windows gives the samples of a one-block render: notes that ring across a window's
    edge, chokes, ducks and the reverb's tail carry over, so nothing clicks at the seams."""
    steps = 30 * 12
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    track = np.clip(0.3 + 0.5 * np.abs(np.sin(6 * t + np.arange(len(CONTROL_NAMES)))), 0, 1)
    events = (Fraction(1, 3), Fraction(29, 10), Fraction(3), Fraction(61, 10), Fraction(9))
    ctl = ComposerControls(track, 30, Fraction(12), events, (0.9, 0.4, 1.0, 0.7, 0.2))
    bank = request.getfixturevalue("bank") if remix else None
    monkeypatch.setattr(render, "WINDOW_S", 1000.0)
    whole = compose(ctl, style=style, seed=5, bank=bank).samples
    monkeypatch.setattr(render, "WINDOW_S", 0.7)
    windowed = compose(ctl, style=style, seed=5, bank=bank).samples
    assert windowed.shape == whole.shape and np.abs(whole).max() > 0.1
    assert np.abs(windowed - whole).max() < 1e-4


def test_tempo_override_gives_a_steady_beat():
    ctl = controls(8, events=())
    piece = Piece(ctl, SR, 8 * SR, np.random.default_rng(0), 0, "major", 120.0)
    beats, index = beat_times(piece, follow_pace=False)
    assert np.allclose(np.diff(beats), 0.5) and list(index[:5]) == [0, 1, 2, 3, 0]


def test_strong_event_moves_the_downbeat_onto_it():
    ctl = controls(8, events=[Fraction(3217, 1000)], strengths=[0.9])
    piece = Piece(ctl, SR, 8 * SR, np.random.default_rng(0), 0, "major", 120.0)
    beats, index = beat_times(piece, follow_pace=False)
    j = int(np.argmin(np.abs(beats - 3.217)))
    assert abs(beats[j] - 3.217) < 1e-9 and index[j] == 0


# ------------------------------------------------------------------------------------------ bridge
def test_bridge_initial_mapping_follows_the_correspondences():
    base = np.full((60, 8), 0.5, np.float32)

    def ctl(axis, value):
        t = base.copy()
        t[:, AXES.index(axis)] = value
        return BRIDGE.controls(embedding(t))

    assert ctl("pace", 0.9).tempo_bpm > ctl("pace", 0.1).tempo_bpm
    assert ctl("energy", 0.9).control("intensity").mean() > ctl("energy", 0.1).control("intensity").mean() + 0.3
    assert ctl("valence", 0.9).mode == "major" and ctl("valence", 0.1).mode == "minor"
    assert ctl("brightness", 0.9).control("register").mean() > ctl("brightness", 0.1).control("register").mean()
    assert ctl("texture", 0.9).control("roughness").mean() > ctl("texture", 0.1).control("roughness").mean() + 0.3
    events = (Fraction(1, 3), Fraction(17, 30))
    c = BRIDGE.controls(embedding(base, events=events))
    assert c.events_s == events and c.duration_s == 2 and c.rate_hz == 30


def test_bridge_is_trainable_and_saves(tmp_path):
    import torch

    b = PerceptualToComposer()
    x = torch.rand(50, 8)
    loss = (b(x) - 0.3).pow(2).mean()
    loss.backward()
    assert b.mix.weight.grad.abs().sum() > 0 and b.smooth.weight.grad.abs().sum() > 0
    b.save_pretrained(tmp_path / "bridge")
    again = PerceptualToComposer.from_pretrained(tmp_path / "bridge")
    assert torch.allclose(again(x), b(x))
    audio = xmedia.translate(embedding(np.random.default_rng(0).random((40, 8))), to="audio", bridge=again)
    assert audio.num_samples == round(Fraction(40, 30) * SR)


# ------------------------------------------------------------------------------------------ bad input
def test_one_frame_still_image_and_zero_duration_are_clear_errors(tmp_path, media):
    one = xmedia.Video.from_frames(np.zeros((1, 16, 16, 3), np.uint8), fps=30)
    with pytest.raises(MediaError, match="single frame"):
        xmedia.translate(one, to="audio")
    still = tmp_path / "photo.mp4"
    still.write_bytes(Path(media("image", "fruits.jpg")).read_bytes())
    with pytest.raises(XMediaError):
        xmedia.translate(xmedia.load(still), to="audio")
    with pytest.raises(MediaError, match="no time"):
        BRIDGE.controls(xmedia.encode(xmedia.load(media("image", "fruits.jpg"))))
    with pytest.raises(MediaError, match="zero duration"):
        controls(0)
    with pytest.raises(MediaError):
        xmedia.Video.from_frames(np.zeros((0, 16, 16, 3), np.uint8))


def test_corrupt_stream_mid_file_warns_and_scores_what_decoded(tmp_path, media):
    data = bytearray(Path(media("video", "phone_portrait.mp4")).read_bytes())
    mid = len(data) // 2
    data[mid:mid + 200_000] = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        video = xmedia.load(bad)
        audio = xmedia.translate(video, to="audio", style="foley", max_side=96)
    assert any("decod" in str(w.message) for w in caught)
    assert audio.num_samples == round(video.duration_s * SR)


def test_bad_options_are_config_errors():
    ctl = controls(1)
    with pytest.raises(ConfigError, match="style"):
        compose(ctl, style="polka")
    with pytest.raises(ConfigError, match="sample_rate_hz"):
        compose(ctl, sample_rate_hz=22050)
    with pytest.raises(ConfigError, match="key"):
        compose(ctl, key="H#")
    with pytest.raises(ConfigError, match="bank"):
        compose(ctl, bank="/nonexistent/folder")
    assert parse_key("F#m") == (6, "minor") and parse_key("Bb major") == (10, "major") and parse_key("c") == (0, None)


# ------------------------------------------------------------------------------------------ remix and mix
@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    from tests.conftest import media_path

    folder = tmp_path_factory.mktemp("bank")
    for name in ("loop_amen", "drum_splash_hard", "ambi_drone", "elec_chime", "bass_hard_c"):
        (folder / f"{name}.flac").symlink_to(media_path("audio", f"{name}.flac"))
    return folder


def test_remix_from_a_sample_bank(phone_parts, bank):
    _, emb, ctl = phone_parts
    music = compose(ctl, bank=bank, seed=0)
    assert music.num_samples == round(ctl.duration_s * SR) and np.abs(music.samples).max() > 0.05
    onsets = detect_onsets(music)
    for e in emb.events_s:  # the bank's hits mark every event, over its loops and pads
        assert np.abs(onsets - float(e)).min() <= 1 / float(ctl.rate_hz)
    foley = compose(ctl, bank=bank, style="foley", seed=0)
    # a sample's own lead-in before its attack may precede the event by a few ms, nothing earlier
    assert np.abs(foley.samples[: round((emb.events_s[0] - Fraction(1, 100)) * SR)]).max() < 1e-6
    onsets = detect_onsets(foley)
    for e in emb.events_s:
        assert np.abs(onsets - float(e)).min() <= 1 / float(ctl.rate_hz)
    # a dark, calm picture and a bright, rough one pick different hits
    dark, bright = np.full((60, 8), 0.1, np.float32), np.full((60, 8), 0.9, np.float32)
    ev = (Fraction(1, 2),)
    a = compose(BRIDGE.controls(embedding(dark, events=ev)), bank=bank, style="foley")
    b = compose(BRIDGE.controls(embedding(bright, events=ev)), bank=bank, style="foley")
    assert not np.allclose(a.samples, b.samples)


def test_mix_modes_keep_the_clip_audio(phone, phone_parts):
    music = phone_parts[0]
    orig = phone.audio.resample(SR).with_channels(2).samples[: music.num_samples].mean(axis=1)
    for mode, least in (("under", 0.8), ("over", 0.1)):
        m = mix(music, phone.audio, mode).mono()[: len(orig)]
        assert np.corrcoef(m, orig)[0, 1] > least
    assert mix(music, phone.audio, "replace") is music
    with pytest.raises(ConfigError):
        mix(music, phone.audio, "sideways")


# ------------------------------------------------------------------------------------------ CLI
def test_cli_writes_mp4_with_copied_video_and_report(tmp_path, media):
    src = media("video", "phone_portrait.mp4")
    out, report = tmp_path / "scored.mp4", tmp_path / "report.png"
    assert main(["translate", str(src), "--to", "audio", "-o", str(out), "--mix", "under", "--seed", "3",
                 "--report", str(report)]) == 0
    info, orig = xmedia.info(out), xmedia.info(src)
    assert info["frames"] == orig["frames"] and info["rotation_deg"] == 90
    assert [s["codec"] for s in info["streams"]] == ["h264", "aac"]
    assert abs(info["audio"]["duration_s"] - orig["duration_s"]) < 0.05
    assert report.stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.png", "scored.mp4"]  # no temp files left


def test_cli_audio_only_with_flags_and_bad_output(tmp_path, media, capsys):
    src = media("video", "megamind.avi")
    out = tmp_path / "foley.wav"
    assert main(["translate", str(src), "--to", "audio", "-o", str(out), "--style", "foley", "--tempo", "96",
                 "--key", "Am"]) == 0
    audio = xmedia.load(out)
    assert audio.num_samples == round(xmedia.load(src).duration_s * SR)
    assert main(["translate", str(src), "--to", "audio", "-o", str(tmp_path / "x.png")]) == 2
    assert "write the soundtrack as audio" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
