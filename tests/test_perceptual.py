"""The perceptual space: the same change measured in different media moves the same axis the same way."""
from fractions import Fraction

import numpy as np
from conftest import media_path
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia import Audio, Image, Motion, Text, Video
from xmedia.adapters.perceptual import AXES, VideoEncoder, encode

SR = 22050


def spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def moving_square_video(speed_px_per_frame: float, n: int = 48, size: int = 96, fps: int = 24, seed: int = 0):
    """A textured square crossing a textured background: `speed` sets how fast it moves."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 90, (size, size, 3), dtype=np.uint8)
    tex = rng.integers(150, 255, (24, 24, 3), dtype=np.uint8)
    frames = np.repeat(bg[None], n, axis=0).copy()
    for i in range(n):
        x = int(round(i * speed_px_per_frame)) % (size - 24)
        frames[i, 36:60, x:x + 24] = tex
    return Video.from_frames(frames, fps=fps)


def clicks(rate_hz: float, duration_s: float = 4.0, sr: int = SR) -> Audio:
    x = np.zeros(int(duration_s * sr), np.float32)
    click = np.exp(-np.arange(400) / 60.0) * np.random.default_rng(0).standard_normal(400)
    for t in np.arange(0.05, duration_s - 0.05, 1 / rate_hz):
        i = int(t * sr)
        x[i:i + 400] += 0.5 * click[: len(x) - i]
    return Audio(x, sr)


def tone(cutoff_harmonic: int, f0: float = 220.0, duration_s: float = 1.0) -> Audio:
    t = np.arange(int(duration_s * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, cutoff_harmonic + 1))
    return Audio((0.3 * x / np.abs(x).max()).astype(np.float32), SR)


# ------------------------------------------------------------------------------ brightness, across media
@given(gain=st.floats(1.2, 2.5))
@settings(max_examples=10, deadline=None)
def test_brighter_photo_raises_brightness(gain):
    img = xmedia.load(media_path("image", "starry_night.jpg"))
    brighter = Image(np.clip(img.pixels.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    assert encode(brighter)["brightness"] > encode(img)["brightness"] + 0.03


def test_video_that_brightens_raises_brightness_over_time(media):
    frame = xmedia.load(media("image", "fruits.jpg")).pixels[::4, ::4]
    gains = np.linspace(0.3, 1.2, 24)
    frames = np.stack([np.clip(frame * g, 0, 255).astype(np.uint8) for g in gains])
    e = encode(Video.from_frames(frames, fps=12))
    assert spearman(np.arange(24), e.axis("brightness")) > 0.95


@given(low=st.integers(1, 3), high=st.integers(8, 20))
@settings(max_examples=10, deadline=None)
def test_sound_whose_spectrum_brightens_raises_brightness(low, high):
    assert encode(tone(high))["brightness"] > encode(tone(low))["brightness"] + 0.05


def test_lowpassed_recording_is_less_bright(media):
    from scipy.signal import butter, sosfilt

    a = xmedia.load(media("audio", "loop_amen.flac"))
    sos = butter(4, 800, fs=a.sample_rate_hz, output="sos")
    dull = Audio(sosfilt(sos, a.samples, axis=0).astype(np.float32), a.sample_rate_hz)
    assert encode(dull)["brightness"] < encode(a)["brightness"] - 0.1


# ------------------------------------------------------------------------------ pace, across media
@given(speed=st.floats(1.0, 2.0))
@settings(max_examples=8, deadline=None)
def test_faster_motion_raises_pace_and_energy(speed):
    slow, fast = encode(moving_square_video(speed)), encode(moving_square_video(speed * 2.5))
    assert fast["pace"] > slow["pace"]
    assert fast["energy"] > slow["energy"]


def test_real_video_sped_up_raises_pace(media):
    """Dropping frames at the same fps makes everything on screen move faster."""
    v = xmedia.load(media("video", "pedestrians.avi"))
    frames = v.load_frames(max_side=160)[:300]
    normal = encode(Video.from_frames(frames[:100], fps=10))
    faster = encode(Video.from_frames(frames[::3], fps=10))
    assert faster["pace"] > normal["pace"] and faster["energy"] > normal["energy"]


@given(rate=st.floats(0.7, 3.0))
@settings(max_examples=8, deadline=None)
def test_faster_rhythm_raises_pace(rate):
    assert encode(clicks(rate * 2))["pace"] > encode(clicks(rate))["pace"]


def test_fast_loops_have_more_pace_than_pads(media):
    fast = [encode(xmedia.load(media("audio", f)))["pace"] for f in ("loop_amen.flac", "loop_breakbeat.flac")]
    slow = [encode(xmedia.load(media("audio", f)))["pace"] for f in ("ambi_drone.flac", "ambi_glass_hum.flac")]
    assert min(fast) > max(slow) + 0.3


# ------------------------------------------------------------------------------ other axes
def test_noise_is_rougher_than_tone(media):
    noise = encode(xmedia.load(media("audio", "noise.wav")))
    pad = encode(xmedia.load(media("audio", "ambi_drone.flac")))
    assert noise["texture"] > pad["texture"] + 0.2


@given(gain_db=st.floats(6, 30))
@settings(max_examples=8, deadline=None)
def test_louder_audio_has_more_energy(gain_db):
    a = xmedia.load(media_path("audio", "guit_em9.flac"))
    quiet = Audio(a.samples * 10 ** (-gain_db / 20), a.sample_rate_hz)
    assert encode(a)["energy"] > encode(quiet)["energy"] + gain_db / 80


def test_warm_and_cool_pictures(media):
    img = xmedia.load(media("image", "home.jpg")).pixels.astype(np.int16)
    warm = Image(np.clip(img + [40, 10, -40], 0, 255).astype(np.uint8))
    cool = Image(np.clip(img + [-40, 0, 40], 0, 255).astype(np.uint8))
    assert encode(warm)["warmth"] > encode(cool)["warmth"] + 0.2


def test_text_lexicon_moves_axes_and_negation_mirrors():
    happy, sad = encode(Text("a happy sunny dance")), encode(Text("a sad dark night"))
    assert happy["valence"] > 0.7 > 0.35 > sad["valence"]
    assert happy["brightness"] > sad["brightness"]
    assert encode(Text("not happy"))["valence"] < 0.5 < encode(Text("happy"))["valence"]
    assert all(v == 0.5 for v in encode(Text("qwzx")).as_dict().values())


# ------------------------------------------------------------------------------ tracks and events
def test_audio_onsets_are_found_at_the_clicks():
    a = clicks(2.0, duration_s=3.0)
    e = encode(a)
    truth = np.arange(0.05, 2.95, 0.5)
    found = np.array([float(t) for t in e.events_s])
    assert len(found) == len(truth)
    assert np.abs(found - truth).max() <= 0.002  # refined to the attack, well inside one video frame


def test_video_cut_is_an_event_at_the_right_frame(media):
    a = xmedia.load(media("video", "fire_b.mp4")).load_frames(max_side=96)[:48]
    b = xmedia.load(media("video", "pedestrians.avi")).load_frames(max_side=96)[:48, : a.shape[1], : a.shape[2]]
    frames = np.concatenate([a[:30], b[:30]])
    e = encode(Video.from_frames(frames, fps=24))
    assert Fraction(30, 24) in e.events_s  # exact time of the first frame after the cut


def test_tracks_are_fixed_rate_and_cover_the_duration(media):
    v = xmedia.load(media("video", "tree.avi"))  # variable frame rate
    e = encode(v)
    assert e.rate_hz == v.fps and e.duration_s == v.duration_s
    assert e.num_steps == int(v.duration_s * v.fps)
    assert e.track.shape[1] == len(AXES) and e.axes == AXES
    assert (e.track >= 0).all() and (e.track <= 1).all()


def test_streaming_encoder_matches_batch(media):
    v = xmedia.load(media("video", "fire_a.mp4"))
    batch = encode(v, onset_model="classic").track  # the learned onsets look a few frames ahead: test_onsets.py
    enc = VideoEncoder(fps=float(v.fps))
    rows = [enc.process(f.rgb) for f in v.iter_frames(max_side=160)]
    np.testing.assert_allclose(np.stack(rows), batch[: len(rows)], atol=1e-6)
    again = enc.process(next(v.iter_frames(max_side=160)).rgb, reset=True)
    np.testing.assert_allclose(again, batch[0], atol=1e-6)


def test_motion_encoder_pace_follows_oscillation_rate():
    t = np.arange(0, 6, 1 / 50)
    slow = encode(Motion(np.sin(2 * np.pi * 0.5 * t), 50))
    fast = encode(Motion(np.sin(2 * np.pi * 2.0 * t), 50))
    assert fast["pace"] > slow["pace"] + 0.2 and fast["energy"] > slow["energy"]


def test_silence_is_neutral_not_nan():
    e = encode(Audio(np.zeros((SR, 2), np.float32), SR))
    assert np.isfinite(e.vector).all()
    assert e["energy"] == 0 and e["brightness"] == 0.5 and e["valence"] == 0.5 and not e.events_s
