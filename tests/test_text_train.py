"""The text family on the one trainer: ``fit``/``fine_tune`` return the common ``TrainResult`` (or a trained copy),
``xmedia train text --model gru|markov`` goes through ``ProcessTrainer``, and every bad option of issue 26 is
refused up front (exit 2, the option named, no traceback, nothing written)."""
import pytest
import torch
from conftest import corpus_path

from xmedia.adapters.text import CharGRU, MarkovText
from xmedia.cli import main
from xmedia.errors import ConfigError
from xmedia.process import load
from xmedia.trainer import TrainResult

TINY_GRU = dict(hidden=16, embed_dim=8, max_steps=6, batch_size=4, seq_len=16, eval_every=3, eval_chars=2000,
                seed=1)


@pytest.fixture(scope="module")
def text():
    return corpus_path("text", "dickinson_poems_en.txt").read_text(encoding="utf-8")[:20_000]


@pytest.fixture(scope="module")
def other():
    return corpus_path("text", "genesis_english-kjv.txt").read_text(encoding="utf-8")[:20_000]


def _same(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape and torch.equal(sa[k], sb[k]) for k in sa)


# -- the API: the common contract ---------------------------------------------------------------------------
def test_gru_fit_returns_the_trainers_result_and_fine_tune_a_trained_copy(text, other, tmp_path):
    torch.set_num_threads(1)
    gru = CharGRU.from_corpus(text, **TINY_GRU)
    res = gru.train_result
    assert isinstance(res, TrainResult) and res.process is gru and res.steps == 6 and res.loss_name == "nats/char"
    assert [h["step"] for h in res.history] == [3, 6] and "bits/char" in res.metrics
    before = {k: v.clone() for k, v in gru.state_dict().items()}
    tuned = gru.fine_tune(other, max_steps=3, batch_size=4, seq_len=16, eval_chars=2000)
    assert isinstance(tuned, CharGRU) and tuned.train_result.process is tuned and tuned.train_result.steps == 3
    assert not _same(tuned, gru)  # trained further...
    assert all(torch.equal(before[k], v) for k, v in gru.state_dict().items())  # ...and the original unchanged
    tuned.save_pretrained(tmp_path / "tuned")
    assert _same(load(tmp_path / "tuned"), tuned)


def test_markov_fit_is_counting_with_the_same_contract(text, other, tmp_path):
    markov = MarkovText.from_corpus(text, order=3)
    res = markov.train_result
    assert isinstance(res, TrainResult) and res.process is markov and res.steps == 0 and len(res.history) == 1
    assert res.best_val == pytest.approx(markov.nats_per_char(markov.validation_text)["nats_per_char"])
    sizes = dict(markov.config["sizes"])
    tuned = markov.fine_tune(other, weight=2.0)
    assert isinstance(tuned, MarkovText) and isinstance(tuned.train_result, TrainResult)
    assert tuned.config["sizes"] != sizes and markov.config["sizes"] == sizes and not _same(tuned, markov)
    tuned.save_pretrained(tmp_path / "tuned")
    assert _same(load(tmp_path / "tuned"), tuned)
    for bad in (float("nan"), -1.0, 0.0, 1e9):
        with pytest.raises(ConfigError, match="weight"):
            markov.fine_tune(other, weight=bad)


def test_the_api_refuses_bad_values_before_any_work(text):
    for options, name in ((dict(hidden=0), "hidden"), (dict(hidden=100_000), "hidden"), (dict(seq_len=0), "seq_len"),
                          (dict(batch_size=0), "batch_size"), (dict(learning_rate=float("nan")), "learning_rate"),
                          (dict(encoding="bogus"), "encoding"), (dict(max_steps=-5), "max_steps"),
                          (dict(lr=1e-3), "lr"), (dict(layers=0), "layers")):
        with pytest.raises(ConfigError, match=name):
            CharGRU.from_corpus(text, **options)
    with pytest.raises(ConfigError, match="hidden"):
        CharGRU(list("abc"), hidden=100_000)  # refused before a 120 GB allocation is attempted
    with pytest.raises(ConfigError, match="order"):
        MarkovText.from_corpus(text, order=99)


# -- the CLI ------------------------------------------------------------------------------------------------
BAD = [  # (flags, the option the message must name): issue 26's cases for `xmedia train text`
    (["--hidden", "0"], "hidden"),
    (["--hidden", "100000"], "hidden"),
    (["--seq-len", "0"], "seq_len"),
    (["--batch-size", "-2"], "batch_size"),
    (["--batch-size", "100000000"], "batch_size"),
    (["--batch-size", "0"], "batch_size"),
    (["--learning-rate", "nan"], "learning_rate"),
    (["--learning-rate", "-1"], "learning_rate"),
    (["--encoding", "bogus"], "encoding"),
    (["--fine-tune", "shakespeare-markov", "--weight", "nan"], "weight"),
    (["--fine-tune", "shakespeare-markov", "--weight", "-1"], "weight"),
    (["--max-steps", "0"], "max_steps"),
    (["--max-steps", "-5"], "max_steps"),
    (["--max-minutes", "nan"], "max_minutes"),
    (["--val-fraction", "1"], "val_fraction"),
    (["--model", "markov", "--order", "99"], "order"),
    (["--model", "markov", "--hidden", "64"], "hidden"),  # a flag of the other kind
    (["--weight", "2"], "weight"),
    (["--fine-tune", "shakespeare-markov", "--order", "2"], "order"),
    (["--hidden", "2048", "--batch-size", "4096", "--seq-len", "2048"], "batch_size"),  # 420 GB a step
]


@pytest.mark.parametrize("flags,name", BAD, ids=[" ".join(f) for f, _ in BAD])
def test_train_text_refuses_bad_options_up_front(flags, name, tmp_path, capsys):
    if "--fine-tune" in flags:
        from xmedia.pretrained import locate

        try:
            locate("shakespeare-markov")
        except Exception:
            pytest.skip("the zoo has no shakespeare-markov")
    data = corpus_path("text", "dickinson_poems_en.txt")
    out = tmp_path / "model"
    assert main(["train", "text", "--data", str(data), "-o", str(out), "--threads", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and (name in err or name.replace("_", "-") in err), err
    assert "became nan" not in err  # never "the loss became nan": the value is refused, not trained on
    assert not out.exists()


def test_train_text_fine_tunes_either_kind_and_keeps_the_flags_apart(tmp_path, capsys):
    data = corpus_path("text", "dickinson_poems_en.txt")
    common = ["--data", str(data), "--threads", "1"]
    assert main(["train", "text", *common, "--model", "markov", "--order", "2", "-o", str(tmp_path / "m")]) == 0
    assert main(["train", "text", *common, "--fine-tune", str(tmp_path / "m"), "--weight", "2",
                 "-o", str(tmp_path / "m2")]) == 0
    base, tuned = load(tmp_path / "m"), load(tmp_path / "m2")
    assert type(tuned) is MarkovText and tuned.order == 2 and not _same(base, tuned)
    assert "fine-tuned from" in tuned.card["description"] and (tmp_path / "m2" / "loss.png").exists()
    assert main(["train", "text", *common, "--hidden", "8", "--max-steps", "2", "--batch-size", "2", "--seq-len", "8",
                 "-o", str(tmp_path / "g")]) == 0
    assert main(["train", "text", *common, "--fine-tune", str(tmp_path / "g"), "--max-steps", "2", "--batch-size",
                 "2", "--seq-len", "8", "-o", str(tmp_path / "g2")]) == 0
    g, g2 = load(tmp_path / "g"), load(tmp_path / "g2")
    assert type(g2) is CharGRU and g2.gru.hidden_size == 8 and not _same(g, g2)
    assert g2.card["training"]["steps"] == 2 and g2.card["training"]["learning_rate"] == 1e-3  # fine-tune recipe
    capsys.readouterr()
    assert main(["train", "text", *common, "--fine-tune", str(tmp_path / "g"), "--model", "markov",
                 "-o", str(tmp_path / "x")]) == 2
    assert "--model" in capsys.readouterr().err and not (tmp_path / "x").exists()
