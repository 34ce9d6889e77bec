"""Training: real learning on data with a known correspondence, the real-clip audio-visual pipeline, the CLI."""
import json
import warnings

import numpy as np
import pytest
import torch

from xmedia.bridges import AudioVisualBridge, MLPBridge, Pairs, av_segments, evaluate, from_manifest, train
from xmedia.errors import ConfigError, MediaError


def latent_pairs(n=240, seed=0):
    """Two views that share a 6-dim latent through different random linear maps plus view-specific noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 6))
    a = np.c_[z, rng.normal(size=(n, 4))] @ rng.normal(size=(10, 20))
    b = np.c_[z, rng.normal(size=(n, 3))] @ rng.normal(size=(9, 12))
    return a.astype(np.float32), b.astype(np.float32)


def test_contrastive_training_learns_the_shared_latent(tmp_path):
    a, b = latent_pairs()
    result = train(AudioVisualBridge(20, 12, embed_dim=16), (a, b), epochs=80, seed=0, report=tmp_path / "loss.png",
                   progress=False)
    m = result.metrics
    assert m["recall@1"] > 10 * m["chance@1"] and m["recall@5"] > 0.9
    assert result.val_losses[result.best_epoch - 1] == result.best_val_loss < result.val_losses[0]
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Shuffling the partners destroys what it learnt: the score comes from the pairing, not the data.
    shuffled = evaluate(result.bridge, (a, np.random.default_rng(1).permutation(b)), split="all")
    assert shuffled["recall@1"] < 3 * shuffled["chance@1"]


def test_regression_beats_predicting_the_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    y = 1 / (1 + np.exp(-(x @ rng.normal(size=(5, 3))))).astype(np.float32)
    result = train(MLPBridge(5, 3, hidden=[32], output="sigmoid"), (x, y), "regression", epochs=150, progress=False)
    assert result.metrics["r2"] > 0.8 and result.metrics["mse"] < 0.2 * result.metrics["baseline_mse"]


def test_same_seed_same_weights_and_early_stopping():
    a, b = latent_pairs(120)
    runs = []
    for _ in range(2):
        torch.manual_seed(3)  # the initial weights come from the global generator when the bridge is built
        runs.append(train(AudioVisualBridge(20, 12), (a, b), epochs=300, patience=3, seed=7, progress=False))
    r1, r2 = runs
    assert r1.stopped_early and len(r1.history) < 300
    assert len(r1.history) == r1.best_epoch + 3
    for (k, v), (_, w) in zip(r1.bridge.state_dict().items(), r2.bridge.state_dict().items()):
        assert torch.equal(v, w), k


def test_bad_inputs_raise_config_errors():
    a, b = latent_pairs(40)
    with pytest.raises(ConfigError, match="takes 21 input features"):
        train(AudioVisualBridge(21, 12), (a, b), progress=False)
    with pytest.raises(ConfigError, match="objective"):
        train(MLPBridge(20, 12), (a, b), objective="triplet", progress=False)
    with pytest.raises(ConfigError, match="NaN"):
        Pairs(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ConfigError, match="matches no parameter"):
        train(MLPBridge(20, 12), (a, b), "regression", freeze=["tower."], progress=False)


@pytest.fixture(scope="module")
def clip_segments(tmp_path_factory):
    from conftest import media_path

    cache = tmp_path_factory.mktemp("cache")
    path = media_path("video", "megamind.avi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return av_segments(path, segment_s=1.0, hop_s=0.5, block_s=2.0, cache_dir=cache, val_fraction=0.3), cache, path


def test_av_segments_pairs_each_segment_with_its_own_sound(clip_segments):
    data, cache, path = clip_segments
    assert data.a.shape == data.b.shape and data.a.shape[1] == 8 * 7 + 2 + 4
    assert np.isfinite(data.a).all() and np.isfinite(data.b).all()
    val, starts = data.val, data.starts_s
    assert 0 < val.sum() < len(data)
    # Held-out segments never overlap a training segment nor each other.
    for s in starts[val]:
        assert np.all(np.abs(starts[~val] - s) >= 1.0)
        assert np.sum(np.abs(starts[val] - s) < 1.0) == 1
    # The audio side is the clip's own sound: its loudness follows the decoded audio's RMS per segment.
    import xmedia

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audio = xmedia.load(path).audio
    rms = [np.sqrt(np.mean(audio.slice_s(s, s + 1).samples ** 2)) for s in starts]
    assert np.corrcoef(np.log(rms), data.b[:, 0])[0, 1] > 0.8
    # Cached: a second call reads the npz and returns the same features.
    again = av_segments(path, segment_s=1.0, hop_s=0.5, block_s=2.0, cache_dir=cache, val_fraction=0.3)
    assert np.array_equal(again.a, data.a) and len(list(cache.glob("*.npz"))) == 1


def test_video_without_sound_is_refused(media, tmp_path):
    with pytest.raises(MediaError, match="no audio track"):
        av_segments(media("video", "fire_a.mp4"), cache_dir=tmp_path)


def test_manifest_regression_targets(media, tmp_path):
    names = ["loop_amen.flac", "ambi_drone.flac", "bass_hard_c.flac", "perc_bell.flac", "loop_tabla.flac"]
    rows = ["a,loudness"]
    for n in names:
        rows.append(f"{media('audio', n)},{len(n) / 20}")
    (tmp_path / "m.csv").write_text("\n".join(rows))
    data = from_manifest(tmp_path / "m.csv", cache_dir=tmp_path / "cache")
    assert data.a.shape == (5, 62) and data.b.shape == (5, 1)
    assert data.meta["targets"] == ["loudness"]


def test_zoo_av_bridge_metrics_recompute_on_the_real_clips(media, tmp_path, capsys):
    """The shipped audio-visual bridge's recorded held-out metrics are what evaluating it again gives."""
    from xmedia.cli import main
    from xmedia.zoo import load

    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("phone_portrait.mp4", "megamind.avi"):
        (clips / name).symlink_to(media("video", name))
    bridge = load("av-perceptual@1")
    recorded = bridge.card["metrics_raw"]
    assert main(["eval", "av-perceptual@1", "--data", str(clips), "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert f"a->b {recorded['recall@1']:.3f}" in out and f"chance {recorded['chance@1']:.3f}" in out
    assert recorded["chance@1"] == pytest.approx(1 / recorded["gallery_size"])
    cv = bridge.card["cross_validation"]
    assert 0 <= cv["mean over 10 splits recall@1"] <= 1


def test_cli_train_writes_a_loadable_bridge(tmp_path):
    from xmedia.bridges import Bridge
    from xmedia.cli import main

    lex = tmp_path / "lex.csv"
    axes = "energy,pace,brightness,warmth,texture,valence,density,onset"
    rng = np.random.default_rng(0)
    lex.write_text(f"word,{axes}\n" + "\n".join(f"w{i}x," + ",".join(f"{v:.2f}" for v in rng.random(8))
                                                for i in range(30)))
    assert main(["train", "text-perceptual", "--data", str(lex), "-o", str(tmp_path / "out"), "--epochs", "5"]) == 0
    bridge = Bridge.from_pretrained(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "config.json").read_text())["card"]["data"]["words"] == 30
    assert bridge.predict(["w1x"]).shape == (1, 8)
