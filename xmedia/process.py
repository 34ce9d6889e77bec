"""Process: the base of every learned thing xmedia ships or trains (bridges, and timbre, text, style models).

A process is a small torch module that records its constructor arguments as ``config`` (diffusers'
``register_to_config`` idea), so ``save_pretrained(dir)`` writes ``config.json`` (tagged ``"kind": "process"``,
with the class, its module and the weights' sha256) + ``model.safetensors`` + ``README.md`` (model card), and
``Process.from_pretrained(dir)`` (or ``xmedia.load(dir)``) rebuilds the same class. ``fine_tune`` trains a
copy on new data, ``Process.blend(a, b, t)`` breeds two, and the zoo ships them. ``docs/processes.md`` is the
contract for adding one.

Two ways to call one, as diffusers keeps models and pipelines apart: ``process(tensor)`` is ``forward`` (for
training), ``process(embedding_or_media, **options)`` is ``run`` (what a route step calls; its keyword
parameters are the step's options).

Imports torch: only trainable code imports this module, so ``import xmedia`` stays light.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import formats
from .errors import ConfigError, WeightsError
from .pretrained import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, check_weights, locate, read_config

PROCESS_CLASSES: dict[str, type["Process"]] = {}
CARD_SECTIONS = ("description", "data", "objective", "metrics", "licence", "reproduce")


def _record_config(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if not hasattr(self, "config"):
            bound = inspect.signature(init).bind(self, *args, **kwargs)
            bound.apply_defaults()
            cfg = {k: v for k, v in bound.arguments.items() if k != "self"}
            if "kwargs" in cfg:
                cfg.update(cfg.pop("kwargs"))
            try:
                json.dumps(cfg)
            except TypeError as exc:
                raise ConfigError(f"{type(self).__name__} takes JSON-serialisable arguments only ({exc})") from None
            object.__setattr__(self, "config", cfg)
        init(self, *args, **kwargs)

    return wrapper


class Process(nn.Module):
    """Base class. Set ``src``/``dst`` (route nodes), implement ``forward`` on tensors and ``run`` on media.

    Subclasses that train implement ``fit(data, **options)``; ``card`` holds model-card fields (description,
    data, objective, metrics, licence, reproduce) written to README.md on save.
    """

    KIND = "process"
    src: str = ""
    dst: str = ""
    recipe: str | None = None  # the family's recipe JSON beside its module: the one source of training defaults

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "__init__" in cls.__dict__:
            cls.__init__ = _record_config(cls.__dict__["__init__"])
        PROCESS_CLASSES[cls.__name__] = cls

    def __init__(self):
        super().__init__()
        self.card: dict[str, Any] = {}

    # -- calling -----------------------------------------------------------------------------------------
    def __call__(self, x, *args, **options):
        if isinstance(x, torch.Tensor):
            return super().__call__(x, *args, **options)
        return self.run(x, *args, **options)

    def run(self, x, **options):
        """Media or an ``Embedding`` in, the ``dst`` node's object out (what a route step calls)."""
        raise NotImplementedError(f"{type(self).__name__} maps tensors only (forward); it defines no run()")

    # -- training and remixing ---------------------------------------------------------------------------
    @classmethod
    def training_defaults(cls, fine_tune: bool = False) -> dict[str, Any]:
        """The family's training defaults from its recipe JSON (``{"train": {...}, "fine_tune": {...}}``);
        with ``fine_tune``, the fine-tuning overrides on top. The API and the CLI both read this."""
        if cls.recipe is None:
            raise ConfigError(f"{cls.__name__} is not trainable (it names no recipe)")
        path = Path(sys.modules[cls.__module__].__file__).with_name(cls.recipe)
        recipe = json.loads(path.read_text())
        return {**recipe["train"], **(recipe.get("fine_tune", {}) if fine_tune else {})}

    @classmethod
    def check_training_options(cls, fine_tune: bool = False, **options) -> tuple[dict, dict]:
        """``(trainer options, family options)`` resolved over the recipe's defaults and checked before any
        work: an unknown name, NaN, a negative or out-of-range value is a ``ConfigError`` naming it."""
        from .trainer import check_train_options, split_options

        common_defaults, family_defaults = split_options(cls.training_defaults(fine_tune))
        common, family = split_options(options)
        unknown = sorted(set(family) - set(family_defaults))
        if unknown:
            raise ConfigError(f"{cls.__name__}.fit takes no option(s) {unknown}; it takes "
                              f"{sorted(set(common_defaults) | set(family_defaults) | {'report', 'progress'})}")
        resolved = check_train_options(common, common_defaults)
        return resolved, cls.check_family_options({**family_defaults, **family})

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        """The family's own options, checked (subclasses refuse their bad values here, before any work)."""
        return options

    def training_task(self, data, **family_options):
        """The family's pieces for ``xmedia.trainer.train``: a ``Task`` with its model, batches and loss."""
        raise NotImplementedError(f"{type(self).__name__} is not trainable (it defines no training_task())")

    def fit(self, data, fine_tune: bool = False, **options):
        """Train this process in place on ``data``; returns a ``xmedia.trainer.TrainResult`` holding it."""
        from .trainer import train

        common, family = self.check_training_options(fine_tune, **options)
        return train(self.training_task(data, **family), **common)

    def fine_tune(self, data, **options) -> "Process":
        """A copy trained further on ``data`` (this one is left as it is), with the recipe's fine-tuning
        defaults (a lower learning rate, fewer steps); its ``TrainResult`` is in ``.train_result``."""
        tuned = copy.deepcopy(self)
        tuned.train_result = tuned.fit(data, fine_tune=True, **options)
        return tuned

    def compatible(self, other: "Process") -> bool:
        """Same class, same config and same parameter shapes: the weights can be interpolated."""
        if type(self) is not type(other) or self.config != other.config:
            return False
        sa, sb = self.state_dict(), other.state_dict()
        return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)

    @staticmethod
    def blend(a: "Process", b: "Process", t: float = 0.5, mode: str = "auto") -> "Process":
        """A process between ``a`` (``t = 0``, a copy bit for bit) and ``b`` (``t = 1``), continuous in ``t``.

        ``mode="weights"`` (``auto`` picks it when the two are ``compatible``) interpolates every floating
        parameter and buffer; ``mode="outputs"`` asks the class to mix the two processes' outputs
        (``blend_outputs``, e.g. a ``BlendedBridge``)."""
        t = float(t)
        if not 0.0 <= t <= 1.0:
            raise ConfigError(f"blend t must be in [0, 1], got {t}")
        if mode == "auto":
            mode = "weights" if a.compatible(b) else "outputs"
        if mode == "weights":
            if not a.compatible(b):
                raise ConfigError(f"cannot interpolate the weights of {type(a).__name__}{a.config} and "
                                  f"{type(b).__name__}{b.config}: use mode='outputs'")
            out = copy.deepcopy(a if t < 1.0 else b)
            if 0.0 < t < 1.0:
                sb = b.state_dict()
                with torch.no_grad():
                    out.load_state_dict({k: (1 - t) * v + t * sb[k] if v.is_floating_point() else v.clone()
                                         for k, v in a.state_dict().items()})
        elif mode == "outputs":
            out = type(a).blend_outputs(a, b, t)
        else:
            raise ConfigError(f"blend mode must be 'auto', 'weights' or 'outputs', got {mode!r}")
        names = [x.card.get("title", type(x).__name__) for x in (a, b)]
        out.card = {**out.card, "description": f"blend of {names[0]} and {names[1]} at t={t} ({mode})"}
        return out.eval()

    @classmethod
    def blend_outputs(cls, a: "Process", b: "Process", t: float) -> "Process":
        raise ConfigError(f"{type(a).__name__} and {type(b).__name__} have different architectures and "
                          f"{cls.__name__} cannot mix their outputs; blend two models of the same config")

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- persistence -------------------------------------------------------------------------------------
    def save_pretrained(self, directory, card: dict | None = None) -> Path:
        """Write config.json, model.safetensors and README.md atomically into ``directory`` (a folder that
        holds anything but a saved model is refused, never replaced)."""
        from .model_folder import check_replaceable

        check_replaceable(directory)
        check_finite(self.state_dict(), type(self).__name__)
        return formats.save(self, directory, card=card)

    save = save_pretrained

    def write_pretrained(self, folder: Path, card: dict | None = None) -> None:
        """The files of ``save_pretrained``, written into an (empty, temporary) ``folder``."""
        from safetensors.torch import save_file

        card = {**self.card, **(card or {})}
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_NAME), metadata={"class": type(self).__name__})
        digest = hashlib.sha256((folder / WEIGHTS_NAME).read_bytes()).hexdigest()
        cfg = formats.tagged("process", {"class": type(self).__name__, "module": type(self).__module__,
                                         "src": self.src, "dst": self.dst, "config": self.config,
                                         "sha256": digest, "card": card})
        (folder / CONFIG_NAME).write_text(json.dumps(cfg, indent=2))
        (folder / CARD_NAME).write_text(model_card(type(self).__name__, self.src, self.dst, self.config, card))

    @classmethod
    def from_pretrained(cls, name_or_path, map_location: str = "cpu") -> "Process":
        """A saved process from its folder or from a zoo name (``"av-perceptual@1"``, see ``xmedia.pretrained``)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        directory = locate(name_or_path)
        cfg = read_config(directory)
        cfg_path = directory / CONFIG_NAME
        klass = process_class(cfg, cfg_path)
        if not issubclass(klass, cls):
            raise WeightsError(f"{directory} holds a {klass.__name__}, not a {cls.__name__}")
        w_path = check_weights(directory, cfg)
        try:
            model = klass(**cfg["config"])
        except (TypeError, ValueError) as exc:
            raise WeightsError(f"{cfg_path}: the config does not fit {klass.__name__} ({exc})") from None
        try:
            state = load_file(str(w_path), device=map_location)
        except (SafetensorError, OSError) as exc:
            raise WeightsError(f"{w_path} is not a valid safetensors file ({exc})") from None
        check_finite(state, str(w_path))
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise WeightsError(f"{w_path} does not match {klass.__name__}{cfg['config']}: {exc}".split("\n\t")[0]) from None
        model.card = dict(cfg.get("card") or {})
        return model.eval()

    load = from_pretrained


def check_finite(state: dict, what: str) -> None:
    """Weights with NaN or inf are an error, on saving and on loading: they only ever give garbage."""
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise WeightsError(f"{what} has NaN or infinite weights ({', '.join(bad[:4])}"
                           f"{', ...' if len(bad) > 4 else ''}); retrain it (e.g. with a lower learning_rate)")


def load(name_or_path, map_location: str = "cpu") -> Process:
    """Any saved process, by folder or zoo name."""
    return Process.from_pretrained(name_or_path, map_location)


def process_class(cfg: dict, where) -> type[Process]:
    """The class a saved config names; its module (recorded beside it) is imported when not yet loaded."""
    name = cfg.get("class", "")
    if name not in PROCESS_CLASSES and cfg.get("module"):
        try:
            import_module(cfg["module"])
        except ImportError as exc:
            raise WeightsError(f"{where} needs module {cfg['module']!r}, which cannot be imported ({exc})") from None
    if name not in PROCESS_CLASSES:
        raise WeightsError(f"{where} names unknown process class {name!r}; import the module that defines it")
    return PROCESS_CLASSES[name]


def model_card(name: str, src: str, dst: str, config: dict, card: dict) -> str:
    lines = [f"# {card.get('title', name)}", "", f"Process `{name}`: `{src}` -> `{dst}`.", ""]
    for key in CARD_SECTIONS:
        if key in card:
            value = card[key]
            if isinstance(value, dict):
                value = "\n".join(f"- {k}: {v}" for k, v in value.items())
            lines += [f"## {key.capitalize()}", "", str(value), ""]
    lines += ["## Config", "", "```json", json.dumps(config, indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)
