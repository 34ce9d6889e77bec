"""Text processes on real corpora: reading, mixing, Markov and GRU models, generation, blending, saving, bad input."""
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import corpus_path
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.adapters.text import CharGRU, MarkovText, mix_corpora, parse_mix, read_corpus
from xmedia.adapters.text.model import _is_known
from xmedia.errors import ConfigError, MediaError
from xmedia.process import Process, load


def corpus(name: str) -> Path:
    return corpus_path("text", name)


@pytest.fixture(scope="module")
def genesis():
    return MarkovText.from_corpus(corpus("genesis_english-kjv.txt"), order=4)


@pytest.fixture(scope="module")
def tiny_gru():
    torch.set_num_threads(1)
    return CharGRU.from_corpus(corpus("dickinson_poems_en.txt"), hidden=32, embed_dim=16, max_steps=40,
                               batch_size=16, seq_len=48, eval_every=20, eval_chars=4000, seed=3)


# -- corpora and bad input ----------------------------------------------------------------------------------
def test_empty_binary_and_non_utf8_corpora_are_clear_errors(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(MediaError, match="empty"):
        read_corpus(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"abc\x00\x01\x02" * 10)
    with pytest.raises(MediaError, match="binary.*byte offset 3"):
        read_corpus(tmp_path / "bin.txt")
    (tmp_path / "latin.txt").write_bytes("caf".encode() + b"\xe9 au lait\n")
    with pytest.raises(MediaError, match=r"0xe9 at byte offset 3.*latin-1"):
        read_corpus(tmp_path / "latin.txt")
    assert read_corpus(tmp_path / "latin.txt", encoding="latin-1") == "café au lait\n"  # the stated fallback


def test_corpus_smaller_than_the_context(tmp_path):
    with pytest.raises(ConfigError, match="fewer than the model's context"):
        MarkovText.from_corpus("abc", order=8, val_fraction=0.0)
    with pytest.raises(ConfigError, match="seq_len"):
        CharGRU.from_corpus("tiny text\n", seq_len=64, max_steps=1, val_fraction=0.0)


def test_weighted_mix_gives_each_corpus_its_share():
    a, b = corpus("genesis_english-kjv.txt"), corpus("dickinson_poems_en.txt")
    assert [round(w, 2) for _, w in parse_mix(f"{a}:3,{b}:1")] == [0.75, 0.25]
    mixed = mix_corpora(f"{a}:0.2,{b}:0.8", val_fraction=0.1)
    ga, da = mix_corpora(str(a)).train, mix_corpora(str(b)).train
    cut = mixed.train.index(da[:200])  # the mix is genesis' share, then dickinson's, repeated by whole lines
    assert mixed.train[:cut] == ga[:cut]
    assert cut / len(mixed.train) == pytest.approx(0.2, abs=0.01)
    assert mixed.train.count(da[:200]) == 2  # dickinson (smaller than its 80%) comes round a second time
    assert "dickinson_poems_en.txt (80%)" in mixed.describe() and mixed.val


# -- Markov -------------------------------------------------------------------------------------------------
def test_markov_beats_unigram_and_chance_on_held_out_text(genesis):
    val = genesis.validation_text
    nats = genesis.nats_per_char(val)["nats_per_char"]
    train = mix_corpora(str(corpus("genesis_english-kjv.txt"))).train
    freq = {c: train.count(c) / len(train) for c in set(train)}
    unigram = -np.mean([np.log(freq[c]) for c in val if c in freq])
    assert np.isfinite(nats) and nats < unigram - 0.8 and unigram < np.log(len(genesis.vocab))


def test_generation_is_deterministic_by_seed_and_streams_what_it_returns(genesis):
    a = genesis.generate("And God said", 300, 0.9, seed=5)
    streamed = "".join(genesis.stream("And God said", 300, 0.9, 5))
    assert a == genesis.generate("And God said", 300, 0.9, seed=5) == streamed
    assert a != genesis.generate("And God said", 300, 0.9, seed=6)
    assert len(a) == 300 and set(a) <= set(genesis.vocab)
    assert genesis.generate("x", 50, 0.0) == genesis.generate("x", 50, 0.0, seed=99)  # greedy ignores the seed


def test_save_load_share_the_same_model(genesis, tmp_path):
    genesis.save_pretrained(tmp_path / "g")
    back = load(tmp_path / "g")
    assert type(back) is MarkovText and back.config == genesis.config
    assert back.generate("In the", 200, 0.8, seed=1) == genesis.generate("In the", 200, 0.8, seed=1)
    assert back.nats_per_char("In the beginning God created")["nats_per_char"] == pytest.approx(
        genesis.nats_per_char("In the beginning God created")["nats_per_char"])


def test_prompt_longer_than_the_context_and_unknown_characters(genesis):
    long_prompt = "And the earth was without form, and void; " * 20
    assert genesis.generate(long_prompt, 80, 0.7, seed=2) == genesis.generate(long_prompt[-4:], 80, 0.7, seed=2)
    with pytest.warns(UserWarning, match="skipped 1 chars"):
        out = genesis.generate("And God ☃", 40, 0.7, seed=1)
    assert len(out) == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # folded, no warning: é -> e
        genesis.generate("Andé", 10, 0.7)
    with pytest.raises(ConfigError, match="not in the model's vocabulary"):
        genesis.generate("☃", 10, unknown="error")


def test_word_markov_keeps_lines(tmp_path):
    m = MarkovText.from_corpus(corpus("dickinson_poems_en.txt"), order=2, level="word")
    text = m.generate("", 2000, 0.8, seed=0, lines=16)
    assert text.count("\n") == 16 and "<unk>" not in text
    assert len(text.split()) > 16 and "\n\n" in text  # words on lines, stanzas


def test_sound_poem_invents_words(genesis):
    poem = genesis.generate("", 400, 1.0, seed=4, sound_poem=True)
    words = [w.strip("-'") for w in poem.lower().split()]
    words = [w for w in words if w]
    assert all(c.isalpha() or c in " \n-'" for c in poem)
    invented = [w for w in words if not _is_known(w, genesis.known_words())]
    assert len(invented) >= 0.9 * len(words) and len(words) > 20


def test_fine_tune_shifts_a_copy_toward_the_second_corpus(genesis):
    second = mix_corpora(str(corpus("dickinson_poems_en.txt"))).train[:60_000]
    tuned = genesis.fine_tune(second, weight=2.0)
    probe = mix_corpora(str(corpus("dickinson_poems_en.txt"))).val[:5000]
    assert tuned.nats_per_char(probe)["nats_per_char"] < genesis.nats_per_char(probe)["nats_per_char"] - 0.1
    assert genesis.config["sizes"] != tuned.config["sizes"]  # the original is untouched


# -- blending -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dickinson():
    return MarkovText.from_corpus(corpus("dickinson_poems_en.txt"), order=3)


def test_blend_is_exactly_a_or_b_at_the_ends(genesis, dickinson, tmp_path):
    for t, same in ((0.0, genesis), (1.0, dickinson)):
        mix = Process.blend(genesis, dickinson, t)
        assert mix.generate("The ", 150, 0.9, seed=3) == same.generate("The ", 150, 0.9, seed=3)
    mix = Process.blend(genesis, dickinson, 0.3)
    mix.save_pretrained(tmp_path / "mix")  # a blend is shared like any process
    assert load(tmp_path / "mix").generate("The ", 150, 0.9, seed=3) == mix.generate("The ", 150, 0.9, seed=3)


def _probs_after(model, text):
    state = model.initial_state()
    for ch in text:
        state = model.advance(state, model.index[ch])
    return np.exp(model.next_logprobs(state))


@settings(max_examples=15, deadline=None)
@given(t=st.floats(0.0, 1.0))
def test_blend_mixes_the_next_character_distributions(genesis, dickinson, t):
    mix = Process.blend(genesis, dickinson, t)
    p = _probs_after(mix, "And the ")
    pa, pb = _probs_after(genesis, "And the "), _probs_after(dickinson, "And the ")
    assert p.sum() == pytest.approx(1.0) and np.isfinite(p).all()
    for ch in "e ta":
        want = (1 - t) * pa[genesis.index[ch]] + t * pb[dickinson.index[ch]]
        assert p[mix.index[ch]] == pytest.approx(want, rel=1e-9, abs=1e-12)


# -- GRU ----------------------------------------------------------------------------------------------------
def test_gru_learns_saves_and_is_deterministic(tiny_gru, tmp_path):
    res = tiny_gru.train_result
    first_val, last_val = res.history[0]["val_loss"], res.best_val
    assert last_val < np.log(len(tiny_gru.vocab)) and last_val <= first_val
    again = CharGRU.from_corpus(corpus("dickinson_poems_en.txt"), hidden=32, embed_dim=16, max_steps=40,
                                batch_size=16, seq_len=48, eval_every=20, eval_chars=4000, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(tiny_gru.state_dict().values(), again.state_dict().values()))
    tiny_gru.save_pretrained(tmp_path / "g")
    back = load(tmp_path / "g")
    text = "Because I could not stop for Death"
    assert back.nats_per_char(text)["nats_per_char"] == pytest.approx(tiny_gru.nats_per_char(text)["nats_per_char"])
    assert back.generate("I ", 120, 0.8, seed=1) == "".join(tiny_gru.stream("I ", 120, 0.8, seed=1))


def test_gru_blend_interpolates_weights_and_is_exact_at_the_ends(tiny_gru):
    tuned = tiny_gru.fine_tune(str(corpus("genesis_english-kjv.txt")), max_steps=5, batch_size=8, seq_len=32,
                               eval_every=5, eval_chars=2000)
    assert isinstance(tuned, CharGRU) and tuned is not tiny_gru and tuned.train_result.steps == 5
    assert tuned.compatible(tiny_gru)  # same config: their weights interpolate
    other = CharGRU(**tiny_gru.config)
    other.load_state_dict({k: v + 0.01 if v.is_floating_point() else v for k, v in tiny_gru.state_dict().items()})
    for t, same in ((0.0, tiny_gru), (1.0, other)):
        assert Process.blend(tiny_gru, other, t).generate("A", 60, 0.8, seed=2) == same.generate("A", 60, 0.8, seed=2)
    half = Process.blend(tiny_gru, other, 0.5)
    w = "head.bias"
    assert torch.allclose(half.state_dict()[w], 0.5 * (tiny_gru.state_dict()[w] + other.state_dict()[w]))


def test_shipped_shakespeare_models():
    from xmedia.pretrained import locate

    try:
        locate("shakespeare-gru")
    except Exception:
        pytest.skip("the zoo has no shakespeare-gru (python -m xmedia.zoo.build text)")
    val = mix_corpora(str(corpus("tinyshakespeare_en.txt")), val_fraction=0.1).val[:6000]
    gru, markov = load("shakespeare-gru"), load("shakespeare-markov")
    g, m = gru.nats_per_char(val)["nats_per_char"], markov.nats_per_char(val)["nats_per_char"]
    assert g < m < np.log(len(markov.vocab))
    assert g < 1.7 and gru.card["metrics"]["validation nats/char"] <= 1.7
