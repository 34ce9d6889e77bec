"""score -> audio: the built-in synth plays notes at their exact times and pitches, through the API and the CLI."""
import numpy as np
import pytest

import xmedia
from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError
from xmedia.score import Part, Score, Tempo

music21 = pytest.importorskip("music21")
librosa = pytest.importorskip("librosa")
from xmedia.adapters.score import from_music21
from xmedia.adapters.score.synth import VOICES, render

SR = 22_050


@pytest.fixture(scope="module")
def chorale():
    return from_music21(music21.corpus.parse("bach/bwv66.6"))


@pytest.fixture(scope="module")
def played(chorale):
    return render(chorale, sample_rate_hz=SR, channels=1)


def test_rendered_chorale_onsets_match_the_score_within_30_ms(chorale, played):
    lead = SR // 4  # a detector cannot see an attack at the very first frame: 0.25 s of silence before it
    y = np.concatenate([np.zeros(lead, np.float32), played.samples[:, 0]])
    env = librosa.onset.onset_strength(y=y, sr=SR, hop_length=64)
    found = librosa.onset.onset_detect(onset_envelope=env, sr=SR, hop_length=64, units="time") - lead / SR
    expected = np.unique(chorale.onset_s())
    error = np.abs(expected[:, None] - found[None, :]).min(axis=1)
    assert (error < 0.030).all(), f"onsets off by up to {error.max() * 1000:.0f} ms"
    assert len(found) <= len(expected) + 2  # no spurious attacks in between


def test_rendered_chorale_sounds_every_pitch(chorale, played):
    y = played.samples[:, 0]
    cqt = np.abs(librosa.cqt(y, sr=SR, hop_length=256, fmin=librosa.midi_to_hz(24), n_bins=84))
    mids = ((chorale.onset_s() + chorale.offset_s()) / 2 * SR / 256).astype(int)
    heard = [cqt[p - 24, f] > 0.1 * cqt[:, f].max() for p, f in zip(chorale.pitch, mids)]
    assert all(heard), f"{len(heard) - sum(heard)} notes not heard at their pitch"
    assert played.duration_s > chorale.duration_s and abs(np.abs(played.samples).max() - 10 ** (-1 / 20)) < 1e-3


def test_a_note_starts_on_its_exact_sample():
    sc = Score.from_notes([(1000, 480, 69, 100, 0)], tempos=(Tempo(0, 97),))
    y = render(sc, sample_rate_hz=SR, channels=1).samples[:, 0]
    start = int(round(float(sc.onset_s()[0]) * SR))
    assert not y[:start + 1].any() and y[start + 1] != 0


@pytest.mark.parametrize("family", sorted(VOICES))
def test_every_program_family_plays_the_right_pitch(family):
    sc = Score.from_notes([(0, 960, 57, 100, 0)], parts=(Part("x", family * 8),))  # A3, 220 Hz, 1 s at 120 bpm
    y = render(sc, sample_rate_hz=SR, channels=1).samples[:, 0]
    spectrum = np.abs(np.fft.rfft(y[: SR // 2] * np.hanning(SR // 2)))
    peak_hz = np.fft.rfftfreq(SR // 2, 1 / SR)[spectrum.argmax()]
    assert np.isfinite(y).all() and abs(peak_hz - 220) < 6, f"{VOICES[family].name}: peak at {peak_hz:.1f} Hz"


def test_velocity_shapes_loudness_and_render_is_deterministic():
    sc = Score.from_notes([(0, 480, 60, 30, 0), (960, 480, 60, 120, 0)])
    a = render(sc, sample_rate_hz=SR, channels=1)
    soft, loud = (np.sqrt(np.mean(a.samples[int(t * SR):int((t + 0.25) * SR)] ** 2)) for t in (0.0, 1.0))
    assert loud > 4 * soft
    assert np.array_equal(a.samples, render(sc, sample_rate_hz=SR, channels=1).samples)


def test_drums_only_render_and_an_empty_score_is_an_error():
    drums = Score.from_notes([(i * 240, 120, p, 100, 0) for i, p in enumerate([36, 42, 38, 46, 49, 45])],
                             parts=(Part("kit", 0, True),))
    a = render(drums, sample_rate_hz=SR)
    assert a.channels == 2 and np.abs(a.samples).max() > 0.5
    with pytest.raises(MediaError, match="no notes"):
        render(Score.from_notes([]))
    with pytest.raises(ConfigError):
        render(drums, channels=3)


def test_translate_score_to_audio_api_and_cli(tmp_path, chorale, capsys):
    a = xmedia.translate(chorale, to="audio", sample_rate_hz=SR)
    assert a.sample_rate_hz == SR and a.channels == 2
    song = chorale.save(tmp_path / "song.mid")
    out = tmp_path / "out.wav"
    assert main(["translate", str(song), "--to", "audio", "-o", str(out)]) == 0
    wav = xmedia.load(out)
    assert abs(float(wav.duration_s) - float(a.duration_s)) < 0.01 and wav.sample_rate_hz == 44_100
    empty = Score.from_notes([], parts=(Part("piano"),)).save(tmp_path / "empty.mid")
    capsys.readouterr()
    assert main(["translate", str(empty), "--to", "audio", "-o", str(tmp_path / "e.wav")]) != 0
    err = capsys.readouterr().err
    assert "empty.mid" in err and "no notes" in err and not (tmp_path / "e.wav").exists()
