"""Where a trained model may be written, checked before any work: a trainer never destroys a user's files.

A saved process is a folder (``config.json``, ``model.safetensors``, ``README.md``, and the trainer's
``loss.png`` / ``report.png``). Writing one replaces the folder as a whole (atomically), so the rules are:

- a folder that does not exist yet, or an empty one: written;
- a folder that holds a saved process and nothing but the files a save writes: replaced only when asked
  (``force=True``, ``xmedia train ... --force``; the Python API's ``save_pretrained`` replaces it, as
  diffusers' does), and on the command line only by a model of the same family;
- anything else is refused: an existing file, a folder with other files in it (``-o ~/Documents``), the
  current folder or one above it, a folder equal to, inside or around the training data, a place that
  cannot be written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ConfigError, MediaError
from .paths import existing_path, split_weight

MODEL_FILES = frozenset({"config.json", "model.safetensors", "README.md", "loss.png", "report.png"})


def saved_class(folder: Path) -> str | None:
    """The class a saved process in ``folder`` names, or None when it holds none."""
    try:
        cfg = json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if isinstance(cfg, dict) and cfg.get("kind") == "process" and isinstance(cfg.get("class"), str):
        return cfg["class"]
    return None


def foreign_files(folder: Path) -> list[str]:
    """What ``folder`` holds besides the files a save writes (sorted names; hidden temporaries included)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in MODEL_FILES)


def _inside(a: Path, b: Path) -> bool:
    """Whether ``a`` is ``b`` or lies inside it (both resolved)."""
    return a == b or b in a.parents


def check_replaceable(folder) -> None:
    """Refuse to replace a folder that is not a saved process of nothing but a save's own files (the API's
    guard: ``save_pretrained("~/Documents")`` must never empty a user's folder)."""
    folder = Path(folder)
    if folder.is_file() or (folder.exists() and not folder.is_dir()):
        raise MediaError(f"{folder} is a file, not a folder: a model is saved as a folder; give a new folder name")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if saved_class(folder) is None:
        raise MediaError(f"{folder} is a folder that holds files and no saved model: saving there would replace "
                         "them. Choose a new or empty folder")
    extra = foreign_files(folder)
    if extra:
        raise MediaError(f"{folder} holds a saved model and other files ({', '.join(extra[:5])}): saving there "
                         "would delete them. Move them away or choose a new folder")


def check_model_output(output, data=(), *, force: bool = False, class_names=(), what: str = "-o") -> Path:
    """Check, before any training, that a model may be written to ``output`` (see the module's rules).

    ``data``: the training inputs (paths; other values are ignored); ``class_names``: the process classes of
    this family (a saved model of another family is never replaced); ``force``: replace a saved model."""
    out = Path(output).expanduser()
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if _inside(cwd, resolved):
        raise MediaError(f"{what} {output} is the current folder or one above it: a model is saved as a folder of "
                         "its own; give a new folder name (e.g. -o my_model)")
    for item in data if isinstance(data, (list, tuple)) else [data]:
        for path in _paths(item):
            src = path.resolve()
            if _inside(resolved, src) or _inside(src, resolved):
                raise ConfigError(f"{what} {output} is the training data {path} or lies inside or around it: "
                                  "saving there would replace the data. Write the model to another folder")
    if out.exists() and not out.is_dir():
        raise MediaError(f"{what} {output} is an existing file: a model is saved as a folder; give a new folder name")
    if out.is_dir() and any(out.iterdir()):
        found = saved_class(out)
        if found is None:
            raise MediaError(f"{what} {output} is a folder that holds other files and no saved model: training "
                             "would replace them. Give a new or empty folder")
        extra = foreign_files(out)
        if extra:
            raise MediaError(f"{what} {output} holds a saved model and other files ({', '.join(extra[:5])}): "
                             "replacing it would delete them. Move them away or choose a new folder")
        if class_names and found not in class_names:
            raise MediaError(f"{what} {output} holds a {found} model, not one of this trainer's "
                             f"({', '.join(class_names)}); choose another folder")
        if not force:
            raise MediaError(f"{what} {output} already holds a saved {found} model; pass --force to replace it "
                             "(or choose a new folder)")
    _probe(out, what)
    return out


def _paths(item) -> list[Path]:
    """The file-system paths a data argument names (``a.txt:0.7,b.txt:0.3`` specs included)."""
    if isinstance(item, os.PathLike):
        return [Path(item)]
    if not isinstance(item, str) or not item:
        return []
    if existing_path(item):
        return [Path(item)]
    names = (split_weight(part.strip())[0] for part in item.split(",") if part.strip())
    return [Path(name) for name in names if existing_path(name)]


def _probe(out: Path, what: str) -> None:
    """A file can be created where the model's folder will be made (permissions, read-only disks, full disk)."""
    from .atomic import check_writable

    folder = out if out.is_dir() else out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    check_writable(out, folder, what)
