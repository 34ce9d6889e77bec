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
    result = train(AudioVisualBridge(20, 12, embed_dim=16), (a, b), max_epochs=80, seed=0,
                   report=tmp_path / "loss.png", progress=False)
    m = result.metrics
    assert m["recall@1"] > 10 * m["chance@1"] and m["recall@5"] > 0.9
    assert result.val_losses[result.extra["best_epoch"] - 1] == result.best_val < result.val_losses[0]
    assert [h["epoch"] for h in result.history] == list(range(1, 81))  # held-out scores after every epoch
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Shuffling the partners destroys what it learnt: the score comes from the pairing, not the data.
    shuffled = evaluate(result.process, (a, np.random.default_rng(1).permutation(b)), split="all")
    assert shuffled["recall@1"] < 3 * shuffled["chance@1"]


def test_regression_beats_predicting_the_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    y = 1 / (1 + np.exp(-(x @ rng.normal(size=(5, 3))))).astype(np.float32)
    result = train(MLPBridge(5, 3, hidden=[32], output="sigmoid"), (x, y), "regression", max_epochs=150, progress=False)
    assert result.metrics["r2"] > 0.8 and result.metrics["mse"] < 0.2 * result.metrics["baseline_mse"]


def test_same_seed_same_weights_and_early_stopping():
    a, b = latent_pairs(120)
    runs = []
    for _ in range(2):
        torch.manual_seed(3)  # the initial weights come from the global generator when the bridge is built
        runs.append(train(AudioVisualBridge(20, 12), (a, b), max_epochs=300, patience=3, seed=7, progress=False))
    r1, r2 = runs
    assert r1.stopped.startswith("early stop") and len(r1.history) < 300
    assert len(r1.history) == r1.extra["best_epoch"] + 3
    for (k, v), (_, w) in zip(r1.process.state_dict().items(), r2.process.state_dict().items()):
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
    assert main(["train", "text-perceptual", "--data", str(lex), "-o", str(tmp_path / "out"), "--max-epochs", "5"]) == 0
    bridge = Bridge.from_pretrained(tmp_path / "out")
    card = json.loads((tmp_path / "out" / "config.json").read_text())["card"]
    assert card["data"]["words"] == 30 and card["training"]["max_epochs"] == 5
    assert bridge.predict(["w1x"]).shape == (1, 8) and (tmp_path / "out" / "loss.png").exists()
    # the same destination rules as every trainer: a saved model is replaced only with --force
    args = ["train", "text-perceptual", "--data", str(lex), "-o", str(tmp_path / "out"), "--max-epochs", "2"]
    assert main(args) == 2
    assert main([*args, "--force"]) == 0
    # --fine-tune: a copy of the saved bridge trained further (the recipe's fine-tuning rate)
    assert main(["train", "text-perceptual", "--data", str(lex), "-o", str(tmp_path / "tuned"), "--fine-tune",
                 str(tmp_path / "out"), "--max-epochs", "2"]) == 0
    tuned = Bridge.from_pretrained(tmp_path / "tuned")
    assert tuned.card["training"]["learning_rate"] == 1e-3
    again = Bridge.from_pretrained(tmp_path / "out")
    assert any(not torch.equal(v, tuned.state_dict()[k]) for k, v in again.state_dict().items())


def test_fine_tune_trains_a_copy_that_saves_and_loads(tmp_path):
    from xmedia.bridges import Bridge

    a, b = latent_pairs(80)
    base = train(MLPBridge(20, 12), (a, b), "regression", max_epochs=3, progress=False).process
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = base.fine_tune((a, b), objective="regression", max_epochs=2, progress=False)
    assert tuned is not base and tuned.train_result.process is tuned
    assert tuned.train_result.options["learning_rate"] == 1e-3  # bridges/recipe.json's fine_tune section
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())  # the original is untouched
    back = Bridge.from_pretrained(tuned.save_pretrained(tmp_path / "tuned"))
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in tuned.state_dict().items())


@pytest.mark.parametrize("flags, name", [
    (["--max-epochs", "0"], "max_epochs"), (["--max-steps", "-5"], "max_steps"),
    (["--learning-rate", "nan"], "learning_rate"), (["--val-fraction", "2"], "val_fraction"),
    (["--patience", "0"], "patience"), (["--batch-size", "0"], "batch_size"), (["--seed", "-1"], "seed"),
])
def test_recipe_cli_refuses_bad_options_before_any_work(tmp_path, capsys, flags, name):
    from xmedia.cli import main

    assert main(["train", "text-perceptual", "-o", str(tmp_path / "o"), *flags]) == 2
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err and not (tmp_path / "o").exists()


def test_recipe_cli_never_replaces_the_users_files(tmp_path, capsys):
    from xmedia.cli import main

    docs, data, note = tmp_path / "docs", tmp_path / "data", tmp_path / "note.txt"
    docs.mkdir()
    data.mkdir()
    (docs / "thesis.doc").write_text("mine")
    note.write_text("precious")
    lex = data / "lex.csv"
    lex.write_text("word,energy,pace,brightness,warmth,texture,valence,density,onset\n" +
                   "\n".join(f"w{i},0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8" for i in range(8)))
    for out in (docs, note, data, lex):
        assert main(["train", "text-perceptual", "--data", str(lex), "-o", str(out)]) == 2, out
        assert "Traceback" not in capsys.readouterr().err
    assert (docs / "thesis.doc").read_text() == "mine" and note.read_text() == "precious"
    assert sorted(p.name for p in data.iterdir()) == ["lex.csv"]
