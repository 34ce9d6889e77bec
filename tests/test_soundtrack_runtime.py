"""The soundtrack's runtime: the bridge runs in numpy (no torch on the default path), and video output keeps or
re-encodes the picture as documented."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.bridges.controls_map import ControlsMap, apply, initial_parameters
from xmedia.bridges.soundtrack import PerceptualToComposer
from xmedia.embedding import Embedding
from xmedia.errors import WeightsError
from xmedia.io import write_video_with_audio


@settings(max_examples=25, deadline=None)
@given(steps=st.integers(2, 60), smooth=st.integers(1, 15), gain=st.floats(0.5, 10), seed=st.integers(0, 2**16))
def test_numpy_map_equals_the_torch_module(steps, smooth, gain, seed):
    x = np.random.default_rng(seed).random((steps, 8)).astype(np.float32)
    module = PerceptualToComposer(smooth_steps=smooth, gain=gain)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(apply(initial_parameters(smooth, gain), x), expected, atol=1e-5)


def test_trained_weights_run_in_numpy(tmp_path):
    module = PerceptualToComposer()
    opt = torch.optim.SGD(module.parameters(), lr=0.5)
    x = torch.rand(40, 8)
    for _ in range(5):  # move the weights away from their initial values
        opt.zero_grad()
        (module(x) - 0.9).pow(2).mean().backward()
        opt.step()
    module.save_pretrained(tmp_path / "trained")
    emb = Embedding("perceptual", x.mean(0).numpy(), track=x.numpy(), rate_hz=10, duration_s=4,
                    axes=xmedia.adapters.perceptual.AXES)
    loaded = ControlsMap.from_pretrained(tmp_path / "trained")
    np.testing.assert_allclose(loaded.controls(emb).track, module.controls(emb).track, atol=1e-6)
    assert not np.allclose(loaded.controls(emb).track, ControlsMap().controls(emb).track, atol=1e-3)
    try:
        ControlsMap.from_pretrained("text-perceptual")
    except WeightsError as exc:
        assert "not a PerceptualToComposer" in str(exc)
    else:
        raise AssertionError("a bridge of another class must be refused")


def test_the_default_route_does_not_import_torch(media):
    clip = media("video", "megamind.avi")
    code = ("import sys, xmedia; a = xmedia.translate(xmedia.load(sys.argv[1]), to='audio', seed=0); "
            "print(a.num_samples, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(clip)], capture_output=True, text=True, check=True)
    samples, torch_loaded = out.stdout.split()
    assert int(samples) > 0 and torch_loaded == "False"


def test_mp4_reencodes_what_it_cannot_copy_and_mkv_keeps_it(tmp_path, media):
    src = media("video", "tree.avi")  # Cinepak: neither MP4 nor Matroska can hold it
    video = xmedia.load(src)
    audio = xmedia.translate(video, to="audio", seed=0)
    assert write_video_with_audio(video, audio, tmp_path / "out.mp4") == "re-encoded"
    orig, mp4 = xmedia.info(src), xmedia.info(tmp_path / "out.mp4")
    assert [s["codec"] for s in mp4["streams"]] == ["h264", "aac"]
    assert mp4["frames"] == orig["frames"] and (mp4["width"], mp4["height"]) == (orig["width"], orig["height"])
    assert abs(mp4["audio"]["duration_s"] - orig["duration_s"]) < 0.05
    again = xmedia.load(tmp_path / "out.mp4")
    np.testing.assert_allclose(again.times_s(), video.times_s(), atol=1e-3)
    assert np.abs(again.frame(10).pixels.astype(float) - video.frame(10).pixels.astype(float)).mean() < 4  # CRF 20

    src = media("video", "megamind.avi")  # MPEG-4 part 2 + AC-3: Matroska takes the video stream as it is
    video = xmedia.load(src)
    short = xmedia.Audio(np.zeros((int(video.duration_s * 8000), 1), np.float32), sample_rate_hz=8000)
    assert write_video_with_audio(video, short, tmp_path / "out.mkv") == "copied"
    mkv = xmedia.info(tmp_path / "out.mkv")
    assert [s["codec"] for s in mkv["streams"]] == [xmedia.info(src)["streams"][0]["codec"], "aac"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mkv", "out.mp4"]
