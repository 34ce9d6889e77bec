"""Transcription (audio -> Score) with basic-pitch's ONNX model on real recordings, and its bad inputs."""
import hashlib
import subprocess
import sys
import types
import warnings
from fractions import Fraction

import numpy as np
import pytest
from conftest import corpus_path, media_path
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.adapters.transcribe import model as bp
from xmedia.adapters.transcribe.notes import notes_from_activations
from xmedia.adapters.transcribe.transcribe import NoNotesWarning, to_ticks, transcribe
from xmedia.errors import ConfigError, MediaError, WeightsError

needs_ort = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("onnxruntime") is None, reason="onnxruntime (xmedia[music]) missing")


def main_pitch(score) -> int:
    return int(score.pitch[np.lexsort((score.velocity, score.duration_ticks))[-1]])


@needs_ort
def test_a_flute_a4_is_transcribed_as_a4_through_the_route():
    audio = xmedia.load(corpus_path("timbre", "flute", "Flute.vib.ff.A4.stereo.flac"))
    score = xmedia.translate(audio, to="score")
    assert isinstance(score, xmedia.Score) and score.num_notes >= 1
    assert main_pitch(score) == 69  # A4
    assert len(score.parts) == 1 and score.tempo_bpm == 120 and score.ticks_per_beat == 480
    assert (score.pitch == 69).mean() >= 0.75
    assert float(score.duration_s) <= float(audio.duration_s) + 0.05
    assert "transcribe" in str(xmedia.plan(audio, "score"))


@needs_ort
def test_a_violin_note_and_a_resampled_copy_agree():
    audio = xmedia.load(corpus_path("timbre", "violin", "Violin.arco.ff.sulA.A5.stereo.flac"))
    a, b = transcribe(audio), transcribe(audio.resample(48000))
    assert main_pitch(a) == main_pitch(b) == 81  # A5, at 44.1 and 48 kHz


@needs_ort
def test_the_em9_guitar_chord_gives_its_own_pitch_classes():
    score = transcribe(xmedia.load(media_path("audio", "guit_em9.flac")))
    em9 = {4, 7, 11, 2, 6}  # E G B D F#
    assert score.num_notes >= 10
    assert np.mean([p % 12 in em9 for p in score.pitch]) >= 0.9
    assert len(set(score.pitch % 12) & em9) >= 4  # a chord, not one repeated note


@needs_ort
def test_tempo_sets_the_ticks_and_the_seconds_stay():
    audio = xmedia.load(media_path("audio", "ambi_piano.flac"))
    fast, slow = transcribe(audio, tempo=120), xmedia.translate(audio, to="score", tempo=60)
    assert slow.tempo_bpm == 60 and fast.num_notes == slow.num_notes > 0
    assert np.allclose(fast.onset_s(), slow.onset_s(), atol=1 / 480)  # half a tick at 60 bpm
    # every onset is a frame start, exactly through the tempo (round half up)
    starts = bp.frame_start_samples(bp.n_frames(round(float(audio.duration_s) * bp.SAMPLE_RATE_HZ)) + 1)
    exact = np.array([Fraction(int(s) * 2 * 480, bp.SAMPLE_RATE_HZ) for s in starts], dtype=object)
    for t in fast.onset_ticks:
        assert min(abs(e - int(t)) for e in exact) <= Fraction(1, 2)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**9), st.fractions(1, 1000).map(lambda f: f.limit_denominator(1000)), st.integers(1, 32767))
def test_to_ticks_is_exact_rounding(samples, bpm, tpb):
    if bpm < 1:
        bpm = Fraction(1)
    exact = Fraction(samples, bp.SAMPLE_RATE_HZ) * bpm / 60 * tpb
    assert int(to_ticks([samples], bpm, tpb)[0]) == (exact + Fraction(1, 2)).__floor__()


def test_note_decoding_onsets_minimum_length_and_melodia():
    frames, onsets = np.zeros((200, 88)), np.zeros((200, 88))
    frames[20:60, 48] = 0.8  # A4 (69 - 21): a held note with an onset
    onsets[20, 48] = 0.9
    frames[100:105, 30] = 0.9  # too short (5 frames) to be a note
    onsets[100, 30] = 0.9
    frames[130:170, 10] = 0.6  # held but no onset peak: only the melodia trick finds it
    ev = notes_from_activations(frames, onsets, infer_onsets=False, melodia_trick=False)
    assert [(s, p) for s, e, p, a in ev] == [(20, 69)] and abs(ev[0][2 - 1] - 60) <= 1
    ev = notes_from_activations(frames, onsets, infer_onsets=False, melodia_trick=True)
    assert sorted(p for *_, p, a in ev) == [31, 69]
    assert notes_from_activations(np.zeros((50, 88)), np.zeros((50, 88))) == []


@needs_ort
def test_silence_gives_an_empty_score_and_a_warning():
    with pytest.warns(NoNotesWarning, match="no notes"):
        score = xmedia.translate(xmedia.Audio(np.zeros((22050, 2), np.float32), 44100), to="score")
    assert score.num_notes == 0 and score.tempo_bpm == 120


@needs_ort
def test_a_10ms_clip_is_refused_as_too_short():
    clip = xmedia.load(media_path("audio", "guit_em9.flac")).slice_s(1, Fraction(101, 100))
    with pytest.raises(MediaError, match="too short"):
        transcribe(clip)


def test_nan_audio_is_refused():
    with pytest.raises(MediaError):
        xmedia.Audio(np.array([0.0, np.nan, 0.0], np.float32), 22050)  # the Audio type refuses NaN itself
    fake = types.SimpleNamespace(samples=np.full((44100, 1), np.nan, np.float32), sample_rate_hz=44100,
                                 source="nan.wav")
    with pytest.raises(MediaError, match="NaN"):
        transcribe(fake)


@pytest.mark.parametrize("options, match", [({"tempo": 0}, "tempo"), ({"tempo": -5}, "tempo"),
                                            ({"onset_threshold": 1.5}, "onset_threshold"),
                                            ({"frame_threshold": float("nan")}, "frame_threshold"),
                                            ({"program": 200}, "program"), ({"min_hz": 500, "max_hz": 100}, "min_hz")])
def test_bad_options_are_config_errors(options, match):
    audio = xmedia.Audio(np.zeros((22050, 1), np.float32), 22050)
    with pytest.raises(ConfigError, match=match):
        transcribe(audio, **options)


def test_the_vendored_model_is_the_pinned_one():
    data = bp.verify()
    assert hashlib.sha256(data).hexdigest() == bp.MODEL_SHA256 and len(data) == 230444
    assert (bp.MODEL_FILE.parent / "LICENSE-basic-pitch").read_text().count("Apache License") >= 1


def test_a_missing_or_corrupt_model_is_a_weights_error(tmp_path, monkeypatch):
    with pytest.raises(WeightsError, match="missing"):
        bp.verify(tmp_path / "nmp.onnx")
    bad = tmp_path / "corrupt.onnx"
    data = bytearray(bp.MODEL_FILE.read_bytes())
    data[5000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt"):
        bp.verify(bad)
    (tmp_path / "short.onnx").write_bytes(bp.MODEL_FILE.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="corrupt"):
        bp.session(tmp_path / "short.onnx")
    monkeypatch.setattr(bp, "MODEL_FILE", tmp_path / "gone.onnx")  # what a transcription meets
    with pytest.raises(WeightsError, match="pip download --no-deps basic-pitch==0.4.0"):
        transcribe(xmedia.Audio(np.zeros((22050, 1), np.float32), 22050))


def test_importing_the_provider_is_light():
    code = "import sys, xmedia.adapters.transcribe; assert 'onnxruntime' not in sys.modules, 'onnxruntime at import'"
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@needs_ort
def test_tensorflow_and_the_basic_pitch_package_are_never_loaded():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNotesWarning)
        transcribe(xmedia.Audio(np.zeros((22050, 1), np.float32), 22050))
    assert "onnxruntime" in sys.modules
    assert not any(m.split(".")[0] in ("tensorflow", "basic_pitch", "tflite_runtime") for m in sys.modules)


@needs_ort
def test_the_cli_writes_a_midi_file_that_reads_back(tmp_path, capsys):
    from xmedia.cli import main
    from xmedia.formats import formats

    if not any(".mid" in f.extensions and f.writer for f in formats()):
        pytest.skip("no .mid writer registered yet")
    wav = corpus_path("timbre", "flute", "Flute.vib.ff.A4.stereo.flac")
    out = tmp_path / "theme.mid"
    assert main(["translate", str(wav), "--to", "score", "--tempo", "96", "-o", str(out)]) == 0
    back = xmedia.load(out)
    direct = transcribe(xmedia.load(wav), tempo=96)
    assert back.tempo_bpm == 96 and back.num_notes == direct.num_notes
    assert back.pitch.tolist() == direct.pitch.tolist()
    assert np.allclose(back.onset_s(), direct.onset_s(), atol=1e-3)
    assert main(["translate", str(wav), "--to", "score", "--tempo", "0", "-o", str(tmp_path / "x.mid")]) != 0
    assert "tempo must be 1-1000" in capsys.readouterr().err and not (tmp_path / "x.mid").exists()
