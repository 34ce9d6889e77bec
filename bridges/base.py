"""Bridge: a torch module from one space to another (or to a decoder's controls), saved like diffusers models.

Subclasses take only JSON-serialisable constructor arguments; the constructor records them as ``config``
(diffusers' ``register_to_config`` idea), so ``save_pretrained(dir)`` writes ``config.json`` +
``model.safetensors`` + ``README.md`` (model card) and ``Bridge.from_pretrained(dir)`` rebuilds the same class.
The weights file's sha256 is stored in the config and checked on load.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

from torch import nn

from xmedia.atomic import atomic_dir
from xmedia.errors import WeightsError

BRIDGE_CLASSES: dict[str, type["Bridge"]] = {}
WEIGHTS_NAME, CONFIG_NAME, CARD_NAME = "model.safetensors", "config.json", "README.md"


def _record_config(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if not hasattr(self, "config"):
            bound = inspect.signature(init).bind(self, *args, **kwargs)
            bound.apply_defaults()
            cfg = {k: v for k, v in bound.arguments.items() if k != "self"}
            if "kwargs" in cfg:
                cfg.update(cfg.pop("kwargs"))
            json.dumps(cfg)  # constructor arguments must be JSON-serialisable
            object.__setattr__(self, "config", cfg)
        init(self, *args, **kwargs)

    return wrapper


class Bridge(nn.Module):
    """Base class. Set ``src``/``dst`` (route nodes) and implement ``forward`` on tensors.

    ``card`` holds model-card fields (data, objective, metrics, licence) written to README.md on save.
    """

    src: str = "space:perceptual"
    dst: str = "space:perceptual"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "__init__" in cls.__dict__:
            cls.__init__ = _record_config(cls.__dict__["__init__"])
        BRIDGE_CLASSES[cls.__name__] = cls

    def __init__(self):
        super().__init__()
        self.card: dict[str, Any] = {}

    # -- persistence -------------------------------------------------------------------------------------
    def save_pretrained(self, directory, card: dict | None = None) -> Path:
        """Write config.json, model.safetensors and README.md atomically into ``directory``."""
        from safetensors.torch import save_file

        directory = Path(directory)
        card = {**self.card, **(card or {})}
        with atomic_dir(directory) as tmp:
            state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
            save_file(state, str(tmp / WEIGHTS_NAME), metadata={"class": type(self).__name__})
            digest = hashlib.sha256((tmp / WEIGHTS_NAME).read_bytes()).hexdigest()
            cfg = {"class": type(self).__name__, "src": self.src, "dst": self.dst, "config": self.config,
                   "sha256": digest, "card": card}
            (tmp / CONFIG_NAME).write_text(json.dumps(cfg, indent=2, sort_keys=True))
            (tmp / CARD_NAME).write_text(model_card(type(self).__name__, self.src, self.dst, self.config, card))
        return directory

    save = save_pretrained

    @classmethod
    def from_pretrained(cls, directory, map_location: str = "cpu") -> "Bridge":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        directory = Path(directory)
        cfg_path, w_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
        if not cfg_path.is_file() or not w_path.is_file():
            raise WeightsError(
                f"{directory} is not a saved bridge: it needs {CONFIG_NAME} and {WEIGHTS_NAME} "
                "(write one with bridge.save_pretrained(dir))"
            )
        try:
            cfg = json.loads(cfg_path.read_text())
        except json.JSONDecodeError as exc:
            raise WeightsError(f"{cfg_path} is not valid JSON ({exc}); re-save the bridge") from None
        klass = BRIDGE_CLASSES.get(cfg.get("class", ""))
        if klass is None:
            raise WeightsError(f"{cfg_path} names unknown bridge class {cfg.get('class')!r}; import the module that defines it")
        if cls is not Bridge and not issubclass(klass, cls):
            raise WeightsError(f"{directory} holds a {klass.__name__}, not a {cls.__name__}")
        digest = hashlib.sha256(w_path.read_bytes()).hexdigest()
        if cfg.get("sha256") and digest != cfg["sha256"]:
            raise WeightsError(f"{w_path} is corrupt or was replaced: sha256 {digest[:12]}... does not match "
                               f"{cfg['sha256'][:12]}... recorded in {CONFIG_NAME}; re-download or re-save it")
        model = klass(**cfg["config"])
        try:
            state = load_file(str(w_path), device=map_location)
        except (SafetensorError, OSError) as exc:
            raise WeightsError(f"{w_path} is not a valid safetensors file ({exc})") from None
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise WeightsError(f"{w_path} does not match {klass.__name__}{cfg['config']}: {exc}".split("\n\t")[0]) from None
        model.card = dict(cfg.get("card") or {})
        model.eval()
        return model

    load = from_pretrained

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def model_card(name: str, src: str, dst: str, config: dict, card: dict) -> str:
    lines = [f"# {card.get('title', name)}", "", f"Bridge `{name}`: `{src}` -> `{dst}`.", ""]
    for key in ("description", "data", "objective", "metrics", "licence", "reproduce"):
        if key in card:
            value = card[key]
            if isinstance(value, dict):
                value = "\n".join(f"- {k}: {v}" for k, v in value.items())
            lines += [f"## {key.capitalize()}", "", str(value), ""]
    lines += ["## Config", "", "```json", json.dumps(config, indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)

