"""The zoo: offline listing and loading, sha256 checks, bit-identical save/load, the shipped text bridge."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import xmedia.zoo as zoo
from xmedia.bridges import AudioVisualBridge, Bridge, MLPBridge
from xmedia.errors import WeightsError


def test_list_and_load_by_name_and_revision():
    names = zoo.list()
    assert "av-perceptual@1" in names and "text-perceptual@1" in names
    for name in names:
        bridge = zoo.load(name)
        entry = zoo.info(name)
        assert type(bridge).__name__ == entry["class"] and bridge.src == entry.get("src", bridge.src)
        assert (zoo.ZOO_DIR / entry["path"] / "model.safetensors").stat().st_size < 2_000_000
        assert "metrics" in bridge.card and "## Metrics" in (zoo.ZOO_DIR / entry["path"] / "README.md").read_text()
    assert type(zoo.load("text-perceptual", revision=1)) is type(zoo.load("text-perceptual"))
    with pytest.raises(WeightsError, match="no process named"):
        zoo.load("no-such-bridge")
    with pytest.raises(WeightsError, match="no revision 9"):
        zoo.load("av-perceptual@9")


def test_save_load_is_bit_identical(tmp_path):
    torch.manual_seed(0)
    bridge = AudioVisualBridge(10, 7, hidden=[12])
    bridge.fit_input_stats(torch.randn(50, 10) * 3 + 1, torch.randn(50, 7))
    bridge.save(tmp_path / "b")
    again = zoo.load(tmp_path / "b")
    sa, sb = bridge.state_dict(), again.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    x = torch.randn(5, 10)
    assert torch.equal(bridge.eval()(x), again(x))
    again.save(tmp_path / "c")
    assert (tmp_path / "b" / "model.safetensors").read_bytes() == (tmp_path / "c" / "model.safetensors").read_bytes()


def test_corrupt_weights_give_a_clear_error(tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(zoo.path("av-perceptual"), folder)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt or was replaced"):
        zoo.load(folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["sha256"] = None
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightsError, match="not a valid safetensors"):
        zoo.load(folder)


def test_mismatched_weights_give_a_clear_error(tmp_path):
    MLPBridge(4, 2).save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["config"]["in_dim"] = 5
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightsError, match="does not match MLPBridge"):
        Bridge.from_pretrained(tmp_path / "m")


def test_index_sha256_is_checked_too(tmp_path, monkeypatch):
    index = zoo.index()
    index["text-perceptual"]["1"]["sha256"] = "0" * 64
    fake = tmp_path / "index.json"
    fake.write_text(json.dumps(index))
    monkeypatch.setattr(zoo, "INDEX", fake)
    with pytest.raises(WeightsError, match="does not match zoo/index.json"):
        zoo.load("text-perceptual")


def test_text_bridge_fits_its_lexicon_and_orders_opposites():
    from xmedia.bridges.data import lexicon

    bridge = zoo.load("text-perceptual@1")
    assert bridge.card["metrics_raw"]["n"] > 0
    lex = lexicon()
    pred = bridge(torch.from_numpy(lex.a)).detach().numpy()
    assert np.abs(pred - lex.b).mean() < 0.1  # it knows the words it was taught
    # For every axis, the taught words at the top and bottom of it come out in that order, far apart.
    train_words = ~lex.split(bridge.card["training"]["val_fraction"], bridge.card["training"]["seed"])
    for i in range(8):
        hi, lo = np.argmax(np.where(train_words, lex.b[:, i], -1)), np.argmin(np.where(train_words, lex.b[:, i], 2))
        p = bridge.predict([lex.sources[hi], lex.sources[lo]])[:, i]
        assert p[0] > p[1] + 0.5, (i, lex.sources[hi], lex.sources[lo], p)
    emb = bridge("a bright and happy song")
    assert emb.space == "perceptual" and emb["brightness"] > 0.6


def test_import_xmedia_stays_free_of_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, xmedia, xmedia.zoo; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_list_works_right_after_import_xmedia():
    code = "import sys, xmedia; print(xmedia.zoo.list()); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, torch_loaded = out.stdout.strip().splitlines()
    assert "'text-perceptual@1'" in names and torch_loaded == "False"


def test_index_recipes_and_shipped_configs_carry_their_kind():
    from xmedia.formats import json_kind

    assert json_kind(zoo.INDEX) == "zoo-index" and "kind" not in zoo.index()
    for path in zoo.RECIPES.glob("*.json"):
        assert json_kind(path) == "recipe" and "kind" not in zoo.recipe(path.stem)
    for name in zoo.list():
        cfg = json.loads((zoo.path(name) / "config.json").read_text())
        assert next(iter(cfg)) == "kind" and cfg["kind"] == "process"
        assert cfg["module"] == type(zoo.load(name)).__module__ and cfg["module"].startswith("xmedia.")
        assert cfg["sha256"] == zoo.info(name)["sha256"]


def test_every_index_entry_is_a_route_step():
    from xmedia.routing import registry

    steps = registry().steps
    routed = [name for name in zoo.index() if "src" in zoo.info(name)]  # entries saved with step=False are not
    for name in routed:
        entry = zoo.info(name)
        step = steps[f"zoo:{name}"]
        assert (step.src, step.dst) == (entry["src"], entry["dst"]) and entry["class"] in step.description
    assert {f"zoo:{name}" for name in routed} == {n for n in steps if n.startswith("zoo:")}


def test_av_bridge_embeds_a_clip_and_its_sound_in_the_av_space(media):
    import warnings

    import xmedia
    from xmedia.adapters import perceptual
    from xmedia.bridges.features import embedding_features

    bridge = zoo.load("av-perceptual@1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        video = xmedia.load(media("video", "phone_portrait.mp4"))
    seen, heard = perceptual.encode(video), perceptual.encode(video.audio)
    v, a = bridge(seen), bridge(heard)
    assert v.space == a.space == "av" and v.dim == a.dim == bridge.out_dim
    assert abs(np.linalg.norm(v.vector) - 1) < 1e-5 and abs(np.linalg.norm(a.vector) - 1) < 1e-5
    n_bins = bridge.config["features"]["n_bins"]
    with torch.no_grad():  # the video tower for a video, the audio tower for a sound, on the training features
        expect_v = bridge.encode_video(torch.as_tensor(embedding_features(seen, n_bins))[None])[0].numpy()
        expect_a = bridge.encode_audio(torch.as_tensor(embedding_features(heard, n_bins))[None])[0].numpy()
    np.testing.assert_allclose(v.vector, expect_v, atol=1e-6)
    np.testing.assert_allclose(a.vector, expect_a, atol=1e-6)
    routed = xmedia.translate(video, to="space:av", via="zoo:av-perceptual")
    np.testing.assert_allclose(routed.vector, v.vector, atol=1e-6)
    with pytest.raises(xmedia.MediaError, match="timed perceptual"):
        bridge(xmedia.encode(xmedia.Text("a calm night")))


def test_saved_processes_round_trip_through_xmedia_load(tmp_path):
    import xmedia

    torch.manual_seed(0)
    mlp = MLPBridge(6, 3, hidden=[8], output="sigmoid", src="space:perceptual", dst="space:perceptual").eval()
    mlp.norm.fit(torch.randn(40, 6) * 2 + 1)
    text = zoo.load("text-perceptual@1")
    x = torch.randn(5, 6)
    for bridge, probe in ((mlp, x), (text, text.featurize(["glowing", "icy", "thunderous"]))):
        folder = bridge.save_pretrained(tmp_path / type(bridge).__name__)
        again = xmedia.load(folder)
        assert type(again) is type(bridge) and again.config == bridge.config and again.card == bridge.card
        with torch.no_grad():
            assert torch.equal(again(probe), bridge(probe))
    phrase = "a dark rumbling drone"
    np.testing.assert_array_equal(xmedia.load(tmp_path / "TextPerceptualBridge")(phrase).vector, text(phrase).vector)
