"""The ``Score`` medium: validated notes, exact time through the tempo map, keys and metres."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.errors import MediaError
from xmedia.media import kind_of
from xmedia.score import Key, Metre, Part, Score, Tempo, parse_key, parse_metre

notes_strategy = st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 2_000), st.integers(0, 127),
                                    st.integers(1, 127), st.just(0)), max_size=40)


def test_a_score_is_a_medium_with_exact_time():
    s = Score.from_notes([(0, 480, 60, 80, 0), (480, 480, 64, 80, 0), (960, 960, 67, 90, 0)],
                         tempos=(Tempo(0, 120), Tempo(960, 60)), keys=(parse_key("Am"),), metres=(parse_metre("3/4"),))
    assert kind_of(s) == "score" and isinstance(s, xmedia.Score)
    assert s.onset_s().tolist() == [0.0, 0.5, 1.0]
    assert s.duration_s == Fraction(3)  # 1 s at 120 bpm, then two beats at 60 bpm
    assert s.beats(s.onset_ticks[1]) == 1 and s.metre.bar_beats == 3
    with pytest.raises(ValueError):
        s.pitch[0] = 1  # frozen arrays


@settings(max_examples=60, deadline=None)
@given(notes_strategy, st.integers(30, 240))
def test_notes_are_sorted_and_seconds_follow_the_tempo(rows, bpm):
    s = Score.from_notes(rows, tempos=(Tempo(0, bpm),))
    assert s.num_notes == len(rows)
    assert np.all(np.diff(s.onset_ticks) >= 0)
    assert sorted(map(tuple, s.notes().tolist())) == sorted(rows)
    np.testing.assert_allclose(s.onset_s(), s.onset_ticks / 480 * 60 / bpm)
    if rows:
        assert s.duration_s == Fraction(s.end_ticks, 480) * 60 / bpm


@pytest.mark.parametrize("row, problem", [((0, 0, 60, 80, 0), "durations"), ((-1, 10, 60, 80, 0), "negative"),
                                          ((0, 10, 128, 80, 0), "pitches"), ((0, 10, 60, 0, 0), "velocities"),
                                          ((0, 10, 60, 80, 1), "part")])
def test_bad_notes_are_media_errors_naming_the_problem(row, problem):
    with pytest.raises(MediaError, match=problem):
        Score.from_notes([row])


@pytest.mark.parametrize("text, tonic, mode", [("Am", 9, "minor"), ("A minor", 9, "minor"), ("F#", 6, "major"),
                                               ("Bb major", 10, "major"), ("c#m", 1, "minor"), ("Eb", 3, "major")])
def test_keys_parse(text, tonic, mode):
    k = parse_key(text)
    assert (k.tonic, k.mode) == (tonic, mode)


@pytest.mark.parametrize("bad", ["H", "Am7", "", "C minorish"])
def test_unknown_keys_are_refused(bad):
    with pytest.raises(MediaError, match="unknown key"):
        parse_key(bad)


@pytest.mark.parametrize("bad", ["3/5", "0/4", "x", "4/4/4"])
def test_unknown_metres_are_refused(bad):
    with pytest.raises(MediaError, match="metre"):
        parse_metre(bad)


def test_tempo_map_and_parts_are_checked():
    with pytest.raises(MediaError, match="positive"):
        Tempo(0, 0)
    with pytest.raises(MediaError, match="beats per minute"):
        Tempo(0, 5000)
    with pytest.raises(MediaError, match="tick 0"):
        Score.from_notes([], tempos=(Tempo(10, 100),))
    with pytest.raises(MediaError, match="program"):
        Part("x", program=200)


def test_transpose_moves_pitches_and_key_but_not_drums():
    s = Score.from_notes([(0, 10, 60, 80, 0), (0, 10, 36, 80, 1)], parts=(Part("lead"), Part("kit", is_drum=True)),
                         keys=(Key(0, 0, "major"),), metres=(Metre(0, 6, 8),))
    t = s.transpose(3)
    assert sorted(t.pitch.tolist()) == [36, 63] and str(t.key) == "Eb"
    assert t.part_notes(1).pitch.tolist() == [36]
    with pytest.raises(MediaError, match="outside MIDI"):
        s.transpose(80)
