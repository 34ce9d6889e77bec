"""The bridge zoo: small trained bridges shipped in this folder, loaded offline with their sha256 checked.

``xmedia.zoo.list()`` names them (``"av-perceptual@1"``), ``xmedia.zoo.load("av-perceptual")`` loads the
newest revision, ``load("av-perceptual@1")`` / ``load("av-perceptual", revision=1)`` a given one, and
``load(path)`` any folder written by ``bridge.save(dir)``. ``zoo/index.json`` lists every revision with the
sha256 of its weights; both that and the sha256 in the bridge's own config.json are checked, so a corrupt or
swapped file raises ``WeightsError``. Rebuild everything with ``python -m xmedia.zoo.build``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from xmedia.errors import WeightsError

ZOO_DIR = Path(__file__).resolve().parent
INDEX = ZOO_DIR / "index.json"
RECIPES = ZOO_DIR / "recipes"


def index() -> dict:
    """``{name: {revision: {"path", "sha256", "class", "description", ...}}}`` from zoo/index.json."""
    if not INDEX.is_file():
        return {}
    try:
        return json.loads(INDEX.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{INDEX} is not valid JSON ({exc}); rebuild it with python -m xmedia.zoo.build") from None


def list() -> list[str]:  # noqa: A001 - the name the API promises (xmedia.zoo.list())
    """Every shipped bridge as ``name@revision``."""
    return [f"{name}@{rev}" for name, revs in sorted(index().items()) for rev in sorted(revs, key=int)]


def info(name: str, revision: int | str | None = None) -> dict:
    """The index entry (class, description, sha256, path) of one shipped bridge."""
    name, revision = _parse(name, revision)
    revs = index().get(name)
    if not revs:
        raise WeightsError(f"no bridge named {name!r} in the zoo; available: {list()}")
    rev = str(revision) if revision is not None else max(revs, key=int)
    if rev not in revs:
        raise WeightsError(f"{name!r} has no revision {rev}; available: {sorted(revs, key=int)}")
    return {"name": name, "revision": int(rev), **revs[rev]}


def _parse(name: str, revision) -> tuple[str, int | str | None]:
    if "@" in name:
        name, rev = name.split("@", 1)
        if revision is not None and str(revision) != rev:
            raise WeightsError(f"conflicting revisions: {name}@{rev} and revision={revision}")
        revision = rev
    return name, revision


def path(name: str, revision: int | str | None = None) -> Path:
    return ZOO_DIR / info(name, revision)["path"]


def load(name_or_path, revision: int | str | None = None):
    """A zoo bridge by name (``"text-perceptual"``, ``"av-perceptual@1"``) or any saved bridge folder."""
    import xmedia.bridges  # noqa: F401 - registers the bridge classes from_pretrained looks up
    from xmedia.bridges.base import WEIGHTS_NAME, Bridge

    p = Path(name_or_path)
    if p.is_dir() and (p / "config.json").is_file():
        return Bridge.from_pretrained(p)
    entry = info(str(name_or_path), revision)
    folder = ZOO_DIR / entry["path"]
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise WeightsError(f"{weights} is missing; rebuild the zoo with python -m xmedia.zoo.build")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise WeightsError(f"{weights} does not match zoo/index.json (sha256 {digest[:12]}... vs "
                           f"{entry['sha256'][:12]}...): the file is corrupt or was replaced; restore it or "
                           "rebuild with python -m xmedia.zoo.build")
    return Bridge.from_pretrained(folder)


def recipe(name_or_path) -> dict:
    """A training recipe: a JSON file, or the name of one in zoo/recipes (``"av-perceptual"``)."""
    from xmedia.errors import ConfigError

    p = Path(name_or_path)
    if not p.is_file():
        p = RECIPES / f"{name_or_path}.json"
    if not p.is_file():
        names = sorted(x.stem for x in RECIPES.glob("*.json"))
        raise ConfigError(f"no recipe {name_or_path!r}: give a JSON file or one of {names}")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p} is not valid JSON ({exc})") from None


def register(registry) -> None:
    """Route steps for the shipped bridges that translate (the text bridge); costs keep the embedded defaults
    first, so ``via="zoo:text-perceptual"`` chooses it."""
    if "text-perceptual" not in index():
        return

    def factory():
        bridge = load("text-perceptual")
        return lambda x: bridge.embed(x)

    registry.register("zoo:text-perceptual", "text", "space:perceptual", factory, cost=0.2, kind="encoder",
                      description="learned words -> perceptual axes (hashed character n-grams + MLP, zoo)")
