"""Composition (adapters/music): tokens, the Markov model on music21's real Bach chorales, constrained
generation, harmony, blends, save/load, errors and the CLI (train / generate music / eval)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("music21")

from xmedia.errors import ConfigError, LimitError, MediaError  # noqa: E402
from xmedia.score import Key, Metre, Part, Score, parse_key  # noqa: E402
from xmedia.adapters.music.corpus import as_pieces, split_pieces  # noqa: E402
from xmedia.adapters.music.markov import MusicMarkov  # noqa: E402
from xmedia.adapters.music.model import MusicModel  # noqa: E402
from xmedia.adapters.music.tokens import GRID, MAJOR_SCALE, MINOR_SCALE, piece_tokens, score_to_piece  # noqa: E402

N_PIECES = 40


@pytest.fixture(scope="module")
def bach_pieces():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return as_pieces("corpus:bach", max_pieces=N_PIECES)[0]


@pytest.fixture(scope="module")
def bach(bach_pieces):
    m = MusicMarkov(order=4)
    m.result = m.fit(bach_pieces)
    return m


def _tune():
    """A G4 pickup crotchet, then bars of C major (a minim on each downbeat, two crotchets), 4/4, and a bass."""
    rows = [(0, 480, 67, 90, 0)]
    for k, (a, b, c) in enumerate([(60, 62, 64), (65, 67, 69), (71, 69, 67), (60, 60, 60)]):
        bar = 480 + k * 1920
        rows += [(bar, 960, a, 90, 0), (bar + 960, 480, b, 90, 0), (bar + 1440, 480, c, 90, 0)]
    rows += [(480 + i * 1920, 1920, 48, 80, 1) for i in range(4)]
    return Score.from_notes(rows, parts=(Part("s"), Part("b")), keys=(Key(0, 0),), metres=(Metre(0, 4, 4),))


def test_tokens_positions_key_pickup_and_bass():
    piece = score_to_piece(_tune())
    assert piece.key == Key(0, 0, "major") and piece.bar == 4 * GRID
    assert piece.notes[0] == (3 * GRID, GRID, 7)  # the pickup: beat 4, a fifth above the tonic
    assert piece.notes[1] == (0, 2 * GRID, 0)  # the downbeat: the tonic
    toks = piece_tokens(piece)
    assert toks[:5] == ["<s>", "p36d12", "+7", "p0d24", "+0"] and toks[-1] == "</s>"
    assert piece.beat_pairs[0] == (0, 0)  # melody C over bass C on the first downbeat


def test_tokens_rests_and_bad_scores():
    s = Score.from_notes([(0, 480, 60, 90, 0), (1440, 480, 62, 90, 0)], keys=(Key(0, 0),))
    notes = score_to_piece(s).notes
    assert [n[2] for n in notes] == [0, None, 2] and notes[1][1] == 2 * GRID
    with pytest.raises(MediaError, match="only drums"):
        score_to_piece(Score.from_notes([(0, 480, 36, 90, 0)], parts=(Part("kit", 0, True),)))
    with pytest.raises(MediaError, match="no notes"):
        score_to_piece(Score.from_notes([]))


def test_bach_held_out_beats_unigram(bach, bach_pieces):
    m = bach.result.metrics
    assert m["held-out pieces"] == round(N_PIECES * 0.1)
    assert m["nats/note"] < m["unigram nats/note"] - 0.5
    _, val = split_pieces(bach_pieces, 0.1)
    again = bach.nats_per_note(val)
    assert again["nats_per_note"] == pytest.approx(m["nats/note"])
    p = bach.next_probs(bach.advance((), bach.index["<s>"]))
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()


def test_save_load_and_fine_tune(bach, bach_pieces, tmp_path):
    bach.save_pretrained(tmp_path / "m")
    back = MusicModel.from_pretrained(tmp_path / "m")
    assert back.vocab == bach.vocab
    state = back.advance(back.advance((), 0), 3)
    np.testing.assert_allclose(back.next_probs(state), bach.next_probs(state))
    a, b = bach.compose(4, seed=7), back.compose(4, seed=7)
    np.testing.assert_array_equal(a.notes(), b.notes())
    tuned = bach.fine_tune(bach_pieces[:3], weight=5.0)
    assert tuned.stats["pieces"] > bach.stats["pieces"] and tuned is not bach
    assert bach.stats["pieces"] == N_PIECES - round(N_PIECES * 0.1)


def _check_constraints(model, score, bars, key, metre, max_copy=8):
    ticks_bar = int(metre.bar_beats * score.ticks_per_beat)
    mel = score.part_notes(0)
    assert score.end_ticks == bars * ticks_bar
    scale = set(MAJOR_SCALE if key.mode == "major" else MINOR_SCALE)
    assert all((p - key.tonic) % 12 in scale for p in mel.pitch)
    ends = mel.onset_ticks + mel.duration_ticks
    assert not any(o // ticks_bar != (e - 1) // ticks_bar for o, e in zip(mel.onset_ticks, ends))  # inside bars
    for k in range(4, bars + 1, 4):
        last = np.flatnonzero(ends == k * ticks_bar)
        assert len(last) and (mel.pitch[last[-1]] - key.tonic) % 12 == 0  # the cadence on the tonic
    assert (score.part_notes(1).pitch.size > 0) and set(np.unique(score.part)) == {0, 1, 2}
    bass = score.part_notes(1)
    assert (bass.pitch[-1] - key.tonic) % 12 == 0 and bass.pitch.max() < mel.pitch.min() + 12


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), key=st.sampled_from(["C", "Am", "F#m", "Eb", "G"]),
       metre=st.sampled_from(["4/4", "3/4", "6/8"]))
def test_compose_constraints(bach, seed, key, metre):
    from xmedia.score import parse_metre

    score = bach.compose(8, key=key, metre=metre, seed=seed, tempo=90)
    _check_constraints(bach, score, 8, parse_key(key), parse_metre(metre))
    assert score.key == parse_key(key) and float(score.tempo_bpm) == 90


def test_copy_cap(bach):
    from xmedia.adapters.music.compose import _windows

    score = bach.compose(16, key="C", seed=3, temperature=0.3, max_copy=4, harmony=False)
    runs = _windows(bach, 5)
    assert len(runs) > 1000
    # re-tokenise the melody and check no 5-note run is a corpus run
    from xmedia.adapters.music.tokens import pitch_token, rhythm_token

    tpg = score.ticks_per_beat // GRID
    toks = []
    for on, dur, p in zip(score.onset_ticks, score.duration_ticks, score.pitch):
        toks += [rhythm_token(int(on // tpg) % (4 * GRID), int(dur // tpg)), pitch_token(int(p) - 60)]
    assert not any(hash(tuple(toks[i:i + 10])) in runs for i in range(0, len(toks) - 9, 2))


def test_blend_mixes_distributions(bach, bach_pieces, tmp_path):
    from xmedia.blend import load_process

    other = MusicMarkov(order=2)
    other.fit(bach_pieces[:20], val_fraction=0.0)
    bach.save_pretrained(tmp_path / "a")
    other.save_pretrained(tmp_path / "b")
    blend = load_process(f"{tmp_path / 'a'}:0.5,{tmp_path / 'b'}:0.5", MusicModel)
    s = blend.advance(blend.initial_state(), blend.index["<s>"])
    p = blend.next_probs(s)
    pa = bach.next_probs(bach.advance((), bach.index["<s>"]))
    assert p.sum() == pytest.approx(1.0) and p[blend.index["p0d12"]] != pytest.approx(pa[bach.index["p0d12"]])
    assert MusicModel.blend(bach, other, 0.0).vocab == bach.vocab
    score = blend.compose(4, key="Am", seed=1)
    assert score.end_ticks == 4 * 4 * score.ticks_per_beat
    blend.save_pretrained(tmp_path / "ab")
    back = MusicModel.from_pretrained(tmp_path / "ab")
    np.testing.assert_allclose(back.next_probs(s), p)


def test_bad_requests(bach):
    with pytest.raises(ConfigError, match="bars"):
        bach.compose(0)
    with pytest.raises((LimitError, ConfigError)):
        bach.compose(10 ** 6)
    with pytest.raises(MediaError, match="unknown key"):
        bach.compose(4, key="H minor")
    with pytest.raises(MediaError, match="metre"):
        bach.compose(4, metre="4/3")
    with pytest.raises(ConfigError, match="tempo"):
        bach.compose(4, tempo=0)
    with pytest.raises(ConfigError, match="corpus"):
        as_pieces("corpus:no-such-composer")
    with pytest.raises(MediaError, match="no such score"):
        as_pieces("/nonexistent/folder")
    with pytest.raises(ConfigError, match="weight"):
        MusicMarkov().fit("corpus:bach", weight=-1)


def test_cli_train_generate_eval(tmp_path, capsys):
    from xmedia.cli import main

    out = tmp_path / "style"
    assert main(["train", "music", "--data", "corpus:bach", "--max-pieces", "20", "-o", str(out)]) == 0
    assert (out / "model.safetensors").is_file() and "nats/note" in (out / "README.md").read_text()
    mid = tmp_path / "song.mid"
    assert main(["generate", "music", "--model", str(out), "--bars", "8", "--key", "Am", "--metre", "3/4",
                 "--tempo", "96", "--seed", "2", "-o", str(mid)]) == 0
    assert mid.is_file() and mid.stat().st_size > 100
    assert main(["eval", str(out), "--data", "corpus:bach"]) == 0
    text = capsys.readouterr().out
    assert "nats/note (unigram baseline" in text
    assert main(["generate", "music", "--model", str(out), "--bars", "0", "-o", str(tmp_path / "x.mid")]) != 0
    assert "--bars must be >= 1" in capsys.readouterr().err and not (tmp_path / "x.mid").exists()
    assert main(["generate", "shakespeare-markov", "--bars", "4"]) != 0
    assert "flag of `xmedia generate music`" in capsys.readouterr().err
    assert main(["generate", "music", "--model", "no-such-style", "-o", str(tmp_path / "y.mid")]) != 0
    assert "music style" in capsys.readouterr().err
