"""``xmedia train NAME``: one command shape for every trainable family, over ``xmedia.trainer``.

A family declares a ``ProcessTrainer``: its process class (a ``"module:Class"`` reference, imported only when
the verb runs), what ``--data`` takes, and its own flags (``TrainFlag``: a training option of its recipe, or a
constructor argument of the model). Every trainer then has the same common flags, with the same names as the
API (``--learning-rate``, ``--max-steps``, ``--max-minutes``, ``--batch-size``, ``--seed``, ``--fine-tune``,
``--force``, ``--report``), defaults read from the family's recipe JSON (the one source the API reads too),
the destination checked before any work (``xmedia.model_folder``: a trainer never destroys data), every
option checked before any work, and the same way of saving: model card, then the loss PNG inside the folder.
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from importlib import import_module, util
from pathlib import Path
from typing import Any, Callable

from xmedia.errors import ConfigError

from . import Trainer

COMMON_FLAGS = (  # (option, type, help): the trainer's shared options, same names as the Python API
    ("learning_rate", float, "peak learning rate"),
    ("max_steps", int, "training steps at most"),
    ("max_minutes", float, "wall-clock budget in minutes"),
    ("batch_size", int, "items per training step"),
    ("seed", int, "random seed (same seed, same model)"),
)


@dataclass(frozen=True)
class TrainFlag:
    """A family's own flag: ``target="fit"`` a training option (its default in the recipe JSON), ``"model"`` a
    constructor argument (its default in the class signature)."""

    name: str
    type: Callable = str
    help: str = ""
    choices: tuple | None = None
    target: str = "fit"
    default: Any = None  # constructor arguments only: shown in --help and used when the flag is not given
    option: str = ""  # the option's name where it is not the flag's (``--style-image`` sets ``style``)


@dataclass(frozen=True)
class ProcessTrainer:
    name: str
    help: str
    process: str  # "xmedia.adapters.timbre.model:Timbre"
    data_help: str
    flags: tuple[TrainFlag, ...] = ()
    threads: int | None = None  # torch threads by default (small models train faster on one)
    build: Callable | None = None  # (args, model_options) -> Process; default: the class with model_options
    card: Callable | None = None  # (args, result) -> extra model-card fields
    after_save: Callable | None = None  # (args, result, out) -> list of further files written
    unused: tuple[str, ...] = ()  # common options the family does not take: no such flag (giving one is an error)
    data_required: bool = True  # False where the recipe has data of its own

    def as_trainer(self) -> Trainer:
        return Trainer(self.name, self.help, self.add_arguments, self.run)

    # -- flags ---------------------------------------------------------------------------------------------
    def defaults(self) -> dict:
        """The recipe JSON's training defaults, read without importing the family (so --help stays light):
        the file the class's ``recipe = "..."`` names, beside its module."""
        module, _, cls = self.process.partition(":")
        origin = Path(util.find_spec(module).origin)
        for node in ast.walk(ast.parse(origin.read_text())):
            if isinstance(node, ast.ClassDef) and node.name == cls:
                for item in node.body:
                    if (isinstance(item, (ast.Assign, ast.AnnAssign)) and isinstance(item.value, ast.Constant)
                            and "recipe" in [t.id for t in getattr(item, "targets", [getattr(item, "target", None)])
                                             if isinstance(t, ast.Name)]):
                        return json.loads(origin.with_name(item.value.value).read_text())["train"]
        return {}

    def add_arguments(self, p) -> None:
        d = self.defaults()
        p.add_argument("--data", required=self.data_required, nargs="+", help=self.data_help)
        p.add_argument("-o", "--output", required=True, help="new folder to save the model in")
        p.add_argument("--fine-tune", metavar="NAME|DIR", help="train further from a saved model or zoo name")
        p.add_argument("--force", action="store_true", help="replace the saved model already in --output")
        for name, kind, text in self.common_flags():
            shown = d.get(name)
            p.add_argument("--" + name.replace("_", "-"), type=kind,
                           help=f"{text} (default {shown if shown is not None else 'none'})")
        for f in self.flags:
            shown = d.get(f.option or f.name) if f.target == "fit" else f.default
            p.add_argument("--" + f.name.replace("_", "-"), type=f.type, choices=f.choices,
                           help=f"{f.help} (default {shown})")
        p.add_argument("--threads", type=int, default=self.threads,
                       help=f"torch threads (default {self.threads or 'all cores'})")
        p.add_argument("--report", help="loss-curve PNG (default OUTPUT/loss.png)")
        p.add_argument("--progress", action="store_true", default=None,
                       help="progress bars (default: on a terminal; elsewhere a line every ~10 %%)")

    def common_flags(self) -> tuple:
        return tuple(f for f in COMMON_FLAGS if f[0] not in self.unused)

    def options(self, args) -> tuple[dict, dict]:
        """``(fit options, model options)`` the user gave; the rest come from the recipe and the class."""
        fit = {n: getattr(args, n) for n, _, _ in self.common_flags() if getattr(args, n) is not None}
        model = {f.name: f.default for f in self.flags if f.target == "model" and f.default is not None}
        for f in self.flags:
            value = getattr(args, f.name)
            if value is not None:
                (fit if f.target == "fit" else model)[f.option or f.name] = value
        return fit, model

    # -- run -----------------------------------------------------------------------------------------------
    def klass(self):
        module, _, cls = self.process.partition(":")
        return getattr(import_module(module), cls)

    def start(self, args, klass) -> tuple[dict, dict, Any, Path]:
        """What every trainer does first, before any work: torch threads, the options given, the data and
        the destination checked (``xmedia.model_folder``)."""
        import torch

        from xmedia.model_folder import check_model_output

        if args.threads is not None:
            if args.threads < 1:
                raise ConfigError(f"--threads must be >= 1, got {args.threads}")
            torch.set_num_threads(args.threads)
        fit, model_options = self.options(args)
        given = list(args.data or [])
        out = check_model_output(args.output, given, force=args.force,
                                 class_names=[c.__name__ for c in _family(klass)])
        data = None if not given else given[0] if len(given) == 1 else given
        return fit, model_options, data, out

    def run(self, args) -> int:
        from xmedia.scale import is_main_process
        from xmedia.trainer import plot_history

        klass = self.klass()
        fit, model_options, data, out = self.start(args, klass)
        klass.check_training_options(fine_tune=bool(args.fine_tune), **fit)  # every option, before any work
        fit["progress"] = args.progress
        if args.fine_tune:
            base = load_family_model(args.fine_tune, klass, self.name)
            model = base.fine_tune(data, **fit)
            result = model.train_result
        else:
            model = self.build(args, model_options) if self.build else klass(**model_options)
            result = model.fit(data, **fit)
        if not is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
            return 0
        card = {"title": out.name, "description": f"{self.name} model trained with `xmedia train {self.name}`"
                + (f", fine-tuned from {args.fine_tune}" if args.fine_tune else ""),
                "data": ", ".join(map(str, args.data)),
                "metrics": {f"held-out {k}": round(v, 4) for k, v in result.metrics.items()
                            if isinstance(v, (int, float))} | {f"best held-out {result.loss_name}":
                                                               round(result.best_val, 4)},
                "training": {k: v for k, v in result.options.items()
                             if k not in ("progress", "report", "distributed")}
                | {"steps": result.steps, "minutes": round(result.seconds / 60, 2), "stopped": result.stopped},
                "reproduce": f"xmedia train {self.name} " + " ".join(sys.argv[3:])}
        card.update(self.card(args, result) if self.card else {})
        model.save_pretrained(out, card={**getattr(model, "card", {}), **card})
        report = plot_history(result, args.report or out / "loss.png", result.curves)
        more = self.after_save(args, result, out) if self.after_save else []
        print(result.summary())
        print(f"wrote {out} (loss curve: {report}{''.join(f', {m}' for m in more)})")
        return 0


def _family(klass) -> list[type]:
    """The classes a trainer's output folder may already hold: the class, its bases up to ``Process``
    (exclusive) and their subclasses."""
    from xmedia.process import Process

    roots = [c for c in klass.__mro__ if isinstance(c, type) and issubclass(c, Process) and c is not Process]
    top = roots[-1] if roots else klass
    found, todo = [], [top]
    while todo:
        c = todo.pop()
        found.append(c)
        todo += c.__subclasses__()
    return found


def load_family_model(name_or_path, klass, trainer: str):
    """A saved model or zoo entry to fine-tune, refused unless it is of this trainer's family."""
    from xmedia.process import Process

    model = Process.from_pretrained(name_or_path)
    if not isinstance(model, tuple(_family(klass))):
        raise ConfigError(f"--fine-tune {name_or_path} is a {type(model).__name__}, not a model that "
                          f"`xmedia train {trainer}` trains")
    return model
