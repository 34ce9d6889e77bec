"""The composed soundtrack (``--style score``): a learned style writes the notes, the synth plays them."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import media_path

import xmedia
from xmedia.bridges.score_soundtrack import (
    ACCENT_GAP_S,
    plan_phrases,
    play_soundtrack,
    render_stems,
    salient_events,
    score_soundtrack,
)
from xmedia.cli import main
from xmedia.media import Audio

SR = 48000
MINOR = {0, 2, 3, 5, 7, 8, 10, 11}  # natural minor with its raised leading tone
MAJOR = {0, 2, 4, 5, 7, 9, 11}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The README-style command on a real phone clip, once: mp4 + mid + stems, and the same route's trace."""
    src = media_path("video", "phone_portrait.mp4")
    out = tmp_path_factory.mktemp("score_soundtrack")
    argv = ["translate", str(src), "--to", "audio", "--style", "score", "--seed", "0", "-o", str(out / "out.mp4"),
            "--score", str(out / "out.mid"), "--stems", str(out / "stems")]
    assert main(argv) == 0
    clip = xmedia.load(src)
    trace = xmedia.translate(clip, to="audio", style="score", seed=0, trace=True)
    return {"dir": out, "clip": clip, "trace": trace}


def test_cli_writes_video_score_and_stems(made):
    out, clip = made["dir"], made["clip"]
    n = int(round(clip.duration_s * SR))
    video = xmedia.load(out / "out.mp4")
    assert abs(float(video.duration_s) - float(clip.duration_s)) < 0.1
    assert video.audio is not None and abs(float(video.audio.duration_s) - float(clip.duration_s)) < 0.05
    stems = sorted(p.name for p in (out / "stems").iterdir())
    assert {"melody.wav", "bass.wav", "chords.wav"} <= set(stems)
    played = made["trace"].output
    total = sum(xmedia.load(out / "stems" / s).samples.astype(np.float64) for s in stems)
    assert total.shape == (n, 2) and played.samples.shape == (n, 2)  # the clip's exact length
    assert np.abs(total - played.samples).max() < 1e-3  # the stems sum to the mix (16-bit WAV rounding)


def test_mid_holds_what_the_audio_plays(made):
    played, score = made["trace"].output, made["trace"].get("score")
    mid = xmedia.load(made["dir"] / "out.mid")
    assert np.array_equal(mid.notes(), score.notes())  # the same notes, to the tick
    assert np.abs(mid.onset_s() - score.onset_s()).max() < 1e-3
    again = Audio(sum(render_stems(mid, SR, duration_s=made["clip"].duration_s).values()), SR)
    assert again.samples.shape == played.samples.shape
    assert np.corrcoef(again.mono(), played.mono())[0, 1] > 0.99  # re-rendering the .mid plays the same music
    assert np.array_equal(play_soundtrack(score).samples, played.samples)


def test_notes_in_key_and_length_is_the_clip(made):
    score, clip = made["trace"].get("score"), made["clip"]
    key = score.key
    scale = MAJOR if key.mode == "major" else MINOR
    pitched = np.array([not score.parts[p].is_drum for p in score.part])
    assert set(((score.pitch[pitched] - key.tonic) % 12).tolist()) <= scale
    assert float(score.offset_s().max()) <= float(clip.duration_s) + 1e-3  # the last bar is cut at the clip's end
    bars = score.meta["end_tick"] / (score.metre.bar_beats * score.ticks_per_beat)
    assert float(bars) > 1


def test_same_seed_same_bytes(made, tmp_path):
    controls = made["trace"].get("controls:composer")
    a, b = score_soundtrack(controls, seed=0), score_soundtrack(controls, seed=0)
    a.save(tmp_path / "a.mid")
    b.save(tmp_path / "b.mid")
    assert (tmp_path / "a.mid").read_bytes() == (tmp_path / "b.mid").read_bytes() == (
        made["dir"] / "out.mid").read_bytes()
    score_soundtrack(controls, seed=1).save(tmp_path / "c.mid")
    assert (tmp_path / "c.mid").read_bytes() != (tmp_path / "a.mid").read_bytes()


def test_style_key_and_tempo_options(made):
    controls = made["trace"].get("controls:composer")
    score = score_soundtrack(controls, music_style="irish-folk", key="Am", tempo=90, seed=2)
    assert str(score.key) == "Am"
    pitched = np.array([not score.parts[p].is_drum for p in score.part])
    assert set(((score.pitch[pitched] - 9) % 12).tolist()) <= MINOR
    blend = score_soundtrack(controls, music_style="bach-chorales:0.5,irish-folk:0.5", seed=0)
    assert blend.num_notes > 0


def test_phrases_end_on_cuts_and_accents_are_sparse(made):
    bar = 4 * 60 / 100  # 2.4 s
    phrases = plan_phrases(11.0, bar, cuts=[1.0, 4.5, 7.0, 10.5])
    assert [round(a, 2) for a, _, _ in phrases] == [0.0, 4.5, 7.0]  # 1.0: too soon; 10.5: no bar left
    assert phrases[-1][1] == 11.0 and phrases[-1][2] == 2  # the last phrase: whole bars, cut at the end
    controls = made["trace"].get("controls:composer")
    accents = salient_events(controls)
    times = [t for t, _ in accents]
    assert np.all(np.diff(times) >= ACCENT_GAP_S - 1e-9)
    assert len(accents) <= float(controls.duration_s) / ACCENT_GAP_S + 1
    assert len(accents) < len(controls.events_s)  # only the salient events, not every one


def test_unknown_music_style_lists_music_styles(tmp_path, capsys):
    src = media_path("video", "phone_portrait.mp4")
    assert main(["translate", str(src), "--to", "audio", "--style", "score", "--music-style", "nope",
                 "-o", str(tmp_path / "o.wav")]) == 2
    err = capsys.readouterr().err
    assert "bach-chorales" in err and "irish-folk" in err and "starry" not in err and "violin" not in err
    assert not (tmp_path / "o.wav").exists()


def test_score_flag_refused_elsewhere(tmp_path, capsys):
    src = media_path("video", "phone_portrait.mp4")
    assert main(["translate", str(src), "--to", "audio", "-o", str(tmp_path / "o.wav"), "--score",
                 str(tmp_path / "o.mid")]) == 2  # the music style has no score
    assert "--style score" in capsys.readouterr().err
    audio = media_path("audio", "loop_amen.flac")
    assert main(["translate", str(audio), "--to", "perceptual", "-o", str(tmp_path / "e.npz"), "--score",
                 str(tmp_path / "o.mid")]) == 2
    assert "--score" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
