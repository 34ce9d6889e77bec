"""Sound effects from motion (issue 12): the fire's roar follows the flame, crackles land on their events."""
import numpy as np
import pytest
from conftest import media_path
from scipy.signal import butter, sosfilt

import xmedia
from xmedia.adapters.optical_flow import motion_envelope
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.adapters.timbre.sfx import PRESETS, motion_drive, motion_to_sfx
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Motion


def loudness_per_frame(audio, rate_hz: float, frames: int) -> np.ndarray:
    x = audio.mono()
    hop = audio.sample_rate_hz / rate_hz
    return np.array([np.sqrt(np.mean(x[int(i * hop):int((i + 1) * hop)] ** 2) + 1e-12) for i in range(frames)])


@pytest.fixture(scope="module")
def fire():
    clip = xmedia.load(media_path("video", "fire_a.mp4"))
    trace = xmedia.translate(clip, "audio", style="sfx", trace=True, seed=0)
    return clip, trace["motion"], trace.output


def test_fire_roar_follows_the_flames_motion(fire):
    clip, motion, audio = fire
    assert abs(float(audio.duration_s) - float(clip.duration_s)) < 1e-3 and audio.channels == 2
    assert np.isfinite(audio.samples).all() and 0.5 < np.abs(audio.samples).max() <= 1.0
    rate = float(motion.rate_hz)
    loud = loudness_per_frame(audio, rate, motion.num_frames)
    r = np.corrcoef(motion_envelope(motion.channel("energy"), rate), motion_envelope(loud, rate))[0, 1]
    assert r >= 0.7, f"envelope correlation {r:.2f}"


def test_crackles_start_within_a_frame_of_their_events(fire):
    _, motion, audio = fire
    drive = motion_drive(motion)
    assert len(drive.events_s) >= 3
    sos = butter(4, 3000, "highpass", fs=audio.sample_rate_hz, output="sos")  # the crackle band
    onsets = detect_onsets(Audio(sosfilt(sos, audio.samples, axis=0).astype(np.float32), audio.sample_rate_hz))
    frame_s = 1 / float(motion.rate_hz)

    def share(times):
        return np.mean([np.abs(onsets - e).min() <= frame_s for e in times])

    chance = share(np.random.default_rng(0).uniform(0, float(audio.duration_s), 200))
    assert share(drive.events_s) >= 0.8 > 2 * chance, f"events {share(drive.events_s):.2f}, random times {chance:.2f}"


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_follow_a_synthetic_gust(preset):
    rate = 25
    t = np.arange(100) / rate
    energy = np.where((t > 1.5) & (t < 2.5), 1.0, 0.1) + 0.02 * np.sin(2 * np.pi * 5 * t)
    motion = Motion(energy[:, None], rate, channels=("energy",))
    audio = motion_to_sfx(motion, preset=preset, sample_rate_hz=16000)
    loud = loudness_per_frame(audio, rate, len(t))
    assert audio.num_samples == 4 * 16000 and np.isfinite(audio.samples).all()
    assert loud[(t > 1.7) & (t < 2.3)].mean() > 3 * loud[t < 1.2].mean()


def test_bad_sfx_requests():
    motion = Motion(np.ones((10, 1)), 10, channels=("energy",))
    with pytest.raises(ConfigError, match="preset"):
        motion_to_sfx(motion, preset="lava")
    with pytest.raises(MediaError):
        motion_to_sfx(Motion(np.ones((1, 1)), 10), preset="fire")
    still = motion_to_sfx(Motion(np.zeros((20, 1)), 10, channels=("energy",)))
    assert np.isfinite(still.samples).all() and np.abs(still.samples).max() == 0.0


def test_motion_plays_a_trained_timbre():
    """A timbre "played" by motion: loudness follows the motion energy, pitch the rising channel, on a scale."""
    rate = 25
    t = np.arange(150) / rate
    energy = 0.5 + 0.5 * np.sin(2 * np.pi * t / 3.0)
    rising = np.clip(np.sin(2 * np.pi * t / 2.0), 0, None)
    motion = Motion(np.stack([energy, rising], 1), rate, channels=("energy", "rising"))
    route = xmedia.plan(motion, "audio", options={"timbre": "flute"})
    assert route.nodes == ["motion", "controls:timbre", "audio"]
    audio = route.run(motion, timbre="flute")
    assert abs(float(audio.duration_s) - 6.0) < 0.01 and np.isfinite(audio.samples).all()
    loud = loudness_per_frame(audio, rate, len(t))
    r = np.corrcoef(motion_envelope(energy, rate, 0.5), motion_envelope(loud, rate, 0.5))[0, 1]
    assert r > 0.7, f"loudness vs motion energy r = {r:.2f}"
