"""Score files: music21 <-> Score, MIDI read/write (type 1, tempo/metre/key meta events), MusicXML, ABC collections,
kern, ``xmedia info`` and bad input (corrupt, truncated, empty, drums only, unknown extension)."""
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.cli import main
from xmedia.errors import MediaError
from xmedia.score import Key, Metre, Part, Score, Tempo

music21 = pytest.importorskip("music21")
mido = pytest.importorskip("mido")
from xmedia.adapters.score import from_music21, to_music21
from xmedia.adapters.score.files import abc_tunes, read_scores

CORPUS = Path(music21.__file__).parent / "corpus"
ONEILL = CORPUS / "oneills1850" / "0721-0730.abc"  # ten Irish tunes


@pytest.fixture(scope="module")
def chorale_m21():
    return music21.corpus.parse("bach/bwv66.6")


@pytest.fixture(scope="module")
def chorale(chorale_m21):
    return from_music21(chorale_m21)


def _reference_notes(m21_score, tpb):
    """Every sounding note of a music21 score through music21's own stripTies, as (onset, dur, pitch, part)."""
    rows = []
    for i, p in enumerate(m21_score.parts):
        for n in p.stripTies(inPlace=False).flatten().notes:
            if n.duration.quarterLength > 0:
                on = round(Fraction(n.offset) * tpb)
                rows += [(on, round(Fraction(n.offset + n.duration.quarterLength) * tpb) - on, q.midi, i)
                         for q in n.pitches]
    return sorted(rows)


def _same(a: Score, b: Score):
    assert np.array_equal(a.notes(), b.notes())
    assert a.parts == b.parts and a.ticks_per_beat == b.ticks_per_beat
    assert a.tempos == b.tempos and a.metres == b.metres and a.keys == b.keys


def test_from_music21_keeps_parts_notes_and_maps(chorale_m21, chorale):
    assert [p.name for p in chorale.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert chorale.num_notes == 163 and str(chorale.key) == "F#m" and str(chorale.metre) == "4/4"
    assert chorale.tempo_bpm == 96
    got = sorted((int(a), int(b), int(c), int(d)) for a, b, c, _, d in chorale.notes().tolist())
    assert got == _reference_notes(chorale_m21, chorale.ticks_per_beat)
    _same(from_music21(to_music21(chorale)), chorale)


def test_triplets_get_exact_ticks():
    s = music21.stream.Stream()
    for i in range(3):
        n = music21.note.Note(60 + i)
        n.duration = music21.duration.Duration(Fraction(1, 3))
        s.append(n)
    sc = from_music21(s)
    assert sc.duration_ticks.tolist() == [sc.ticks_per_beat // 3] * 3 and sc.ticks_per_beat % 3 == 0


def test_midi_round_trip_of_a_bach_chorale(tmp_path, chorale):
    path = chorale.save(tmp_path / "bwv66.6.mid")
    mf = mido.MidiFile(path)
    assert mf.type == 1 and len(mf.tracks) == 1 + len(chorale.parts)  # conductor + one track per part
    metas = {m.type for m in mf.tracks[0]}
    assert {"set_tempo", "time_signature", "key_signature"} <= metas
    back = xmedia.load(path)
    _same(back, chorale)
    assert back.title == chorale.title and np.allclose(back.onset_s(), chorale.onset_s())


settings.register_profile("score_io", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
note_rows = st.lists(st.tuples(st.integers(0, 20_000), st.integers(1, 3_000), st.integers(0, 127),
                               st.integers(1, 127), st.integers(0, 2)), max_size=60)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note_rows, st.lists(st.tuples(st.integers(1, 20_000), st.integers(20, 300)), max_size=3),
       st.sampled_from(["2/4", "3/4", "6/8", "7/8"]), st.integers(0, 11), st.booleans(), st.sampled_from([96, 480, 960]))
def test_any_score_survives_midi(tmp_path, rows, tempo_changes, metre, tonic, minor, tpb):
    seen, kept = {}, []
    for on, dur, pitch, vel, part in rows:  # MIDI cannot hold two overlapping notes of one pitch on one channel
        if all(on >= o + d or on + dur <= o for o, d in seen.get((part, pitch), [])):
            seen.setdefault((part, pitch), []).append((on, dur))
            kept.append((on, dur, pitch, vel, part))
    tempos = {0: Tempo(0, Fraction(97, 2))} | {t: Tempo(t, b) for t, b in tempo_changes}
    num, den = map(int, metre.split("/"))
    score = Score.from_notes(kept, parts=(Part("lead", 73), Part("kit", 0, True), Part("bass", 33)),
                             ticks_per_beat=tpb, tempos=tuple(tempos[t] for t in sorted(tempos)),
                             metres=(Metre(0, num, den),), keys=(Key(0, tonic, "minor" if minor else "major"),))
    _same(xmedia.load(score.save(tmp_path / "any.mid")), score)


@pytest.mark.parametrize("ext", [".musicxml", ".mxl", ".xml"])
def test_musicxml_round_trip(tmp_path, chorale, ext):
    path = chorale.save(tmp_path / f"c{ext}")
    if ext == ".xml":
        assert b"<score-partwise" in path.read_bytes()[:4096]
    _same(xmedia.load(path), chorale)


def test_abc_collection_every_tune_and_one_by_index():
    scores = read_scores(ONEILL)
    assert len(scores) == len(abc_tunes(ONEILL.read_text())) == 10
    first, fourth = xmedia.load(ONEILL), xmedia.load(ONEILL, index=3)
    assert first.title == scores[0].title and fourth.title == scores[3].title
    assert np.array_equal(fourth.notes(), scores[3].notes()) and fourth.keys == scores[3].keys
    assert all(s.num_notes > 20 and s.parts[0].name for s in scores)
    with pytest.raises(MediaError, match="index=999"):
        xmedia.load(ONEILL, index=999)


def test_kern_reads_and_is_read_only(tmp_path):
    sc = xmedia.load(CORPUS / "bach" / "bwv277.krn")
    assert len(sc.parts) == 4 and sc.num_notes > 200 and str(sc.key) == "C"
    with pytest.raises(MediaError, match=".krn"):
        sc.save(tmp_path / "x.krn")


def test_type0_midi_channels_become_parts_and_running_notes_end(tmp_path):
    mf = mido.MidiFile(type=0, ticks_per_beat=100)
    tr = mido.MidiTrack()
    tr += [mido.Message("program_change", channel=2, program=40, time=0),
           mido.Message("note_on", channel=2, note=60, velocity=70, time=0),
           mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
           mido.Message("note_on", channel=9, note=36, velocity=0, time=10),  # velocity 0 = note-off
           mido.Message("note_off", channel=2, note=60, velocity=0, time=90),
           mido.Message("note_on", channel=2, note=62, velocity=80, time=0),  # never released: ends with the track
           mido.MetaMessage("set_tempo", tempo=400_000, time=50)]
    mf.tracks.append(tr)
    mf.save(tmp_path / "t0.mid")
    sc = xmedia.load(tmp_path / "t0.mid")
    assert [(p.program, p.is_drum) for p in sc.parts] == [(40, False), (0, True)]
    assert sc.notes().tolist() == [[0, 100, 60, 70, 0], [0, 10, 36, 100, 1], [100, 50, 62, 80, 0]]
    assert sc.tempos == (Tempo(0, 120), Tempo(150, 150))


def test_empty_and_drums_only_scores(tmp_path):
    empty = Score.from_notes([], parts=(Part("piano"),))
    back = xmedia.load(empty.save(tmp_path / "empty.mid"))
    assert back.num_notes == 0 and back.parts == (Part("piano"),) and back.duration_s == 0
    drums = Score.from_notes([(i * 240, 120, p, 100, 0) for i, p in enumerate([36, 42, 38, 42] * 4)],
                             parts=(Part("kit", 0, True),))
    path = drums.save(tmp_path / "drums.mid")
    assert {m.channel for m in mido.MidiFile(path).tracks[1] if hasattr(m, "channel")} == {9}
    _same(xmedia.load(path), drums)


def _bad_files(d: Path) -> list[Path]:
    mid = (CORPUS / "bach" / "bwv66.6.mxl").read_bytes()
    chorale = from_music21(music21.corpus.parse("bach/bwv66.6"))
    good = chorale.save(d / "good.mid").read_bytes()
    xml = chorale.save(d / "good.musicxml").read_text()
    files = {"half.mid": good[: len(good) // 2], "header.mid": good[:14], "noise.mid": bytes(range(256)) * 3,
             "half.mxl": mid[: len(mid) // 2], "half.musicxml": xml[: len(xml) // 2].encode(),
             "half.xml": xml[: len(xml) // 2].encode(), "other.xml": b"<root><a/></root>",
             "prose.abc": b"hello world\nthis is not abc\n", "empty.abc": b"", "empty.mid": b"",
             "noise.krn": b"**kern\n*M4/4\nzzz qqq\n", "song.foo": b"x"}
    for name, data in files.items():
        (d / name).write_bytes(data)
    return [d / n for n in files]


def test_bad_files_are_media_errors_naming_the_file(tmp_path):
    for path in _bad_files(tmp_path):
        with pytest.raises(MediaError) as err:
            xmedia.load(path)
        assert path.name in str(err.value), str(err.value)


def test_abc_without_notes_is_an_empty_score(tmp_path):
    (tmp_path / "blank.abc").write_text("X:1\nT:Blank\nK:Am\n")
    sc = xmedia.load(tmp_path / "blank.abc")
    assert sc.num_notes == 0 and sc.title == "Blank" and str(sc.key) == "Am"


def test_xmedia_info_for_a_midi_file(tmp_path, chorale, capsys):
    path = chorale.save(tmp_path / "song.mid")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    for expected in ("score", "Soprano (program 0, 36 notes)", "notes: 163", "duration_s: 22.5", "tempo_bpm: 96",
                     "metre: 4/4", "key: F#m"):
        assert expected in out, out
