"""Find and read saved processes without torch: by folder, or by a name a zoo knows (``"violin"``, ``"av-perceptual@1"``).

A saved process is a folder with ``config.json`` (tagged ``"kind": "process"``) and ``model.safetensors``
(see ``xmedia.process``). Any layer may name one: ``locate(name_or_path)`` asks each zoo registered in the
``xmedia.zoos`` entry-point group (the shipped one is ``xmedia.zoo``; a zoo module defines
``locate(name) -> Path | None`` and ``list() -> list[str]``), so an adapter can take ``timbre="violin"`` without
depending on the zoo: it names a process, this core service finds whichever installed zoo has it, and with no
zoo the adapter gets a ``WeightsError`` it can fall back from (tests/test_architecture.py checks that no lower
layer reads the group itself or picks a zoo by name). ``load_arrays`` reads the weights as numpy arrays,
checked against the sha256 in the config, for processes small enough to run without torch.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .errors import WeightsError
from .plugins import entry_modules, import_plugins

ZOO_GROUP = "xmedia.zoos"
WEIGHTS_NAME, CONFIG_NAME, CARD_NAME = "model.safetensors", "config.json", "README.md"


def zoos() -> list:
    """The zoo modules registered in the ``xmedia.zoos`` entry-point group, in name order."""
    return import_plugins(entry_modules(ZOO_GROUP), "the saved processes")


def is_saved_process(path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / CONFIG_NAME).is_file()


def locate(name_or_path) -> Path:
    """The folder of a saved process: ``name_or_path`` itself when it is one, else the zoo entry of that name."""
    p = Path(name_or_path)
    if is_saved_process(p):
        return p
    if p.exists():
        raise WeightsError(f"{p} is not a saved process: it needs {CONFIG_NAME} and {WEIGHTS_NAME} "
                           "(write one with process.save_pretrained(dir) or an `xmedia train` command)")
    names = []
    for zoo in zoos():
        found = zoo.locate(str(name_or_path))
        if found is not None:
            return Path(found)
        names += zoo.list()
    raise WeightsError(f"{name_or_path!r} is neither a saved process folder nor a zoo name; "
                       f"the zoo has: {', '.join(names) or 'nothing'}")


def read_config(folder) -> dict:
    """``config.json`` of a saved process (class, module, config, sha256, card)."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise WeightsError(f"{folder} is not a saved process: {CONFIG_NAME} is missing")
    try:
        cfg = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path} is not valid JSON ({exc}); re-save the process") from None
    if not isinstance(cfg, dict) or cfg.get("kind", "process") != "process" or "class" not in cfg:
        raise WeightsError(f"{path} is not a process config (no \"kind\": \"process\" with a class); re-save it")
    return cfg


def check_weights(folder, cfg: dict) -> Path:
    """The weights file, after checking its sha256 against the one recorded in the config."""
    path = Path(folder) / WEIGHTS_NAME
    if not path.is_file():
        raise WeightsError(f"{folder} is not a saved process: {WEIGHTS_NAME} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if cfg.get("sha256") and digest != cfg["sha256"]:
        raise WeightsError(f"{path} is corrupt or was replaced: sha256 {digest[:12]}... does not match "
                           f"{cfg['sha256'][:12]}... recorded in {CONFIG_NAME}; re-download or re-save it")
    return path


def load_arrays(name_or_path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(config, {tensor name: numpy array})`` of a saved process, without importing torch."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = locate(name_or_path)
    cfg = read_config(folder)
    path = check_weights(folder, cfg)
    try:
        return cfg, load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path} is not a valid safetensors file ({exc})") from None
