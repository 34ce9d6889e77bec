"""One trainer for every learned process: a family brings its model, batches and loss (a ``Task``); the trainer
brings the rest.

What the trainer does, the same for every family (timbre, style, text, visual onsets, bridges, the next one):
checked options before any work (``check_train_options``), seeding, a local or data-parallel runner
(``xmedia.scale``), progress (tqdm on a terminal, a line every ~10 % elsewhere), step, epoch and time limits,
held-out evaluation every ``eval_every`` steps, early stopping with the best state restored, a loss that turns
NaN stopping the run with a clear error (the model's weights as they were before), Ctrl-C / SIGTERM restoring
the best state before the interrupt goes on (nothing half-trained is ever saved), and one ``TrainResult`` that
holds the trained process, its history and the loss PNG (``plot_history``).

A family's ``Process`` subclass sets ``training_defaults`` (read from its recipe JSON, the one source of
defaults for the API and the CLI) and ``training_task(data, **family_options) -> Task``; ``Process.fit`` and
``Process.fine_tune`` then work through ``train`` (see ``xmedia.process``).

Imports torch: only training code imports this module.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ConfigError, XMediaError
from .limits import check

# The options every family shares: one name each, in the API and on the command line (``--learning-rate``...).
COMMON_DEFAULTS: dict[str, Any] = dict(
    learning_rate=1e-3, max_steps=1000, max_minutes=None, max_epochs=None, batch_size=16, seed=0,
    eval_every=100, patience=None, min_delta=1e-4, weight_decay=0.0, warmup_steps=0, schedule="constant",
    clip_grad_norm=None, restore_best=True, progress=None, report=None, distributed=None,
)
SCHEDULES = ("constant", "cosine", "exponential")
PROGRESS_LINES = 10  # off a terminal: about this many progress lines per run


class TrainingError(XMediaError):
    """Training could not go on (the loss became NaN/inf); the process keeps the weights it had before."""


@dataclass
class TrainResult:
    """What every ``fit`` returns: the trained process (best held-out state restored) and how it got there."""

    process: Any
    history: list[dict] = field(default_factory=list)  # one row per evaluation: step, train_loss, val_loss, ...
    best_step: int = 0
    best_val: float = float("inf")
    steps: int = 0
    seconds: float = 0.0
    stopped: str = ""
    seed: int = 0
    metrics: dict[str, float] = field(default_factory=dict)  # held-out numbers of the final (restored) process
    options: dict[str, Any] = field(default_factory=dict)  # the options it ran with, defaults included
    extra: dict[str, Any] = field(default_factory=dict)  # what a family adds (split, skipped files, curves...)
    report_path: Path | None = None
    loss_name: str = "loss"
    curves: tuple = ()  # the family's (metric, chance) keys the loss PNG draws

    @property
    def train_losses(self) -> list[float]:
        return [h["train_loss"] for h in self.history]

    @property
    def val_losses(self) -> list[float]:
        return [h["val_loss"] for h in self.history]

    def summary(self) -> str:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items() if isinstance(v, (int, float)))
        return (f"{type(self.process).__name__}: {self.steps} steps in {self.seconds / 60:.1f} min ({self.stopped}); "
                f"best held-out {self.loss_name} {self.best_val:.4f} at step {self.best_step}"
                + (f"; {shown}" if shown else ""))


class Task:
    """A family's pieces. Required: ``model``, ``batch(step, rng)`` and ``loss(net, batch)``.

    Optional: ``setup(runner)`` (split data once the runner is known), ``validate(model) -> float | (float,
    dict)`` (held-out loss, lower is better, and metrics; default: the running training loss),
    ``parameters()``, ``optimizer(params, options)``, ``steps_per_epoch`` (for ``max_epochs``),
    ``finish(result)`` (after the best state is restored: thresholds, card fields), ``loss_name`` and
    ``curves`` (metric keys, with their chance keys, that the loss PNG draws)."""

    model: Any = None
    loss_name: str = "loss"
    curves: tuple[tuple[str, str | None], ...] = ()
    steps_per_epoch: int | None = None
    options: dict[str, Any] = {}  # the resolved trainer options (batch_size, seed...): ``train`` sets them first

    def setup(self, runner) -> None:
        pass

    def batch(self, step: int, rng: np.random.Generator):
        raise NotImplementedError

    def loss(self, net, batch) -> torch.Tensor:
        raise NotImplementedError

    def validate(self, model):
        return None

    def parameters(self):
        return [p for p in self.model.parameters() if p.requires_grad]

    def optimizer(self, params, options: dict) -> torch.optim.Optimizer:
        return torch.optim.AdamW(params, lr=options["learning_rate"], weight_decay=options["weight_decay"])

    def finish(self, result: TrainResult) -> None:
        pass

    def describe(self) -> str:
        return type(self.model).__name__


# ------------------------------------------------------------------------------------------------ options
def _number(name: str, value, *, integer: bool = False, low: float | None = None, low_open: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if integer and float(value) != int(value):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    return int(value) if integer else float(value)


def check_train_options(options: dict, defaults: dict | None = None) -> dict:
    """The trainer's options merged over ``defaults`` and checked before any work: unknown names, NaN, negative
    and out-of-range values are ``ConfigError``s naming the option; sizes are checked against
    ``xmedia.limits``. Returns the resolved options."""
    base = {**COMMON_DEFAULTS, **(defaults or {})}
    unknown = sorted(set(options) - set(COMMON_DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown training option(s) {unknown}; the trainer takes {sorted(COMMON_DEFAULTS)}")
    o = {**base, **{k: v for k, v in options.items() if v is not None or k in ("max_minutes", "patience")}}
    o["learning_rate"] = _number("learning_rate", o["learning_rate"], low=0, low_open=True)
    o["max_steps"] = _number("max_steps", o["max_steps"], integer=True, low=1)
    check("train_steps", o["max_steps"], "max_steps")
    for name in ("max_minutes", "max_epochs"):
        if o[name] is not None:
            o[name] = _number(name, o[name], integer=name == "max_epochs", low=0, low_open=True)
    if o["max_epochs"] is not None:
        check("train_steps", o["max_epochs"], "max_epochs")
    if o["max_minutes"] is not None:
        check("train_minutes", o["max_minutes"], "max_minutes")
    o["batch_size"] = _number("batch_size", o["batch_size"], integer=True, low=1)
    check("batch_size", o["batch_size"], "batch_size")
    o["seed"] = _number("seed", o["seed"], integer=True, low=0)
    o["eval_every"] = _number("eval_every", o["eval_every"], integer=True, low=1)
    if o["patience"] is not None:
        o["patience"] = _number("patience", o["patience"], integer=True, low=1)
    o["min_delta"] = _number("min_delta", o["min_delta"], low=0)
    o["weight_decay"] = _number("weight_decay", o["weight_decay"], low=0)
    o["warmup_steps"] = _number("warmup_steps", o["warmup_steps"], integer=True, low=0)
    if o["clip_grad_norm"] is not None:
        o["clip_grad_norm"] = _number("clip_grad_norm", o["clip_grad_norm"], low=0, low_open=True)
    if o["schedule"] not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {SCHEDULES}, got {o['schedule']!r}")
    return o


def split_options(options: dict) -> tuple[dict, dict]:
    """``(trainer options, family options)``: the common names go to the trainer, the rest to the family."""
    common = {k: v for k, v in options.items() if k in COMMON_DEFAULTS}
    return common, {k: v for k, v in options.items() if k not in COMMON_DEFAULTS}


def learning_rate_at(o: dict, step: int, frac: float) -> float:
    """Warm-up, then the schedule; ``frac`` is how far the run is (steps or time, whichever is further)."""
    warm = min(1.0, step / o["warmup_steps"]) if o["warmup_steps"] else 1.0
    frac = min(max(frac, 0.0), 1.0)
    if o["schedule"] == "cosine":
        shape = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))
    elif o["schedule"] == "exponential":
        shape = 0.1 ** frac
    else:
        shape = 1.0
    return o["learning_rate"] * warm * shape


# ------------------------------------------------------------------------------------------------ progress
class Progress:
    """tqdm on a terminal; off one, a plain line every ~10 % of the run (logs and CI see that it moves)."""

    def __init__(self, total: int, desc: str, show: bool | None, main: bool = True):
        self.total, self.desc, self.bar, self.lines = total, desc, None, show is None and not sys.stderr.isatty()
        self.next_line, self.t0 = 0, time.perf_counter()
        if not main:
            self.lines = False
        elif show or (show is None and sys.stderr.isatty()):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step")

    def update(self, step: int, **values) -> None:
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            if values:
                self.bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()})
        elif self.lines and step >= self.next_line:
            self.next_line = step + max(1, self.total // PROGRESS_LINES)
            shown = " ".join(f"{k} {v:.3f}" for k, v in values.items())
            print(f"{self.desc}: step {step}/{self.total} ({time.perf_counter() - self.t0:.0f} s) {shown}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ------------------------------------------------------------------------------------------------ the loop
def _snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _validate(task: Task, model, running: float) -> tuple[float, dict]:
    was = model.training
    model.eval()
    with torch.no_grad():
        got = task.validate(model)
    model.train(was)
    if got is None:
        return running, {}
    return (float(got[0]), dict(got[1])) if isinstance(got, tuple) else (float(got), {})


def train(task: Task, defaults: dict | None = None, **options) -> TrainResult:
    """Train ``task.model`` in place and return a ``TrainResult`` holding it (best held-out state restored)."""
    from .scale import runner as make_runner

    o = check_train_options(options, defaults)
    task.options = o
    model = task.model
    torch.manual_seed(o["seed"])
    runner = make_runner(o["distributed"])
    rng = np.random.default_rng(o["seed"] + runner.process_index)
    t0 = time.perf_counter()
    task.setup(runner)
    params = task.parameters()
    if not params:
        raise ConfigError("every parameter is frozen: nothing to train")
    optimizer = task.optimizer(params, o)
    net, optimizer = runner.prepare(model, optimizer)
    initial = _snapshot(model)
    max_steps = o["max_steps"]
    if o["max_epochs"] is not None and task.steps_per_epoch:
        max_steps = min(max_steps, o["max_epochs"] * task.steps_per_epoch)
    limit_s = None if o["max_minutes"] is None else 60.0 * o["max_minutes"]
    eval_every = min(o["eval_every"], task.steps_per_epoch or o["eval_every"], max_steps)
    result = TrainResult(model, seed=o["seed"], options=o, loss_name=task.loss_name, curves=tuple(task.curves))
    best_state, wait, running, count = None, 0, 0.0, 0
    progress = Progress(max_steps, f"train {task.describe()}", o["progress"], runner.is_main)
    step = 0
    try:
        for step in range(1, max_steps + 1):
            elapsed = runner.max(time.perf_counter() - t0)  # one clock for every process: one learning rate
            lr = learning_rate_at(o, step, max(step / max_steps, elapsed / limit_s if limit_s else 0.0))
            for group in optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            model.train()
            loss = task.loss(net, task.batch(step, rng))
            if not torch.isfinite(loss):
                model.load_state_dict(initial)
                raise TrainingError(f"the {task.loss_name} became {float(loss)} at step {step}; training stopped "
                                    f"and nothing was saved. Lower learning_rate (now {o['learning_rate']:g}) or "
                                    "check the data for NaN/silent/constant inputs")
            optimizer.zero_grad(set_to_none=True)
            runner.backward(loss)
            if o["clip_grad_norm"]:
                torch.nn.utils.clip_grad_norm_(params, o["clip_grad_norm"])
            optimizer.step()
            value = float(loss.detach())
            count += 1
            running = value if count == 1 else 0.9 * running + 0.1 * value
            out_of_time = runner.any(limit_s is not None and time.perf_counter() - t0 >= limit_s)
            last = step == max_steps or out_of_time
            if step % eval_every == 0 or last:
                val, metrics = _validate(task, runner.unwrap(net), running)
                if not math.isfinite(val):
                    model.load_state_dict(initial)
                    raise TrainingError(f"the held-out {task.loss_name} became {val} at step {step}; training "
                                        f"stopped and nothing was saved. Lower learning_rate "
                                        f"(now {o['learning_rate']:g})")
                result.history.append({"step": step, "train_loss": running, "val_loss": val,
                                       "seconds": time.perf_counter() - t0, **metrics})
                if val < result.best_val - o["min_delta"]:
                    result.best_val, result.best_step, wait = val, step, 0
                    best_state = _snapshot(model)
                    result.metrics = metrics
                else:
                    wait += 1
                if o["patience"] is not None and wait >= o["patience"]:
                    result.stopped = f"early stop: no better held-out {task.loss_name} in {o['patience']} checks"
                    break
            progress.update(step, loss=running)
            if out_of_time:
                result.stopped = f"time limit {o['max_minutes']:g} min"
                break
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (the CLI raises it): the model goes back to its best state
        model.load_state_dict(best_state if best_state is not None and o["restore_best"] else initial)
        model.eval()
        raise
    finally:
        progress.close()
    result.steps = step
    result.stopped = result.stopped or (f"{max_steps} steps" if max_steps == o["max_steps"]
                                        else f"{o['max_epochs']} epochs")
    if best_state is not None and o["restore_best"]:
        model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - t0
    task.finish(result)
    if o["report"] is not None and runner.is_main:
        result.report_path = plot_history(result, o["report"], result.curves)
    return result


# ------------------------------------------------------------------------------------------------ report
def plot_history(result: TrainResult, path, curves=()) -> Path:
    """The loss PNG: training and held-out loss against the step, the best step marked; a second panel with
    the family's held-out metrics and their chance level, where it names some."""
    from .report import pyplot, save_figure

    plt = pyplot()
    h = result.history
    shown = [(k, c) for k, c in curves if h and k in h[-1]]
    fig, axes = plt.subplots(1, 2 if shown else 1, figsize=(10 if shown else 6.5, 3.8), squeeze=False)
    ax = axes[0, 0]
    steps = [r["step"] for r in h]
    ax.plot(steps, [r["train_loss"] for r in h], label="training (smoothed)")
    ax.plot(steps, [r["val_loss"] for r in h], marker="o", ms=3, label="held out")
    if h:
        ax.axvline(result.best_step, color="0.5", ls="--", lw=0.8, label=f"best (step {result.best_step})")
    ax.set(xlabel="step", ylabel=result.loss_name,
           title=f"{type(result.process).__name__}: {result.steps} steps, {result.seconds / 60:.1f} min")
    ax.legend(fontsize=8)
    if shown:
        bx = axes[0, 1]
        for key, chance in shown:
            line, = bx.plot(steps, [r[key] for r in h], label=f"held-out {key}")
            if chance and chance in h[-1]:
                bx.axhline(h[-1][chance], ls=":", lw=1, color=line.get_color(), label=chance)
        bx.set(xlabel="step", title="held-out metrics")
        bx.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
