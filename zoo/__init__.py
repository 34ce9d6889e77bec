"""The zoo: small trained processes shipped in this folder, loaded offline with their sha256 checked.

``xmedia.zoo.list()`` names them (``"av-perceptual@1"``), ``xmedia.zoo.load("av-perceptual")`` loads the
newest revision, ``load("av-perceptual@1")`` / ``load("av-perceptual", revision=1)`` a given one, and
``load(path)`` any folder written by ``process.save(dir)``. ``zoo/index.json`` (tagged ``"kind": "zoo-index"``)
lists every revision with the sha256 of its weights; both that and the sha256 in the process's own config.json
are checked, so a corrupt or swapped file raises ``WeightsError``. Every entry is also a route step
``zoo:<name>`` (``via="zoo:text-perceptual"``). Rebuild everything with ``python -m xmedia.zoo.build``.

Light to import: torch loads only when a process is loaded.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from xmedia.errors import ConfigError, WeightsError
from xmedia.routing import Step

ZOO_DIR = Path(__file__).resolve().parent
INDEX = ZOO_DIR / "index.json"
RECIPES = ZOO_DIR / "recipes"
INDEX_KIND, RECIPE_KIND = "zoo-index", "recipe"
STEP_COST = 0.2  # above the embedded perceptual steps (0.1 for text), so the defaults stay first


def _read_tagged(path: Path, kind: str, error: type[Exception], fix: str) -> dict:
    """A JSON object tagged ``"kind": kind`` (an untagged one is accepted), without its tag."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or data.get("kind", kind) != kind:
        found = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise error(f"{path} is not a {kind} (it holds {found!r}); {fix}")
    return {k: v for k, v in data.items() if k != "kind"}


def index() -> dict:
    """``{name: {revision: {"path", "sha256", "class", "description"[, "src", "dst"]}}}`` from zoo/index.json."""
    if not INDEX.is_file():
        return {}
    return _read_tagged(INDEX, INDEX_KIND, WeightsError, "rebuild it with python -m xmedia.zoo.build")


def index_entry(folder: Path, process, step: bool = True) -> dict:
    """The index entry of a process saved in ``folder`` (under zoo/): its path, weights' sha256, class and
    description; with ``step`` also its ``src``/``dst``, which make it a route step ``zoo:<name>``. Builders
    (``zoo/build*.py``) return these."""
    from xmedia.pretrained import WEIGHTS_NAME

    digest = hashlib.sha256((Path(folder) / WEIGHTS_NAME).read_bytes()).hexdigest()
    entry = {"path": Path(folder).resolve().relative_to(ZOO_DIR).as_posix(), "sha256": digest,
             "class": type(process).__name__, "description": process.card.get("description", "")}
    if step:
        entry.update(src=process.src, dst=process.dst)
    return entry


def list() -> list[str]:  # noqa: A001 - the name the API promises (xmedia.zoo.list())
    """Every shipped process as ``name@revision``."""
    return [f"{name}@{rev}" for name, revs in sorted(index().items()) for rev in sorted(revs, key=int)]


def info(name: str, revision: int | str | None = None) -> dict:
    """The index entry (class, description, sha256, path) of one shipped process."""
    name, revision = _parse(name, revision)
    revs = index().get(name)
    if not revs:
        raise WeightsError(f"no process named {name!r} in the zoo; available: {list()}")
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


def locate(name: str, revision: int | str | None = None) -> Path | None:
    """The folder of zoo entry ``name`` (``"violin"``, ``"av-perceptual@1"``) after checking its weights against
    zoo/index.json; None when the index has no such name (``xmedia.pretrained.locate`` then asks other zoos)."""
    from xmedia.pretrained import WEIGHTS_NAME

    if _parse(name, revision)[0] not in index():
        return None
    entry = info(name, revision)
    folder = ZOO_DIR / entry["path"]
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise WeightsError(f"{weights} is missing; rebuild the zoo with python -m xmedia.zoo.build")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise WeightsError(f"{weights} does not match zoo/index.json (sha256 {digest[:12]}... vs "
                           f"{entry['sha256'][:12]}...): the file is corrupt or was replaced; restore it or "
                           "rebuild with python -m xmedia.zoo.build")
    return folder


def load(name_or_path, revision: int | str | None = None):
    """A zoo process by name (``"text-perceptual"``, ``"av-perceptual@1"``) or any saved process folder."""
    # xmedia.process imports torch: loaded here, on first use, so that listing the zoo stays light
    from xmedia.pretrained import is_saved_process
    from xmedia.process import Process

    if is_saved_process(name_or_path):
        return Process.from_pretrained(name_or_path)
    folder = locate(str(name_or_path), revision)
    if folder is None:
        info(str(name_or_path), revision)  # raises the error that names what the zoo has
    return Process.from_pretrained(folder)


def recipe(name_or_path) -> dict:
    """A training recipe (tagged ``"kind": "recipe"``): a JSON file, or the name of one in zoo/recipes
    (``"av-perceptual"``)."""
    p = Path(name_or_path)
    if not p.is_file():
        p = RECIPES / f"{name_or_path}.json"
    if not p.is_file():
        names = sorted(x.stem for x in RECIPES.glob("*.json"))
        raise ConfigError(f"no recipe {name_or_path!r}: give a JSON file or one of {names}")
    return _read_tagged(p, RECIPE_KIND, ConfigError, "give a training recipe (zoo/recipes/*.json)")


class ZooProcess:
    """A route step's target: the zoo process ``name`` (newest revision), loaded on first use and called on the
    step's input; the options a route may pass are those of the process's ``run``."""

    def __init__(self, name: str):
        self.name, self._process = name, None

    @property
    def process(self):
        if self._process is None:
            self._process = load(self.name)
        return self._process

    @property
    def run(self):
        return self.process.run

    def __call__(self, x, **options):
        return self.process(x, **options)


def provide_steps() -> list[Step]:
    """One route step ``zoo:<name>`` per entry of zoo/index.json that has a ``src`` and a ``dst`` (a timbre or a
    text model is loaded by name and used through its own options instead)."""
    steps = []
    for name, revs in sorted(index().items()):  # index.json read once, not once per entry
        revision = max(revs, key=int)
        entry = revs[revision]
        if "src" not in entry or "dst" not in entry:
            continue
        summary = entry.get("description", "").split(". ")[0]
        steps.append(Step(f"zoo:{name}", entry["src"], entry["dst"], ZooProcess(name), cost=STEP_COST,
                          kind="bridge" if entry["src"].startswith("space:") else "encoder",
                          description=f"{entry['class']} {name}@{revision} (zoo): {summary}"))
    return steps
