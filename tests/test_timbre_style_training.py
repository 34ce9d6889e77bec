"""The timbre and style families on the one trainer (issue 24) and their bad options (issue 26).

``fit`` returns a ``TrainResult``; ``fine_tune`` trains a copy that saves and loads; every bad value is refused
before any work with the project's own error (exit code 2, no traceback, the option named); the loss PNG is
always written. Training here is a step or two on tiny data.
"""
import shutil

import numpy as np
import pytest

from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError

torch = pytest.importorskip("torch")

from conftest import corpus_path, media_path  # noqa: E402

from xmedia.adapters.style.network import StyleNet  # noqa: E402
from xmedia.adapters.timbre.model import Timbre  # noqa: E402
from xmedia.process import Process  # noqa: E402
from xmedia.trainer import TrainResult  # noqa: E402

PAINTING = "lengstrom_udnie.jpg"


@pytest.fixture(scope="module")
def flute(tmp_path_factory):
    """Three flute notes in a folder of their own."""
    folder = tmp_path_factory.mktemp("flute")
    for f in sorted(corpus_path("timbre", "flute").glob("*.flac"))[:3]:
        shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("orange.jpg", "home.jpg"):
        shutil.copy(media_path("image", name), folder / name)
    return folder


def _weights_differ(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return any(not torch.equal(sa[k], sb[k]) for k in sa)


def _snapshot(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model, saved) -> bool:
    return all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())


# ------------------------------------------------------------------------------------------ the API
def test_timbre_fit_returns_a_train_result_and_fine_tune_a_trained_copy(flute, tmp_path):
    torch.set_num_threads(1)
    base = Timbre(hidden=16, harmonics=8, noise_bands=4)
    result = base.fit(flute, max_steps=2, batch_size=2, pitch="yin")
    assert isinstance(result, TrainResult) and result.process is base and result.steps == 2
    assert len(result.extra["held_out_files"]) == 1 and len(result.extra["train_files"]) == 2
    assert np.isfinite(result.best_val) and "held out" in base.card["data"]
    before = _snapshot(base)
    tuned = base.fine_tune(flute, max_steps=2, batch_size=2, pitch="yin")
    assert tuned is not base and _weights_differ(tuned, base) and _unchanged(base, before)
    assert tuned.train_result.options["learning_rate"] == Timbre.training_defaults(fine_tune=True)["learning_rate"]
    tuned.save_pretrained(tmp_path / "tuned")
    back = Process.from_pretrained(tmp_path / "tuned")
    assert isinstance(back, Timbre) and not _weights_differ(back, tuned)


def test_style_fit_holds_out_whole_pictures_and_fine_tune_a_trained_copy(photos, tmp_path):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    base = StyleNet(channels=[8, 8, 8], blocks=1, refine_channels=4)
    style = corpus_path("style", PAINTING)
    result = base.fit(photos, style=style, max_steps=2, size_px=48, batch_size=1, report=tmp_path / "loss.png")
    assert isinstance(result, TrainResult) and result.steps == 2 and (tmp_path / "loss.png").stat().st_size > 1000
    assert len(result.extra["held_out"]) == 1 and result.extra["content_pictures"] == 1  # one photo each side
    assert {"style", "content", "tv"} <= set(result.history[-1]) and np.isfinite(result.best_val)
    again = StyleNet(channels=[8, 8, 8], blocks=1, refine_channels=4).fit(photos, style=style, max_steps=1,
                                                                           size_px=48, batch_size=1)
    assert again.extra["held_out"] == result.extra["held_out"]  # the same held-out picture every run
    before = _snapshot(base)
    tuned = base.fine_tune(photos, style=style, max_steps=2, size_px=48, batch_size=1)
    assert _weights_differ(tuned, base) and _unchanged(base, before)
    tuned.save_pretrained(tmp_path / "tuned")
    back = Process.from_pretrained(tmp_path / "tuned")
    assert isinstance(back, StyleNet) and not _weights_differ(back, tuned)


@pytest.mark.parametrize("options, match", [
    (dict(style_weight=float("nan")), "style_weight"),
    (dict(content_weight=-1.0), "content_weight"),
    (dict(size_px=100000), "size_px"),
    (dict(batch_size=100000), "batch_size"),
    (dict(features="vgg"), "features"),
    (dict(steps=3), "steps"),  # the old name: max_steps now
])
def test_style_fit_refuses_bad_options_before_any_work(options, match):
    with pytest.raises(ConfigError, match=match):
        StyleNet().fit(["/nonexistent/photos"], style=corpus_path("style", PAINTING), **options)


def test_style_fit_refuses_a_missing_or_audio_style(media):
    with pytest.raises(ConfigError, match="style is required"):
        StyleNet().fit([np.zeros((64, 64, 3), np.uint8)])
    with pytest.raises(MediaError, match="audio file"):
        StyleNet().fit([np.zeros((64, 64, 3), np.uint8)], style=media("audio", "guit_em9.flac"))


# ------------------------------------------------------------------------------------------ the CLI
def _audio_only_clip(path):
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as box:
        stream = box.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            box.mux(packet)
    return path


TIMBRE_BAD = [(["--holdout", "1"], "holdout"), (["--holdout", "2"], "holdout"), (["--holdout", "nan"], "holdout"),
              (["--max-steps", "0"], "max_steps"), (["--max-steps", "-1"], "max_steps"),
              (["--max-minutes", "nan"], "max_minutes"), (["--batch-size", "100000"], "batch_size")]
STYLE_BAD = [(["--style-weight", "nan"], "style_weight"), (["--size-px", "100000"], "size_px"),
             (["--batch-size", "100000"], "batch_size"), (["--style-image", "AUDIO"], "audio file"),
             (["--style-image", "AUDIO_ONLY_CLIP"], "no video stream"), ([], "--style-image"),
             (["-o", "DATA/model"], "training data")]


@pytest.mark.parametrize("extra, match", TIMBRE_BAD)
def test_timbre_cli_refuses_bad_options_up_front(flute, tmp_path, capsys, extra, match):
    out = tmp_path / "model"
    code = main(["train", "timbre", "--data", str(flute), "-o", str(out), "--threads", "1", *extra])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and match in err and not out.exists(), err


@pytest.mark.parametrize("extra, match", STYLE_BAD)
def test_style_cli_refuses_bad_options_up_front(photos, tmp_path, capsys, media, extra, match):
    style = str(corpus_path("style", PAINTING))
    swap = {"AUDIO": str(media("audio", "guit_em9.flac")), "DATA/model": str(photos / "model")}
    if "AUDIO_ONLY_CLIP" in extra:
        swap["AUDIO_ONLY_CLIP"] = str(_audio_only_clip(tmp_path / "sound.mp4"))
    extra = [swap.get(a, a) for a in extra]
    out = [] if "-o" in extra else ["-o", str(tmp_path / "model")]
    given = [] if "--style-image" in extra or not extra else ["--style-image", style]
    files = sorted(p.name for p in photos.iterdir())
    code = main(["train", "style", "--data", str(photos), *out, *given, "--threads", "1", "--max-steps", "1",
                 "--size-px", "32", *extra])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and match in err, err
    assert sorted(p.name for p in photos.iterdir()) == files and not (tmp_path / "model").exists()


def test_timbre_cli_fine_tunes_a_zoo_timbre_and_always_writes_the_loss_png(flute, tmp_path, capsys):
    out = tmp_path / "tuned"
    assert main(["train", "timbre", "--data", str(flute), "-o", str(out), "--fine-tune", "violin",
                 "--max-steps", "1", "--batch-size", "2", "--pitch", "yin"]) == 0
    assert (out / "loss.png").stat().st_size > 1000  # one step: the trainer still evaluates (and draws) once
    tuned, violin = Timbre.from_pretrained(out), Timbre.from_pretrained("violin")
    assert tuned.config == violin.config and _weights_differ(tuned, violin)
    assert "fine-tuned from violin" in tuned.card["description"]
