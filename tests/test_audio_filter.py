"""Audio -> colour look: the research directions on real recordings, silence, bad input, the time-varying look."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia import Audio, Embedding, Image, MediaError
from xmedia.adapters.look import (
    LOOK_PARAMS,
    Filter,
    FilterTrack,
    identity_table,
    srgb_to_lab,
)
from xmedia.adapters.perceptual import AXES
from xmedia.bridges.audio_filter import PerceptualToFilter, look_track
from xmedia.bridges.look_map import LookMap
from xmedia.io import load


def look_of(media, name) -> Filter:
    return xmedia.translate(load(media("audio", f"{name}.flac")), to="filter")


def grey_ramp() -> Image:
    return Image(np.repeat(np.linspace(0.08, 0.92, 24, dtype=np.float32)[None, :, None], 3, axis=2))


def measured(f: Filter, photo: Image) -> dict:
    """What the look's colour part does, measured in CIELAB: lightness and b*/a* on greys, chroma on a photo."""
    colour = Filter(f.table)
    ramp = grey_ramp()
    before, after = srgb_to_lab(ramp.pixels), srgb_to_lab(colour(ramp).pixels)
    p0, p1 = srgb_to_lab(photo.to_float()), srgb_to_lab(colour(photo).to_float())
    return {"lightness": float((after[..., 0] - before[..., 0]).mean()),
            "yellow": float((after[..., 2] - before[..., 2]).mean()),
            "red": float((after[..., 1] - before[..., 1]).mean()),
            "chroma": float((np.hypot(p1[..., 1], p1[..., 2]) - np.hypot(p0[..., 1], p0[..., 2])).mean())}


@pytest.fixture(scope="module")
def photo():
    import cv2

    from tests.conftest import media_path

    img = load(media_path("image", "fruits.jpg"))
    return Image(cv2.resize(img.pixels, (128, 120), interpolation=cv2.INTER_AREA))


# Palmer et al. 2013: faster (and more major) music -> lighter, more saturated, yellower; slower and minor ->
# darker, desaturated, bluer. The loops have many onsets per second (pace 0.88-0.92) and the encoder scores
# them major-leaning (valence 0.52-0.74); the pads have pace 0-0.55 (the choir's swells count as slow onsets)
# and valence 0.31-0.39. Loudness differs far less (energy 0.51-0.84 vs 0.48-0.63), so Whiteford's
# "louder -> darker" does not outweigh tempo and mode here. The still pads (pace ~0) are bluer than neutral.
@pytest.mark.parametrize("fast, slow", [("loop_amen", "ambi_drone"), ("loop_safari", "ambi_glass_hum"),
                                        ("loop_breakbeat", "ambi_choir")])
def test_fast_loops_are_lighter_more_saturated_yellower_than_slow_pads(media, photo, fast, slow):
    a, b = look_of(media, fast), look_of(media, slow)
    fa, fb = a.look["features"], b.look["features"]
    assert fa["pace"] > fb["pace"] + 0.3 and fa["valence"] > fb["valence"] + 0.1  # what the comparison rests on
    ma, mb = measured(a, photo), measured(b, photo)
    assert ma["chroma"] > mb["chroma"] + 5
    assert ma["yellow"] > mb["yellow"] + 2
    if fb["pace"] < 0.1:
        assert mb["yellow"] < -1 and mb["chroma"] < 0 and mb["lightness"] < 0  # darker, greyer, bluer than neutral
    assert ma["lightness"] > mb["lightness"]
    assert a.look["params"]["exposure_stops"] > b.look["params"]["exposure_stops"]


@pytest.mark.parametrize("name", ["loop_amen", "bass_voxy_c"])
def test_louder_is_more_saturated_redder_and_darker(media, photo, name):
    # Whiteford et al. 2018, on the same recording at two levels (-12 dB): only loudness changes much.
    loud = load(media("audio", f"{name}.flac"))
    quiet = Audio(loud.samples * 0.25, loud.sample_rate_hz)
    a, b = xmedia.translate(loud, to="filter"), xmedia.translate(quiet, to="filter")
    assert a.look["features"]["energy"] > b.look["features"]["energy"] + 0.1
    assert abs(a.look["features"]["pace"] - b.look["features"]["pace"]) < 0.05  # tempo detection unchanged
    ma, mb = measured(a, photo), measured(b, photo)
    assert ma["chroma"] > mb["chroma"] and ma["red"] > mb["red"] and ma["lightness"] < mb["lightness"]


def test_silence_gives_the_neutral_look():
    for samples in (np.zeros((44100, 2), np.float32), np.full((22050, 1), 1e-5, np.float32)):
        f = xmedia.translate(Audio(samples, 44100), to="filter")
        assert np.isfinite(f.table).all()
        assert np.abs(f.table - identity_table(f.size)).max() < 2e-3
        assert f.spatial() == {}
        assert all(v == pytest.approx(LOOK_PARAMS[k][2], abs=1e-6) for k, v in f.look["params"].items())


def test_nan_or_inf_audio_is_a_clear_error():
    bad = np.zeros((1000, 1), np.float32)
    bad[10] = np.nan
    with pytest.raises(MediaError, match="NaN"):
        Audio(bad, 44100)
    with pytest.raises(MediaError, match="NaN"):
        PerceptualToFilter()(torch.tensor([[0.5] * 7 + [float("inf")]]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=8, max_size=8))
def test_bridge_outputs_stay_in_range(axes):
    out = PerceptualToFilter().params(np.array(axes))
    lo = np.array([v[0] for v in LOOK_PARAMS.values()])
    hi = np.array([v[1] for v in LOOK_PARAMS.values()])
    assert np.isfinite(out).all() and (out >= lo - 1e-5).all() and (out <= hi + 1e-5).all()


def test_bridge_saves_loads_and_trains(tmp_path):
    bridge = PerceptualToFilter(amount=1.2)
    x = torch.rand(16, 8)
    bridge.save_pretrained(tmp_path / "b")
    again = PerceptualToFilter.from_pretrained(tmp_path / "b")
    assert torch.allclose(bridge(x), again(x)) and again.config["amount"] == 1.2
    target = bridge(x).detach() + 1.0
    opt = torch.optim.Adam(bridge.parameters(), lr=0.05)
    first = None
    for _ in range(20):
        loss = ((bridge(x) - target) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.floats(0.3, 2.0), st.integers(0, 2**16))
def test_numpy_map_equals_the_trained_torch_module(rows, amount, seed):
    x = torch.from_numpy(np.random.default_rng(seed).random((rows, 8)).astype(np.float32))
    bridge = PerceptualToFilter(amount=amount)
    with torch.no_grad():
        bridge.linear.weight.add_(0.3 * torch.randn_like(bridge.linear.weight))  # a trained module
        expected = bridge(x).numpy()
    np.testing.assert_allclose(bridge.numpy_map().params(x.numpy()), expected, rtol=1e-5, atol=1e-4)
    if amount == 1.0:
        np.testing.assert_allclose(LookMap().params(x.numpy()), PerceptualToFilter()(x).detach().numpy(), atol=1e-4)


def test_saved_bridge_runs_in_numpy_and_the_route_needs_no_torch(tmp_path, media):
    import subprocess
    import sys

    bridge = PerceptualToFilter(amount=1.3)
    with torch.no_grad():
        bridge.linear.bias.add_(0.2)
    bridge.save_pretrained(tmp_path / "b")
    axes = np.random.default_rng(0).random((5, 8)).astype(np.float32)
    np.testing.assert_allclose(LookMap.from_pretrained(tmp_path / "b").params(axes),
                               bridge(torch.from_numpy(axes)).detach().numpy(), atol=1e-4)
    code = ("import sys, xmedia; f = xmedia.translate(xmedia.load(sys.argv[1]), to='filter'); "
            "print(type(f).__name__, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(media("audio", "loop_amen.flac"))],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["Filter", "False"]


def test_bridge_refuses_other_spaces():
    emb = Embedding("clip", np.zeros(8), axes=AXES)
    with pytest.raises(MediaError, match="perceptual"):
        PerceptualToFilter()(emb)


def test_look_follows_the_music_without_flicker(media):
    # A real slow pad followed by a real fast loop: the look moves from dark/blue/desaturated to
    # light/yellow/saturated, and changes smoothly from frame to frame (30 fps) while doing so.
    pad, loop = load(media("audio", "ambi_drone.flac")), load(media("audio", "loop_amen.flac"))
    loop = loop.resample(pad.sample_rate_hz).with_channels(pad.channels)
    song = Audio(np.concatenate([pad.samples[: pad.sample_rate_hz * 3], loop.samples, loop.samples]), pad.sample_rate_hz)
    track = look_track(song)
    names = track.look.param_names
    frames_t = np.arange(0, float(song.duration_s), 1 / 30)
    rows = np.array([[track.look.params_at(t)[n] for n in names] for t in frames_t])
    span = np.array([LOOK_PARAMS[n][1] - LOOK_PARAMS[n][0] for n in names])
    steps = np.abs(np.diff(rows, axis=0)) / span
    assert steps.max() < 0.04  # under 4% of a parameter's range per frame
    early, late = rows[frames_t < 2.5], rows[frames_t > 4.0]
    for name, sign in (("saturation_percent", 1), ("yellow_blue_lab", 1), ("exposure_stops", 1)):
        j = names.index(name)
        assert sign * (late[:, j].mean() - early[:, j].mean()) > 0.2 * span[j]


def test_video_with_soundtrack_gets_a_time_varying_look(media, tmp_path):
    video = load(media("video", "phone_portrait.mp4"))
    route = xmedia.plan(video, to="filter")
    assert route.steps[0].name == "lut-soundtrack"
    track = xmedia.translate(video, to="filter")
    assert isinstance(track, FilterTrack)
    graded = track(video)
    assert graded.audio is video.audio
    got = [f for f in graded.iter_frames(max_side=96, start=60, stop=63)]
    src = [f for f in video.iter_frames(max_side=96, start=60, stop=63)]
    for g, s in zip(got, src):
        expected = track.filter_at(float(s.time_s)).apply_rgb(s.rgb, seed=s.index)
        assert np.array_equal(g.rgb, expected) and not np.array_equal(g.rgb, s.rgb)
    # A static look is still available on request.
    assert isinstance(xmedia.translate(video, to="filter", time_varying=False), Filter)
    track.save(tmp_path / "look.json")
    again = xmedia.load(tmp_path / "look.json")  # the track is stored to 5 decimals
    assert isinstance(again, FilterTrack) and np.abs(again.filter_at(2.0).table - track.filter_at(2.0).table).max() < 1e-4
    track.save(tmp_path / "look.cube")
    assert Filter.load(tmp_path / "look.cube").size == 33


def test_video_plus_separate_audio(media):
    video = load(media("video", "fire_a.mp4"))
    assert video.audio is None
    track = look_track(load(media("audio", "loop_safari.flac")))
    out = track(video)
    first = next(iter(out.iter_frames(max_side=80, stop=1)))
    src = next(iter(video.iter_frames(max_side=80, stop=1)))
    assert first.rgb.shape == src.rgb.shape and not np.array_equal(first.rgb, src.rgb)


def test_cli_translate_and_apply(media, tmp_path):
    from xmedia.cli import main

    song, pic = media("audio", "loop_amen.flac"), media("image", "fruits.jpg")
    cube, report = tmp_path / "look.cube", tmp_path / "look.png"
    assert main(["translate", str(song), "--to", "filter", "-o", str(cube), "--preview", str(pic),
                 "--report", str(report), "--lut-size", "17"]) == 0
    assert Filter.load(cube).size == 17 and report.stat().st_size > 10_000
    assert (tmp_path / "look_preview.jpg").exists()
    out = tmp_path / "out.jpg"
    assert main(["apply", str(cube), str(pic), "-o", str(out), "--strength", "0.8",
                 "--interpolation", "trilinear"]) == 0
    a, b = load(pic).pixels.astype(int), load(out).pixels.astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() > 5
    assert main(["apply", str(tmp_path / "missing.cube"), str(pic), "-o", str(out)]) == 2


def test_cli_apply_video_keeps_audio(media, tmp_path):
    from xmedia.cli import main
    from xmedia.media import Video

    clip = load(media("video", "phone_portrait.mp4"))
    short = Video.from_frames(clip.load_frames(max_side=128)[:20], fps=clip.fps,
                              audio=clip.audio.slice_s(0, 20 / clip.fps))
    src = tmp_path / "short.mp4"
    short.save(src)
    cube = tmp_path / "look.cube"
    Filter.from_look({"saturation_percent": -50, "yellow_blue_lab": -8}, 17).save(cube)
    assert main(["apply", str(cube), str(src), "-o", str(tmp_path / "out.mp4")]) == 0
    out = load(tmp_path / "out.mp4")
    assert out.audio is not None and out.num_frames == 20
    assert abs(float(out.audio.duration_s) - float(short.audio.duration_s)) < 0.1
