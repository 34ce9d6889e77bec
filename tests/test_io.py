import os
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import MEDIA
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xmedia
from xmedia import Audio, Image, MediaError, Motion, Video
from xmedia.io import DecodeWarning


def all_media():
    if not MEDIA.exists():
        return []
    return sorted(p for p in MEDIA.rglob("*") if p.is_file() and p.suffix.lower() != ".md")


@pytest.mark.parametrize("path", all_media(), ids=lambda p: p.name)
def test_every_shared_file_loads(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        m = xmedia.load(path)
    assert m.KIND == {"video": "video", "audio": "audio", "image": "image"}[path.parent.name]
    if isinstance(m, Video):
        first = next(m.iter_frames(max_side=64))
        assert first.rgb.dtype == np.uint8 and max(first.rgb.shape[:2]) <= 64
        assert m.duration_s > 0 and m.num_frames > 1
    elif isinstance(m, Audio):
        assert m.num_samples > 0 and np.abs(m.samples).max() > 0.01
    else:
        assert m.width > 0 and m.height > 0


def test_phone_clip_is_portrait_as_displayed(media):
    v = xmedia.load(media("video", "phone_portrait.mp4"))
    assert (v.width, v.height) == (360, 640) and v.rotation_deg == 90
    frame = next(v.iter_frames())
    assert frame.rgb.shape == (640, 360, 3)
    assert v.audio is not None and v.audio.sample_rate_hz == 44100
    assert abs(float(v.audio.duration_s - v.duration_s)) < 0.1
    info = xmedia.info(media("video", "phone_portrait.mp4"))
    assert (info["width"], info["height"]) == (360, 640)
    assert info["streams"][0]["stored_width"] == 640


def test_variable_frame_rate_survives_roundtrip(media, tmp_path):
    v = xmedia.load(media("video", "tree.avi"))
    assert v.is_variable_frame_rate  # 68 frames with gaps over ~30 s
    out = xmedia.save(v, tmp_path / "tree.mp4")
    w = xmedia.load(out)
    assert w.num_frames == v.num_frames
    np.testing.assert_allclose(w.times_s(), v.times_s(), atol=2e-3)


def test_video_with_audio_roundtrip_h264_aac(media, tmp_path):
    v = xmedia.load(media("video", "phone_portrait.mp4"))
    out = xmedia.save(v, tmp_path / "clip.mp4")
    w = xmedia.load(out)
    assert (w.width, w.height, w.num_frames) == (360, 640, 270)
    assert w.audio is not None and abs(float(w.audio.duration_s - v.audio.duration_s)) < 0.05
    info = xmedia.info(out)
    assert [s["codec"] for s in info["streams"]] == ["h264", "aac"]
    a, b = v.frame(100).pixels.astype(int), w.frame(100).pixels.astype(int)
    assert np.abs(a - b).mean() < 6  # same picture, lossy codec


@pytest.mark.parametrize("ext", [".mov", ".mkv", ".webm", ".avi"])
def test_video_containers_roundtrip(media, tmp_path, ext):
    v = xmedia.load(media("video", "fire_b.mp4"))
    w = xmedia.load(xmedia.save(v, tmp_path / f"x{ext}"))
    assert (w.width, w.height, w.num_frames) == (v.width, v.height, v.num_frames)
    assert w.fps == v.fps and abs(float(w.duration_s - v.duration_s)) < 1e-3


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3", ".m4a"])
def test_audio_formats_roundtrip(media, tmp_path, ext):
    a = xmedia.load(media("audio", "loop_amen.flac"))
    b = xmedia.load(xmedia.save(a, tmp_path / f"x{ext}"))
    assert b.sample_rate_hz == a.sample_rate_hz and b.channels == a.channels
    assert abs(b.num_samples - a.num_samples) <= 2048  # lossy codecs may pad a frame
    n = min(a.num_samples, b.num_samples)
    if ext in (".wav", ".flac"):
        assert np.abs(a.samples[:n] - b.samples[:n]).max() < 1e-3
    else:
        rms = lambda x: float(np.sqrt((x**2).mean()))
        assert rms(b.samples[:n]) == pytest.approx(rms(a.samples[:n]), rel=0.15)


def test_image_16bit_and_alpha_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    px = rng.integers(0, 65535, (20, 30, 4), dtype=np.uint16)
    img = xmedia.load(xmedia.save(Image(px), tmp_path / "x.png"))
    assert img.pixels.dtype == np.uint16 and img.has_alpha
    np.testing.assert_array_equal(img.pixels, px)


def test_load_from_bytes_and_array(media):
    data = media("image", "fruits.jpg").read_bytes()
    assert isinstance(xmedia.load(data), Image)
    assert isinstance(xmedia.load(media("audio", "noise.wav").read_bytes()), Audio)
    v = xmedia.load(media("video", "fire_b.mp4").read_bytes())
    assert isinstance(v, Video) and v.num_frames == 530
    assert isinstance(xmedia.load(np.zeros((100, 2)), sample_rate_hz=8000), Audio)
    with pytest.raises(MediaError, match="cannot tell"):
        xmedia.load(np.zeros((100, 2)))


motion_values = arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 5)),
                       elements=st.floats(-1e6, 1e6, allow_nan=False, width=64))


@given(values=motion_values, rate=st.fractions(Fraction(1, 10), Fraction(2000)).filter(lambda r: r > 0),
       ext=st.sampled_from([".csv", ".npz", ".json"]))
@settings(max_examples=30, deadline=None)
def test_motion_roundtrip(tmp_path_factory, values, rate, ext):
    rate = Fraction(rate).limit_denominator(1000)
    channels = tuple(f"joint{i}" for i in range(values.shape[1]))
    m = Motion(values, rate, channels=channels, units=("rad",) * values.shape[1])
    path = tmp_path_factory.mktemp("m") / f"m{ext}"
    back = xmedia.load(xmedia.save(m, path))
    np.testing.assert_array_equal(back.values, m.values)
    assert back.channels == channels and back.units == m.units and back.rate_hz == rate


# ---------------------------------------------------------------------------------------------- bad input
def test_random_bytes_named_mp4(tmp_path):
    p = tmp_path / "noise.mp4"
    p.write_bytes(np.random.default_rng(1).bytes(50_000))
    with pytest.raises(MediaError, match="noise.mp4"):
        xmedia.load(p)


def test_truncated_video(media, tmp_path):
    data = media("video", "pedestrians.avi").read_bytes()
    p = tmp_path / "cut.avi"
    p.write_bytes(data[: len(data) // 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        v = xmedia.load(p)
        n = sum(1 for _ in v.iter_frames(max_side=64))
    assert 0 < n < 795  # what could be decoded, no crash


def test_truncated_mp4_without_index(media, tmp_path):
    data = media("video", "phone_portrait.mp4").read_bytes()
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[:5000])
    with pytest.raises(MediaError, match="cut.mp4"):
        v = xmedia.load(p)
        list(v.iter_frames())


@pytest.mark.parametrize("name,content,match", [
    ("empty.wav", b"", "empty"),
    ("x.unknown", b"abc", "unknown extension"),
    ("bad.png", b"not an image at all", "not a readable image"),
    ("bad.flac", b"fLaC" + bytes(100), "cannot be opened"),
])
def test_bad_files_give_clear_errors(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(MediaError, match=match):
        xmedia.load(p)


def test_zero_length_audio(tmp_path):
    import soundfile as sf

    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros((0, 2), np.float32), 44100)
    with pytest.raises(MediaError, match="zero length"):
        xmedia.load(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        xmedia.load(tmp_path / "nope.mp4")
    with pytest.raises(MediaError, match="directory"):
        xmedia.load(tmp_path)


def test_failed_write_leaves_nothing_behind(media, tmp_path):
    v = xmedia.load(media("video", "fire_b.mp4"))

    def broken_reader(max_side=None, start=0, stop=None):
        for i, f in enumerate(v.iter_frames(start=start, stop=stop)):
            if i == 20:
                raise RuntimeError("disk on fire")
            yield f

    bad = v.replace(reader=broken_reader)
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        xmedia.save(bad, out)
    assert os.listdir(tmp_path) == []  # neither the output nor a temp file


def test_save_rejects_wrong_extension(tmp_path):
    with pytest.raises(MediaError, match="cannot write a Audio"):
        xmedia.save(Audio(np.zeros((10, 1)), 8000), tmp_path / "x.png")
    assert not any(Path(tmp_path).iterdir())
