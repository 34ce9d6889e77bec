"""Style transfer on video: temporal consistency on real clips, determinism, rotation, VFR, audio kept, and the
soundtrack picking the style."""
from fractions import Fraction

import numpy as np
import pytest

import xmedia
from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Video

torch = pytest.importorskip("torch")

from xmedia.adapters.style.measure import warping_error  # noqa: E402
from xmedia.adapters.style.stylise import load_style  # noqa: E402
from xmedia.adapters.style.video import TemporalStyler, stylise_video  # noqa: E402
from xmedia.bridges.audio_style import style_track  # noqa: E402


@pytest.fixture(scope="module")
def starry():
    try:
        return load_style("starry")
    except Exception as exc:
        pytest.skip(f"shipped styles missing: {exc}")


def frames_of(path, count, max_side=240):
    return [f.rgb.copy() for f in xmedia.load(path).iter_frames(max_side=max_side, stop=count)]


def test_temporal_mode_lowers_the_warping_error_on_a_real_clip(starry, media):
    frames = frames_of(media("video", "pedestrians.avi"), 10, max_side=200)  # held out of training
    per = [TemporalStyler(starry, temporal=False).process(f) for f in frames]
    styler = TemporalStyler(starry, temporal=True)
    temporal = [styler.process(f) for f in frames]
    e_per, e_tmp = warping_error(per, frames), warping_error(temporal, frames)
    assert e_tmp < 0.75 * e_per, (e_tmp, e_per)
    assert np.array_equal(per[0], temporal[0])  # the first frame has no past: the same picture


def test_same_input_same_frames_and_timestamps_kept(starry, media):
    clip = xmedia.load(media("video", "tree.avi"))  # a variable-frame-rate file
    assert clip.is_variable_frame_rate
    a = xmedia.translate(clip, to="video", style="starry", seed=3)
    b = xmedia.translate(clip, to="video", style="starry", seed=3)
    fa = [f.rgb for f in a.iter_frames(stop=6)]
    fb = [f.rgb for f in b.iter_frames(stop=6)]
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
    assert np.array_equal(a.pts, clip.pts) and a.time_base == clip.time_base and a.num_frames == clip.num_frames


def test_rotated_clip_is_styled_upright(starry, media):
    clip = xmedia.load(media("video", "phone_portrait.mp4"))  # rotation metadata: displayed 360x640
    styled = stylise_video(clip, style=starry)
    first = next(iter(styled.iter_frames()))
    assert first.rgb.shape == (640, 360, 3) and styled.rotation_deg == 0
    assert (styled.width, styled.height) == (360, 640)


def test_vfr_clip_written_with_audio_keeps_its_timing(starry, tmp_path):
    rng = np.random.default_rng(0)
    frames = np.repeat(np.repeat(rng.integers(0, 256, (8, 12, 16, 3), dtype=np.uint8), 4, axis=1), 4, axis=2)
    pts = np.array([0, 1, 3, 4, 8, 9, 10, 15])
    sr = 16000
    tone = Audio((0.2 * np.sin(2 * np.pi * 440 * np.arange(sr * 16 // 30) / sr)).astype(np.float32), sr)
    clip = Video(frames=frames, fps=30, pts=pts, time_base=Fraction(1, 30), audio=tone)
    src = tmp_path / "vfr.mp4"
    xmedia.save(clip, src)
    out = tmp_path / "styled.mp4"
    assert main(["translate", str(src), "--to", "video", "--style", "starry", "-o", str(out)]) == 0
    back = xmedia.load(out)
    assert back.audio is not None and back.num_frames == len(pts)
    assert np.allclose(back.times_s(), xmedia.load(src).times_s(), atol=0.02)


def test_cli_video_with_audio_report_and_errors(starry, media, tmp_path, capsys):
    clip = xmedia.load(media("video", "megamind.avi"))
    short = Video(frames=clip.load_frames(max_side=160)[:12], fps=clip.fps,
                  audio=clip.audio.slice_s(0, 12 / float(clip.fps)))
    src = tmp_path / "short.mp4"
    xmedia.save(short, src)
    out, report = tmp_path / "out.mp4", tmp_path / "r.png"
    assert main(["translate", str(src), "--to", "video", "--style", "wave", "--strength", "0.7", "-o", str(out),
                 "--report", str(report)]) == 0
    assert "audio kept" in capsys.readouterr().out
    back = xmedia.load(out)
    assert back.audio is not None and back.num_frames == 12 and report.stat().st_size > 5000
    assert main(["translate", str(src), "--to", "video", "--style", "wave", "-o", str(tmp_path / "x.png")]) == 2
    assert main(["translate", str(src), "--to", "video", "--style-image", str(media("image", "starry_night.jpg")),
                 "-o", str(out)]) == 2
    assert "train a fast model first" in capsys.readouterr().err


def _music(sr=22050):
    """Quiet, dark, smooth sine for 4 s, then loud bright noise bursts for 4 s."""
    t = np.arange(4 * sr) / sr
    calm = 0.03 * np.sin(2 * np.pi * 110 * t)
    rng = np.random.default_rng(0)
    loud = 0.8 * rng.standard_normal(4 * sr) * (np.sin(2 * np.pi * 4 * t) > 0)
    return Audio(np.concatenate([calm, loud]).astype(np.float32), sr)


def test_the_soundtrack_picks_the_style_along_the_music(starry):
    track = style_track(_music(), ("starry", "wave"))
    assert track.weights.shape[1] == 2 and np.allclose(track.weights.sum(1), 1, atol=1e-5)
    calm, loud = track.at(1.5), track.at(6.5)
    assert np.abs(calm - loud).max() > 0.2, (calm, loud)  # the choice follows the music
    assert np.isfinite(track.weights).all()


def test_soundtrack_style_route_on_a_clip_with_its_own_music(starry, tmp_path):
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (6, 48, 64, 3), dtype=np.uint8)
    clip = Video(frames=frames, fps=Fraction(3, 4), audio=_music())  # 6 frames over 8 s
    styled = xmedia.translate(clip, to="video", via="soundtrack-style", styles=("starry", "wave"))
    assert styled.style_track.names == ("starry", "wave")
    got = [f.rgb for f in styled.iter_frames()]
    assert len(got) == 6 and all(g.shape == (48, 64, 3) for g in got)
    with pytest.raises(MediaError, match="no soundtrack"):
        xmedia.translate(clip.with_audio(None), to="video", via="soundtrack-style")
    with pytest.raises(ConfigError):
        xmedia.translate(clip, to="video", via="soundtrack-style", styles=(), temperature=0.1)
