import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia import Audio, Embedding, Image, MediaError, Motion, Text, Video


def test_audio_normalises_shape_and_dtype():
    a = Audio(np.array([0, 16384, -32767], dtype=np.int16), 8000)
    assert a.samples.shape == (3, 1) and a.samples.dtype == np.float32
    assert a.samples[1, 0] == pytest.approx(0.5, abs=1e-3)
    assert a.duration_s == Fraction(3, 8000)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Audio(np.full((10, 2), np.nan, np.float32), 44100),
        lambda: Audio(np.zeros((10, 2)), 0),
        lambda: Audio(np.zeros((10, 2)), 44100.5),
        lambda: Audio(np.zeros((2, 3, 4)), 44100),
        lambda: Image(np.zeros((4, 4, 5), np.uint8)),
        lambda: Image(np.full((4, 4, 3), np.inf, np.float32)),
        lambda: Image(np.zeros((4, 4, 3), np.int64)),
        lambda: Video(frames=np.zeros((0, 4, 4, 3), np.uint8), fps=30),
        lambda: Video(frames=np.zeros((2, 4, 4, 3), np.uint8), fps=-1),
        lambda: Video(frames=np.zeros((2, 4, 4, 3), np.uint8), fps=30, pts=[0, 0], time_base=Fraction(1, 30)),
        lambda: Motion(np.zeros((5, 2)), 30, channels=("a",)),
        lambda: Motion(np.array([[np.nan]]), 30),
        lambda: Embedding("perceptual", np.zeros(3), track=np.zeros((4, 2)), rate_hz=10),
        lambda: Text(b"bytes"),
    ],
)
def test_invalid_media_raise_media_error(make):
    with pytest.raises(MediaError):
        make()


def test_media_are_frozen_and_arrays_read_only():
    a = Audio(np.zeros((4, 2), np.float32), 48000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.sample_rate_hz = 1
    with pytest.raises(ValueError):
        a.samples[0, 0] = 1.0
    b = a.replace(sample_rate_hz=44100)  # cheap copy: shares the buffer
    assert np.shares_memory(a.samples, b.samples) and b.sample_rate_hz == 44100


@given(num=st.integers(1, 240_000), den=st.integers(1001, 1001), n=st.integers(2, 500))
@settings(max_examples=50, deadline=None)
def test_video_time_is_exact_fraction(num, den, n):
    fps = Fraction(30000, den) if num % 2 else Fraction(num % 120 + 1)
    v = Video(frames=np.zeros((1, 2, 2, 3), np.uint8), fps=fps, pts=[0], time_base=1 / fps)
    pts = np.arange(n) * 7
    v = Video(frames=np.zeros((n, 2, 2, 3), np.uint8), fps=fps, pts=pts, time_base=1 / (7 * fps))
    assert v.time_s(n - 1) == Fraction(n - 1) / fps  # no float drift, whatever the length
    assert v.duration_s == Fraction(n) / fps


def test_variable_frame_rate_is_detected():
    frames = np.zeros((5, 2, 2, 3), np.uint8)
    cfr = Video(frames=frames, fps=10)
    vfr = Video(frames=frames, fps=10, pts=[0, 1, 2, 5, 6], time_base=Fraction(1, 10))
    assert not cfr.is_variable_frame_rate and vfr.is_variable_frame_rate
    assert [float(f.time_s) for f in vfr.iter_frames()] == [0.0, 0.1, 0.2, 0.5, 0.6]


def test_audio_resample_keeps_duration_and_pitch():
    sr = 44100
    t = np.arange(sr) / sr
    a = Audio(np.sin(2 * np.pi * 440 * t).astype(np.float32), sr)
    b = a.resample(48000)
    assert b.num_samples == 48000
    spectrum = np.abs(np.fft.rfft(b.mono()))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)


def test_motion_channels_and_times():
    m = Motion(np.arange(20.0).reshape(10, 2), Fraction(50), channels=("x", "y"), units=("m", "m"))
    assert m.duration_s == Fraction(1, 5)
    np.testing.assert_array_equal(m.channel("y"), np.arange(1.0, 20.0, 2))
    with pytest.raises(MediaError, match="no channel 'z'"):
        m.channel("z")


def test_embedding_resample_and_axes():
    track = np.linspace(0, 1, 20)[:, None].repeat(2, axis=1)
    e = Embedding("perceptual", track.mean(0), track=track, rate_hz=10, axes=("a", "b"))
    r = e.resample(20)
    assert r.num_steps == 40 and r.duration_s == e.duration_s
    assert e["a"] == pytest.approx(0.5)
    np.testing.assert_allclose(r.axis("b")[::2], e.axis("b"), atol=0.03)
