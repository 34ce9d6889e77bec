"""Media -> text: timed lines that follow the source, .srt/.vtt/.json/.txt outputs, the text CLI verbs."""
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import xmedia
from xmedia.adapters.perceptual import AXES, IDX
from xmedia.adapters.text.poem import burst_onsets, plan_lines, write_poem
from xmedia.cli import main
from xmedia.embedding import Embedding
from xmedia.errors import ConfigError

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "text"


@pytest.fixture(scope="module")
def bard(tmp_path_factory):
    """A small character Markov model trained through the CLI on a weighted mix of two real corpora."""
    a, b = CORPORA / "genesis_english-kjv.txt", CORPORA / "dickinson_poems_en.txt"
    if not a.exists():
        pytest.skip(f"corpora not found at {CORPORA}")
    out = tmp_path_factory.mktemp("bard") / "bard"
    assert main(["train", "text", "--data", f"{a}:0.5,{b}:0.5", "--model", "markov", "--order", "4",
                 "-o", str(out)]) == 0
    return out


def _embedding(energy, events=(), warmth=0.5, brightness=0.5, rate=25):
    track = np.full((len(energy), len(AXES)), 0.5, dtype=np.float32)
    track[:, IDX["energy"]] = energy
    track[:, IDX["warmth"]] = warmth
    track[:, IDX["brightness"]] = brightness
    return Embedding("perceptual", track.mean(0), track=track, rate_hz=rate, axes=AXES,
                     events_s=tuple(events), source="video")


def test_lines_start_on_events_and_bursts_and_cover_the_clip():
    t = np.arange(250) / 25
    energy = 0.1 + 0.4 * np.exp(-((t - 3) ** 2) / 0.1) + 0.4 * np.exp(-((t - 7) ** 2) / 0.1)
    emb = _embedding(energy, events=(Fraction(3, 2), Fraction(9, 2)))
    lines = plan_lines(emb, 0.8, 2.0)
    starts = [a for a, _, _, _ in lines]
    assert Fraction(3, 2) in starts and Fraction(9, 2) in starts
    bursts = [Fraction(i, 25) for i in burst_onsets(emb)]
    for a, b, what, _ in lines:
        assert what in ("start", "onset", "motion", "continued")
        if what == "motion":
            assert a in bursts
        assert b - a <= 2
    assert lines[0][0] == 0 and lines[-1][1] == emb.duration_s
    assert all(b == c for (_, b, _, _), (c, _, _, _) in zip(lines, lines[1:]))


def test_more_motion_writes_more_and_warm_bright_writes_warm_bright_words(bard):
    t = np.arange(300) / 25
    calm = write_poem(_embedding(0.05 + 0.02 * np.sin(t)), bard, seed=1)
    wild = write_poem(_embedding(0.6 + 0.3 * np.sin(3 * t)), bard, seed=1)
    assert len(wild.text) > 1.3 * len(calm.text)  # half of the scale is absolute energy, half the clip's own range
    warm = write_poem(_embedding(0.3 + 0.1 * np.sin(t), warmth=0.95, brightness=0.9), bard, seed=2)
    cold = write_poem(_embedding(0.3 + 0.1 * np.sin(t), warmth=0.05, brightness=0.1), bard, seed=2)
    w, c = xmedia.encode(xmedia.Text(warm.text)), xmedia.encode(xmedia.Text(cold.text))
    assert w["warmth"] > c["warmth"] + 0.05 and w["brightness"] > c["brightness"] + 0.05
    assert write_poem(_embedding(0.3 + 0.1 * np.sin(t)), bard, seed=3).text == \
        write_poem(_embedding(0.3 + 0.1 * np.sin(t)), bard, seed=3).text  # deterministic by seed


def test_fire_writes_srt_timed_to_its_events(bard, tmp_path, media):
    video = media("video", "fire_b.mp4")
    out = tmp_path / "poem.srt"
    assert main(["translate", str(video), "--to", "text", "-o", str(out), "--model", str(bard), "--seed", "1",
                 "--report", str(tmp_path / "poem.png")]) == 0
    assert (tmp_path / "poem.png").stat().st_size > 5000
    cues = xmedia.load(out)
    emb = xmedia.encode(xmedia.load(video))
    frame = 1 / float(emb.rate_hz)
    marks = {Fraction(0)} | set(emb.events_s) | {Fraction(i) / emb.rate_hz for i in burst_onsets(emb)}
    assert len(cues.lines) >= 8
    for cue in cues.lines:  # every cue starts on an event, a burst onset, or cuts a long burst
        near = min(abs(float(cue.start_s - m)) for m in marks)
        assert near <= frame or cue.end_s - cue.start_s <= 2
    on_mark = sum(min(abs(float(c.start_s - m)) for m in marks) <= frame for c in cues.lines)
    assert on_mark >= 0.8 * len(cues.lines)
    if shutil.which("ffprobe"):
        pts = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0",
                              str(out)], capture_output=True, text=True, check=True).stdout.split()
        assert [round(float(p), 3) for p in pts] == [round(float(c.start_s), 3) for c in cues.lines]
    for ext in (".vtt", ".json", ".txt"):
        assert main(["translate", str(video), "--to", "text", "-o", str(tmp_path / f"p{ext}"), "--model", str(bard),
                     "--seed", "1"]) == 0
        assert xmedia.load(tmp_path / f"p{ext}").text == cues.text


def test_images_and_sounds_write_through_the_same_space(bard, tmp_path, media):
    image = tmp_path / "red.png"
    xmedia.Image(np.tile(np.array([220, 60, 20], np.uint8), (48, 64, 1))).save(image)
    assert main(["translate", str(image), "--to", "text", "-o", str(tmp_path / "caption.json"),
                 "--model", str(bard)]) == 0
    caption = xmedia.load(tmp_path / "caption.json")
    assert caption.lines and all(li.event == "pace" for li in caption.lines)
    tone = np.sin(2 * np.pi * 220 * np.arange(48000) / 16000) * np.repeat([0.05, 0.8, 0.05], 16000)
    song = xmedia.translate(xmedia.Audio(tone.astype(np.float32), 16000), "text", model=str(bard), seed=0)
    assert song.lines and float(song.duration_s) == pytest.approx(3.0)


def test_bad_output_and_options(bard, tmp_path, media):
    video = media("video", "fire_b.mp4")
    assert main(["translate", str(video), "--to", "text", "-o", str(tmp_path / "p.wav")]) == 2
    with pytest.raises(ConfigError, match="min_line_s"):
        write_poem(_embedding(np.linspace(0, 1, 50)), bard, min_line_s=5.0)


def test_eval_generate_and_fine_tune_cli(bard, tmp_path, capsys):
    data = CORPORA / "dickinson_poems_en.txt"
    assert main(["eval", str(bard), "--data", str(data)]) == 0
    nats = float(capsys.readouterr().out.split(": ")[1].split()[0])
    assert 1.0 < nats < 2.5
    assert main(["generate", str(bard), "--prompt", "The ", "--length", "80", "--seed", "4"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", str(bard), "--prompt", "The ", "--length", "80", "--seed", "4"]) == 0
    assert capsys.readouterr().out == first and len(first) >= 84
    assert main(["generate", str(bard), "--prompt", "The ", "--length", "80", "--seed", "4",
                 "--blend", f"{bard}:0"]) == 0
    assert capsys.readouterr().out == first  # blended with itself at t=0: the same model
    tuned = tmp_path / "tuned"
    assert main(["train", "text", "--data", str(data), "--fine-tune", str(bard), "--weight", "3",
                 "-o", str(tuned)]) == 0
    capsys.readouterr()
    main(["eval", str(tuned), "--data", str(data)])
    assert float(capsys.readouterr().out.split(": ")[1].split()[0]) < nats
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\xff\xfe")
    assert main(["train", "text", "--data", str(bad), "--model", "markov", "-o", str(tmp_path / "x")]) == 2
    assert "byte offset 2" in capsys.readouterr().err


def test_train_text_gru_cli_writes_model_and_loss_curve(tmp_path, capsys):
    data = CORPORA / "dickinson_poems_en.txt"
    if not data.exists():
        pytest.skip(f"corpora not found at {CORPORA}")
    out = tmp_path / "gru"
    assert main(["train", "text", "--data", str(data), "--model", "gru", "--hidden", "16", "--max-steps", "12",
                 "--seq-len", "32", "--batch-size", "8", "-o", str(out)]) == 0
    assert (out / "loss.png").stat().st_size > 1000 and (out / "config.json").exists()
    assert "nats/char" in capsys.readouterr().out
    card = xmedia.load(out).card
    assert card["training"]["steps"] == 12 and "best held-out nats/char" in card["metrics"]
