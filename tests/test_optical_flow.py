"""Optical flow -> Motion: real flames, and synthetic motions whose answer is known by construction."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.adapters.optical_flow import FlowMotion, channel_names, video_to_motion
from xmedia.errors import MediaError


def _texture(h=96, w=96, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (h // 4, w // 4), dtype=np.uint8)
    img = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.repeat(img[:, :, None], 3, axis=2)


def _shifted(shifts_px, axis=1, seed=0):
    base = _texture(seed=seed)
    pos = np.cumsum([0] + list(shifts_px))
    return np.stack([np.roll(base, int(p), axis=axis) for p in pos])


@pytest.mark.parametrize("name", ["fire_a.mp4", "fire_b.mp4"])
def test_real_flames_rise_and_flicker(media, name):
    m = video_to_motion(xmedia.load(media("video", name)))
    names, units = channel_names()
    assert m.channels == names and m.units == units and m.num_frames > 200
    assert float(m.rate_hz) in (10, 24)
    energy = m.channel("energy")
    assert np.all(energy >= 0) and energy.mean() > 1e-3
    # flames go up: more upward than downward flow, on average
    assert m.channel("rising").mean() > 1.3 * m.channel("falling").mean()
    assert m.channel("flicker").mean() > 0
    assert np.all(np.abs(m.channel("direction")) <= math.pi + 1e-9)


def test_rightward_shift_gives_rightward_flow_of_the_right_size():
    frames = _shifted([2] * 12)  # 2 px per frame to the right, 96x96 frames at 30 fps
    m = video_to_motion(xmedia.Video.from_frames(frames, fps=30))
    mid = slice(2, None)
    expected = 2 * 30 / math.hypot(96, 96)  # diagonals per second
    assert np.median(m.channel("flow_x")[mid]) == pytest.approx(expected, rel=0.3)
    assert abs(np.median(m.channel("flow_y")[mid])) < 0.2 * expected
    assert abs(np.median(m.channel("direction")[mid])) < 0.3
    up = video_to_motion(xmedia.Video.from_frames(_shifted([-2] * 12, axis=0), fps=30))  # rows up = image up
    assert np.median(up.channel("flow_y")[mid]) > 0.5 * expected
    assert np.median(up.channel("rising")[mid]) > 5 * np.median(up.channel("falling")[mid]) + 1e-9


def test_zoom_diverges_and_rotation_curls():
    import cv2

    base = _texture(128, 128, seed=3)
    zoom = [cv2.warpAffine(base, cv2.getRotationMatrix2D((64, 64), 0, 1 + 0.03 * k), (128, 128)) for k in range(8)]
    turn = [cv2.warpAffine(base, cv2.getRotationMatrix2D((64, 64), 2 * k, 1.0), (128, 128)) for k in range(8)]
    mz = video_to_motion(xmedia.Video.from_frames(np.stack(zoom), fps=25))
    mt = video_to_motion(xmedia.Video.from_frames(np.stack(turn), fps=25))
    assert np.median(mz.channel("divergence")[1:]) > 3 * abs(np.median(mz.channel("curl")[1:]))
    # OpenCV's positive angle turns the image counter-clockwise as seen: positive curl with y up
    assert np.median(mt.channel("curl")[1:]) > 3 * abs(np.median(mt.channel("divergence")[1:]))


def test_flicker_band_prefers_fast_puffing_over_slow_drift():
    fast = [3 if (k // 3) % 2 else 0 for k in range(90)]  # on/off every 3 frames at 30 fps: 5 Hz
    slow = [3 if (k // 30) % 2 else 0 for k in range(90)]  # 0.5 Hz
    f_fast = FlowMotion(rate_hz=30, max_side=64)
    f_slow = FlowMotion(rate_hz=30, max_side=64)
    rf = [f_fast.process(fr) for fr in _shifted(fast)]
    rs = [f_slow.process(fr) for fr in _shifted(slow)]
    i = f_fast.channels.index("flicker")
    assert np.mean([r[i] for r in rf[30:]]) > 2 * np.mean([r[i] for r in rs[30:]])


def test_streaming_matches_offline_and_reset_forgets():
    frames = _shifted([1, 2, 3, 2, 1, 0, 1, 2])
    offline = video_to_motion(xmedia.Video.from_frames(frames, fps=20))
    flow = FlowMotion(rate_hz=20)
    rows = [flow.process(f, time_s=k / 20) for k, f in enumerate(frames)]
    np.testing.assert_allclose(np.array(rows)[1:], offline.values[1:], rtol=1e-5, atol=1e-9)
    assert not np.any(flow.process(frames[0], reset=True))  # first frame after reset: no flow yet


def test_static_or_single_frame_video_is_a_clear_error():
    still = np.repeat(_texture()[None], 6, axis=0)
    with pytest.raises(MediaError, match="no motion"):
        video_to_motion(xmedia.Video.from_frames(still, fps=10))
    assert video_to_motion(xmedia.Video.from_frames(still, fps=10), allow_static=True).channel("energy").max() < 1e-3
    with pytest.raises(MediaError, match="at least 2"):
        video_to_motion(xmedia.Video.from_frames(still[:1], fps=10))


def test_route_video_to_motion_uses_flow():
    video = xmedia.Video.from_frames(_shifted([2] * 5), fps=30)
    route = xmedia.plan(video, "motion")
    assert "flow-motion" in [s.name for s in route.steps]


@settings(max_examples=25, deadline=None)
@given(h=st.integers(2, 300), w=st.integers(2, 300), gray=st.booleans(), as_float=st.booleans(),
       seed=st.integers(0, 2**16))
def test_any_frame_shape_gives_finite_features(h, w, gray, as_float, seed):
    rng = np.random.default_rng(seed)
    flow = FlowMotion(rate_hz=25, max_side=64)
    for _ in range(3):
        frame = rng.integers(0, 256, (h, w) if gray else (h, w, 3)).astype(np.uint8)
        out = flow.process(frame.astype(np.float32) / 255 if as_float else frame)
        assert out.shape == (len(flow.channels),) and np.all(np.isfinite(out))
