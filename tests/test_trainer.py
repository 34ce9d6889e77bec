"""The one trainer (``xmedia.trainer``) through a toy family that brings only its model, batches and loss."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.errors import ConfigError, LimitError, MediaError, WeightsError
from xmedia.process import Process
from xmedia.trainer import TrainingError, TrainResult, check_train_options

from toy_family import LineTask, ToyLine

TOY = Path(__file__).parent / "toy_family"


def points(slope=2.0, n=200):
    x = np.linspace(-1, 1, n)
    return np.stack([x, slope * x + 0.5], 1)


def test_a_new_family_is_its_model_batches_and_loss_in_under_150_lines():
    lines = sum(len(p.read_text().splitlines()) for p in TOY.iterdir() if p.suffix in (".py", ".json"))
    assert lines < 150


def test_fit_returns_one_train_result_holding_the_trained_process(tmp_path):
    model = ToyLine()
    result = model.fit(points(), report=tmp_path / "loss.png", progress=False)
    assert isinstance(result, TrainResult) and result.process is model
    assert abs(model.line.weight.item() - 2.0) < 0.05
    assert result.best_val - min(result.val_losses) <= result.options["min_delta"]  # smaller gains do not count
    assert result.stopped.startswith("early stop")
    assert result.options["learning_rate"] == 0.05  # from the recipe JSON
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert "abs_slope_error" in result.metrics


def test_the_best_held_out_state_is_restored():
    model = ToyLine()
    result = model.fit(points(slope=1.0), patience=None, max_steps=200, eval_every=10, learning_rate=0.01,
                       min_delta=0.0, progress=False)
    best = min(result.history, key=lambda h: h["val_loss"])
    assert result.best_step == best["step"]
    task = LineTask(model, points(slope=1.0), 0.0, 0.25)
    assert task.validate(model)[0] == pytest.approx(best["val_loss"], rel=1e-5)


def test_same_seed_same_weights_other_seed_other_weights():
    runs = [ToyLine() for _ in range(3)]
    for m, seed in zip(runs, (1, 1, 2)):
        torch.manual_seed(0)
        m.line.reset_parameters()
        m.fit(points(), seed=seed, max_steps=30, progress=False)
    assert torch.equal(runs[0].line.weight, runs[1].line.weight)
    assert not torch.equal(runs[0].line.weight, runs[2].line.weight)


def test_fine_tune_returns_a_changed_copy_that_saves_and_loads(tmp_path):
    base = ToyLine()
    base.fit(points(), progress=False)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = base.fine_tune(points(slope=3.0))
    assert tuned is not base and tuned.train_result.options["max_steps"] == 60  # the recipe's fine_tune section
    assert all(torch.equal(v, base.state_dict()[k]) for k, v in before.items())
    assert not torch.equal(tuned.line.weight, base.line.weight)
    tuned.save_pretrained(tmp_path / "tuned")
    again = Process.from_pretrained(tmp_path / "tuned")
    assert torch.equal(again.line.weight, tuned.line.weight)


@pytest.mark.parametrize("options, names", [
    (dict(learning_rate=float("nan")), "learning_rate"), (dict(learning_rate=-1), "learning_rate"),
    (dict(max_steps=0), "max_steps"), (dict(max_steps=-5), "max_steps"), (dict(max_steps=2.5), "max_steps"),
    (dict(max_minutes=float("nan")), "max_minutes"), (dict(max_minutes=-1), "max_minutes"),
    (dict(batch_size=0), "batch_size"), (dict(batch_size=10**9), "batch_size"), (dict(seed=-1), "seed"),
    (dict(patience=0), "patience"), (dict(schedule="sometimes"), "schedule"), (dict(learning_rte=1), "learning_rte"),
    (dict(noise=float("nan")), "noise"), (dict(holdout=1.0), "holdout"), (dict(lr=0.1), "lr"),
])
def test_bad_options_are_refused_before_any_work(options, names):
    model = ToyLine()
    before = model.line.weight.clone()
    with pytest.raises(ConfigError, match=names):
        model.fit(np.zeros((3, 3)), **options)  # the data is bad too: the options are checked first
    assert torch.equal(model.line.weight, before)


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**7))
def test_any_learning_rate_and_step_count_is_either_valid_or_a_config_error(lr, steps):
    try:
        o = check_train_options(dict(learning_rate=lr, max_steps=steps))
    except (ConfigError, LimitError):
        assert not (math.isfinite(lr) and lr > 0 and 1 <= steps <= 1_000_000)
    else:
        assert o["learning_rate"] == lr and o["max_steps"] == steps


class Exploding(LineTask):
    def loss(self, net, batch):
        loss = super().loss(net, batch)
        return loss * float("nan") if self.model.line.weight.grad is not None else loss


def test_a_loss_that_turns_nan_stops_with_the_weights_as_they_were(monkeypatch):
    model = ToyLine()
    before = model.line.weight.clone()
    monkeypatch.setattr(ToyLine, "training_task", lambda self, data, noise, holdout: Exploding(self, data, 0, .25))
    with pytest.raises(TrainingError, match="became nan at step 2"):
        model.fit(points(), progress=False)
    assert torch.equal(model.line.weight, before)


class Interrupted(LineTask):
    def batch(self, step, rng):
        if step == 150:
            raise KeyboardInterrupt
        return super().batch(step, rng)


def test_ctrl_c_restores_the_best_state_and_goes_on(monkeypatch):
    model = ToyLine()
    monkeypatch.setattr(ToyLine, "training_task", lambda self, data, noise, holdout: Interrupted(self, data, 0, .25))
    with pytest.raises(KeyboardInterrupt):
        model.fit(points(), patience=None, eval_every=10, progress=False)
    assert abs(model.line.weight.item() - 2.0) < 0.2 and not model.training


def test_weights_with_nan_are_never_saved_or_loaded(tmp_path):
    model = ToyLine()
    model.save_pretrained(tmp_path / "ok")
    with torch.no_grad():
        model.line.weight.fill_(float("nan"))
    with pytest.raises(WeightsError, match="NaN"):
        model.save_pretrained(tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    from safetensors.torch import save_file

    from xmedia.pretrained import WEIGHTS_NAME

    save_file(model.state_dict(), str(tmp_path / "ok" / WEIGHTS_NAME))
    cfg = (tmp_path / "ok" / "config.json").read_text()
    (tmp_path / "ok" / "config.json").write_text(cfg.replace('"sha256"', '"sha256_was"'))
    with pytest.raises(WeightsError, match="NaN"):
        Process.from_pretrained(tmp_path / "ok")


def test_save_pretrained_never_replaces_a_folder_of_other_files(tmp_path):
    docs = tmp_path / "docs"
    (docs / "photos").mkdir(parents=True)
    (docs / "thesis.doc").write_text("years of work")
    with pytest.raises(MediaError, match="no saved model"):
        ToyLine().save_pretrained(docs)
    assert (docs / "thesis.doc").read_text() == "years of work" and (docs / "photos").is_dir()
    model_dir = tmp_path / "m"
    ToyLine().save_pretrained(model_dir)
    ToyLine().save_pretrained(model_dir)  # a saved model is replaced, as diffusers does
    (model_dir / "notes.txt").write_text("mine")
    with pytest.raises(MediaError, match="notes.txt"):
        ToyLine().save_pretrained(model_dir)
    assert (model_dir / "notes.txt").read_text() == "mine"
